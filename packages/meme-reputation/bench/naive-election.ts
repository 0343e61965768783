/**
 * The election written as literally as its definition, for comparison only: every meme gets its pool, every
 * seat-holding pool is fully sorted by the given key order, and the first `filled` of each are taken. The
 * benchmark uses it as the same-run baseline; the tests use it, with full SHA-256 keys, as the reference that
 * `electCommittee` must agree with.
 */
import { allocateSeats, bracketOrTie } from '../src/bracket.js'
import type { ElectionConfig } from '../src/election-config.js'
import { seatOffset, tieGoesUp } from '../src/hash.js'

export interface NaiveSeat {
  readonly memeId: string
  readonly bracket: number | 'newcomers'
  readonly rank: number
}

export function naiveElection(
  config: ElectionConfig,
  ids: readonly string[],
  scores: Float64Array,
  newcomers: Uint8Array,
  resultHash: Uint8Array,
  order: (a: number, b: number) => number,
): NaiveSeat[] {
  const B = config.bracketShares.length
  const members: number[][] = Array.from({ length: B + 1 }, () => [])
  ids.forEach((id, i) => {
    if (newcomers[i] !== 0) return void members[B]!.push(i)
    let b = bracketOrTie(scores[i] as number, B)
    if (b < 0) b = tieGoesUp(resultHash, id) ? -b - 1 : -b - 2
    members[b]!.push(i)
  })
  const allocation = allocateSeats(
    config,
    members.slice(0, B).map((m) => m.length),
    members[B]!.length,
    seatOffset(resultHash),
  )
  const filled = [...allocation.filled, allocation.newcomersFilled]
  const seats: NaiveSeat[] = []
  for (const p of [...Array.from({ length: B }, (_, k) => B - 1 - k), B]) {
    const sorted = [...members[p]!].sort(order)
    for (let rank = 0; rank < (filled[p] as number); rank++) {
      seats.push({ memeId: ids[sorted[rank] as number] as string, bracket: p === B ? 'newcomers' : p, rank })
    }
  }
  return seats
}
