/**
 * When a member appends a checkpoint block. A checkpoint in every round made idle chains grow forever (1,304 blocks
 * in 17 minutes on an idle node, almost all of them checkpoints), and every counterparty and facilitator then had
 * them to store and crawl. So a member checkpoints when its chain moved since its last checkpoint, and otherwise
 * only every `idleCheckpointRounds` rounds (which keeps its anchor, and the memes' uptime, from going stale); in the
 * rounds between it sends the facilitators an idle notice, which lets a round start without waiting for it.
 *
 * Pure: the shell reads the own stretch (the blocks after the certified checkpoint) and acts on the answer.
 */
import { CheckpointPayloadCodec, type HalfBlock } from '@constellation/trustchain'

/**
 *   checkpoint  append a checkpoint block and submit the stretch it closes;
 *   resubmit    the stretch already ends in a checkpoint the facilitators can still take (one not certified yet,
 *               most often because it came after they proposed): submit it again, to facilitators that lack it
 *               (those that hold it count it as heard from);
 *   idle        nothing to checkpoint: tell the facilitators not to wait.
 */
export type CheckpointStep = 'checkpoint' | 'resubmit' | 'idle'

export interface CheckpointCadence {
  /** The own blocks after the own certified checkpoint (the whole chain when none is certified yet). */
  readonly stretch: readonly HalfBlock[]
  /** The last certified round. */
  readonly round: number
  /** The round that certified the own last checkpoint (0 when none did). */
  readonly anchorRound: number
  /** Rounds an idle member goes between checkpoints (1: every round). */
  readonly idleCheckpointRounds: number
  /** How old a result a checkpoint may record (the rules' `maxCheckpointAgeRounds`). */
  readonly maxCheckpointAgeRounds: number
  /** Fork reports wait to go out: they ride on a submission, so an idle member checkpoints to send them. */
  readonly reporting?: boolean
}

export function checkpointStep(cadence: CheckpointCadence): CheckpointStep {
  const { stretch, round } = cadence
  const last = stretch.at(-1)
  if (cadence.reporting === true) return 'checkpoint'
  if (last === undefined) {
    // A member with no checkpoint certified yet (one admitted later, its chain empty) makes itself known at once.
    if (cadence.anchorRound === 0) return 'checkpoint'
    // This checkpoint would be for round `round + 1`: every `idleCheckpointRounds`-th round after the one that certified the last.
    return round + 1 - cadence.anchorRound >= cadence.idleCheckpointRounds ? 'checkpoint' : 'idle'
  }
  // Transfers (or the genesis block) after the last checkpoint: they wait for a checkpoint to be final.
  if (last.type !== 'checkpoint') return 'checkpoint'
  // A checkpoint closes the stretch but is not certified yet: the facilitators of the next round take it while the
  // result it records is young enough; past that, a new one.
  return round - recordedRound(last) < cadence.maxCheckpointAgeRounds ? 'resubmit' : 'checkpoint'
}

/** The round a checkpoint block records (Infinity for a payload that is not a checkpoint's: held, then discarded by the next round's check). */
export function recordedRound(block: HalfBlock): number {
  const payload = CheckpointPayloadCodec.decode(block.payload)
  return payload._tag === 'Right' ? payload.right.round : Number.POSITIVE_INFINITY
}
