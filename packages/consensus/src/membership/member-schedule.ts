/**
 * Epoch changes of one solar system, as its nodes learn them from the membership the root certified: "from round
 * E on, the members are M" (`membersOf(assignment, group)` of a membership round). A `SolarSystemNode` consults its
 * schedule after each certified round and, two rounds ahead of an epoch, schedules the switch into its state
 * (`scheduleMembers`), so every honest node that holds the same schedule switches at the same boundary.
 *
 * The schedule must be the same on every honest node by the time any of them certifies round `E - 2`: an epoch is
 * added for a round far enough ahead of the solar system (`add` refuses rounds it was already asked about).
 */
import { ConsensusError, ConsensusErrorCode } from '../errors.js'

export interface MemberSchedule {
  /** The member set from round `round` on, when an epoch starts at that round (undefined otherwise). */
  membersFrom(round: number): readonly string[] | undefined
  /**
   * For a schedule learned as the solar system runs (`EpochFollower`): undefined when every epoch up to `round` is
   * known, else a promise that resolves once it is. A node asks before it schedules round `round`, and waits.
   */
  untilSettled?(round: number): Promise<void> | undefined
}

export class EpochSchedule implements MemberSchedule {
  readonly #epochs = new Map<number, readonly string[]>()
  /** The highest round asked about: an epoch for it or an earlier round could no longer switch every node alike. */
  #asked = 0

  /** Adds the epoch that starts at `fromRound` (>= 2: round 1's members are the genesis's). */
  add(fromRound: number, members: readonly string[]): void {
    if (!(Number.isSafeInteger(fromRound) && fromRound >= 2)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'an epoch starts at round 2 or later')
    if (fromRound <= this.#asked)
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `round ${fromRound} is too close: nodes have scheduled up to round ${this.#asked}`)
    if (this.#epochs.has(fromRound)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `an epoch starts at round ${fromRound} already`)
    this.#epochs.set(fromRound, Object.freeze([...members].sort()))
  }

  membersFrom(round: number): readonly string[] | undefined {
    this.#asked = Math.max(this.#asked, round)
    return this.#epochs.get(round)
  }
}
