/**
 * Election parameters: how many seats, the brackets (fixed-width score intervals) and the distribution giving
 * each bracket its share of the seats, and the newcomer floor (the share of seats reserved for memes too young
 * to have a reputation, which is also the most that any number of fresh ids can take).
 */
import { assertArray, assertInteger, assertObject, assertRange } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'

export interface ElectionConfigSpec {
  /** Committee size. */
  readonly seats: number
  /**
   * One share per bracket, lowest scores first: bracket b holds scores in [b/B, (b+1)/B) (the top bracket also
   * holds 1). Non-negative, positive sum; they are normalised to sum to 1.
   */
  readonly bracketShares: readonly number[]
  /**
   * Newcomer floor in [0, 1): `ceil(newcomerShare * seats)` seats go to newcomers whenever there are any (a
   * product within 1e-9 of an integer is that integer, so 0.07 of 100 seats is 7, not 8 by float rounding).
   */
  readonly newcomerShare: number
  /**
   * A meme is a newcomer while `round - firstSeenRound < newcomerAgeRounds`. At least 2, so that every id that
   * can have been chosen after `h_{r-1}` was published is a newcomer in the election that sorts by it.
   */
  readonly newcomerAgeRounds: number
}

export interface ElectionConfig extends ElectionConfigSpec {
  /** Shares normalised to sum to 1. */
  readonly bracketShares: readonly number[]
  readonly newcomerSeats: number
  /** `seats - newcomerSeats`: the seats the bracket distribution divides. */
  readonly bracketSeats: number
}

export const MAX_BRACKETS = 1000
export const MAX_SEATS = 100_000

const checkedConfigs = new WeakSet<object>()

function configError(message: string): MemeReputationError {
  return new MemeReputationError(MemeReputationErrorCode.INVALID_ELECTION_CONFIG, message)
}

/**
 * `ceil(share * seats)` for the share as the caller wrote it: a decimal share such as 0.07 is stored as a
 * slightly larger double, so the plain product (7.000000000000001 for 100 seats) would round up a seat too
 * many. Products within 1e-9 of an integer count as that integer: with at most MAX_SEATS seats a share's
 * binary rounding moves the product by less than 1e-11, and no meaningful share asks for 1e-9 of a seat.
 */
function ceilOfShare(share: number, seats: number): number {
  const product = share * seats
  const nearest = Math.round(product)
  return Math.abs(product - nearest) <= 1e-9 ? nearest : Math.ceil(product)
}

export function defineElectionConfig(spec: ElectionConfigSpec): ElectionConfig {
  const code = MemeReputationErrorCode.INVALID_ELECTION_CONFIG
  assertObject(spec, 'election config', code)
  assertInteger(spec.seats, 'config.seats', 1, MAX_SEATS, code)
  assertArray(spec.bracketShares, 'config.bracketShares', code)
  if (spec.bracketShares.length === 0 || spec.bracketShares.length > MAX_BRACKETS) {
    throw configError(`config.bracketShares must have 1 to ${MAX_BRACKETS} brackets`)
  }
  let total = 0
  spec.bracketShares.forEach((share, b) => {
    if (typeof share !== 'number' || !Number.isFinite(share) || share < 0) {
      throw configError(`config.bracketShares[${b}] must be a finite number >= 0`)
    }
    total += share
  })
  if (!(total > 0)) throw configError('config.bracketShares must have a positive sum')
  assertRange(spec.newcomerShare, 'config.newcomerShare', 0, 1 - Number.EPSILON, code)
  assertInteger(spec.newcomerAgeRounds, 'config.newcomerAgeRounds', 2, Number.MAX_SAFE_INTEGER, code)
  const newcomerSeats = Math.min(spec.seats, ceilOfShare(spec.newcomerShare, spec.seats))
  const config: ElectionConfig = Object.freeze({
    seats: spec.seats,
    bracketShares: Object.freeze(spec.bracketShares.map((s) => s / total)),
    newcomerShare: spec.newcomerShare,
    newcomerAgeRounds: spec.newcomerAgeRounds,
    newcomerSeats,
    bracketSeats: spec.seats - newcomerSeats,
  })
  checkedConfigs.add(config)
  return config
}

export function assertElectionConfig(value: unknown): asserts value is ElectionConfig {
  if (typeof value !== 'object' || value === null || !checkedConfigs.has(value)) {
    throw configError('config must be made by defineElectionConfig')
  }
}
