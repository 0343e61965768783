/**
 * The election written as literally as its definition, for comparison only: every meme gets its pool, every
 * seat-holding pool is fully sorted by the given key order, and the first `filled` of each are taken. The
 * benchmark uses it as the same-run baseline; the tests use it, with full SHA-256 keys, as the reference that
 * `electCommittee` must agree with. Step 3's brackets and boundary tie-break are its own (boundaries compared as
 * the definition states them, the tie bit from node:crypto), so a bug in src/bracket.ts or src/hash.ts cannot
 * agree with itself here; the seat rounding is still the package's.
 */
import { allocateSeats } from '../src/bracket.js'
import type { ElectionConfig } from '../src/election-config.js'
import { seatOffset } from '../src/hash.js'
import { referenceTieGoesUp } from '../test/vectors/reference.js'

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
    const score = scores[i] as number
    // Bracket b holds [b/B, (b+1)/B), the top one also 1; a score equal to b/B (b >= 1) is a tie with b - 1.
    let b = 0
    while (b < B - 1 && score >= (b + 1) / B) b++
    if (b > 0 && score === b / B && !referenceTieGoesUp(resultHash, id)) b--
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
