/**
 * Brackets and seats. Bracket b of B holds scores in [b/B, (b+1)/B), the top one also 1. A score exactly on a
 * boundary b/B (a tie between two brackets) goes up or down by one bit of `H(tag || h_r || memeId)`.
 *
 * Seats: each bracket's quota is `bracketSeats * share`; the integer parts are given outright and the remaining
 * seats are placed by a systematic sample with an offset drawn from `h_r`, so bracket b receives
 * floor(quota) or ceil(quota) seats and exactly its quota on average over rounds (what the chi-square test
 * checks). Seats a pool cannot fill (fewer memes than seats) go to the highest brackets that still have memes,
 * then to newcomers: an established meme is never displaced by a newcomer beyond the floor.
 */
import type { ElectionConfig } from './election-config.js'

/** The bracket of a score not on a boundary, or `-(b + 1)` for a score exactly on the lower boundary of b >= 1. */
export function bracketOrTie(score: number, count: number): number {
  if (score >= 1) return count - 1
  let b = Math.floor(score * count)
  // The product can round across a boundary; compare with the boundaries themselves, as the definition does.
  if (b > 0 && score < b / count) b--
  else if (b < count - 1 && score >= (b + 1) / count) b++
  return b > 0 && score === b / count ? -(b + 1) : b
}

export interface SeatAllocation {
  /** Seats each bracket is due by the distribution (before vacant seats move). */
  readonly allocated: readonly number[]
  /** Seats each bracket fills. */
  readonly filled: readonly number[]
  readonly newcomersAllocated: number
  readonly newcomersFilled: number
}

/** One more seat for bracket `b`. */
function addSeat(seats: number[], b: number): void {
  const current = seats[b]
  // `b` is a bracket index and `seats` has one entry per bracket (assertElectionConfig refuses an empty
  // distribution), so a miss here is a bug in the caller, not bad input.
  if (current === undefined) throw new Error(`roundQuotas: no bracket ${b} among ${seats.length}`)
  seats[b] = current + 1
}

/** Quotas rounded by a systematic sample at `offset` in [0, 1). */
export function roundQuotas(total: number, shares: readonly number[], offset: number): number[] {
  const seats = shares.map((p) => Math.floor(total * p))
  const fractions = shares.map((p, b) => total * p - (seats[b] as number))
  const extra = total - seats.reduce((a, b) => a + b, 0)
  let placed = 0
  let point = offset
  let cumulative = 0
  for (let b = 0; b < shares.length && placed < extra; b++) {
    cumulative += fractions[b] as number
    // Each fraction is < 1, so at most one point falls in a bracket's interval.
    if (point < cumulative) {
      addSeat(seats, b)
      placed++
      point += 1
    }
  }
  // Rounding may leave the last point a hair beyond the cumulative sum: give it to the largest unrounded fraction.
  while (placed < extra) {
    let best = -1
    for (let b = 0; b < shares.length; b++) {
      if (seats[b] === Math.floor(total * (shares[b] as number)) && (best < 0 || (fractions[b] as number) > (fractions[best] as number))) best = b
    }
    addSeat(seats, best < 0 ? shares.length - 1 : best)
    placed++
  }
  return seats
}

export function allocateSeats(config: ElectionConfig, populations: readonly number[], newcomerPopulation: number, offset: number): SeatAllocation {
  const allocated = roundQuotas(config.bracketSeats, config.bracketShares, offset)
  const filled = allocated.map((a, b) => Math.min(a, populations[b] as number))
  const newcomersFilled0 = Math.min(config.newcomerSeats, newcomerPopulation)
  let vacant = config.seats - filled.reduce((a, b) => a + b, 0) - newcomersFilled0
  for (let b = filled.length - 1; b >= 0 && vacant > 0; b--) {
    const had = filled[b] as number
    const room = (populations[b] as number) - had
    const take = Math.min(room, vacant)
    filled[b] = had + take
    vacant -= take
  }
  const newcomersFilled = newcomersFilled0 + Math.min(vacant, newcomerPopulation - newcomersFilled0)
  return { allocated, filled, newcomersAllocated: config.newcomerSeats, newcomersFilled }
}
