/**
 * A facilitator's round journal: what its round machine took in during the last rounds, kept so that a restarted
 * process resumes the round it was in — sending again exactly what it sent, deciding nothing anew — instead of
 * sitting the round out or equivocating.
 *
 * The machine is a pure function of its seed and the events it consumed, so the journal keeps those events, not
 * the messages they made it send: the proposal it made (chosen from a pool that a restart loses), and every round
 * frame it took in, in order, as the bytes that arrived. Replaying them into a fresh machine of the same seed
 * (`resumeRound`) rebuilds the same state — received messages included, so a committee whose every facilitator
 * restarted still holds what each had acknowledged — and the same messages to send, which go out again; the
 * duplicates are dropped by the receivers' machines. Frames that came before their round started are journalled
 * too (`early`), since they were acknowledged and their senders will not send them again.
 *
 * The shell (`RoundDriver`) appends a step's records before any message of that step leaves and before it
 * acknowledges the frames behind it, batching what arrives while a write is under way into the next write.
 */
import { encodeCanonical, equalBytes, toHex } from '@constellation/crypto'
import * as t from 'io-ts'
import { bytesOfLength, bytesUpTo, closedRecord, decodeWith, integerIn, PeerIdBytesCodec } from '../codec/fields.js'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { type FacilitatorRoundState, proposeJournalled, type RoundEffect, type RoundMessage, stepRound } from './facilitator-round.js'

/** One thing a round machine took in, or the seed it started from. */
export type RoundRecord =
  /** The machine of `round` started from the result `resultHash` of the round before (written once per round facilitated). */
  | { readonly type: 'seed'; readonly round: number; readonly resultHash: Uint8Array }
  /** The proposal this facilitator made (encoded). */
  | { readonly type: 'proposal'; readonly round: number; readonly value: Uint8Array }
  /** A round frame from `from`, as it arrived, driven into the machine. */
  | { readonly type: 'frame'; readonly round: number; readonly from: string; readonly bytes: Uint8Array }
  /** A round frame from `from` acknowledged before its round started; the round takes it in when it starts. */
  | { readonly type: 'early'; readonly round: number; readonly from: string; readonly bytes: Uint8Array }

/**
 * Where round records are kept. `append` is durable when it returns, or when its promise resolves: the shell sends
 * nothing that depends on the records before. `load` gives back every record kept, in the order appended; a store
 * that cannot read them back whole (a corrupt record, one cut short anywhere but at the very end) throws — an
 * INVALID_JOURNAL error or its own — rather than hand back a part. A record cut short at the very end was never
 * reported durable, so dropping it is safe.
 */
export interface RoundJournal {
  load(): readonly RoundRecord[] | Promise<readonly RoundRecord[]>
  append(records: readonly RoundRecord[]): void | Promise<void>
  /** The shell entered `round`: what `keptRecords` leaves out may go. Need not be durable. */
  prune(round: number): void | Promise<void>
}

/** Rounds kept behind the one a node is in: a store of certificates written behind the rounds may lack that many. */
export const JOURNAL_ROUNDS_BEHIND = 2

/**
 * The records a journal keeps once the node is in `round`: those of the last `JOURNAL_ROUNDS_BEHIND` rounds and
 * later, and — however old — those of the newest round this node facilitated, so the journal always knows the last
 * round it may have sent messages in (see `journalFloor`).
 */
export function keptRecords(records: readonly RoundRecord[], round: number): RoundRecord[] {
  const from = round - JOURNAL_ROUNDS_BEHIND
  let newest = 0
  for (const record of records) if (record.type === 'seed' && record.round > newest) newest = record.round
  const keep = newest === 0 ? from : Math.min(from, newest)
  return records.filter((record) => record.round >= keep)
}

/**
 * The lowest round whose records the journal still holds in full: below it the node may have sent messages it no
 * longer knows, so it must not facilitate those rounds again (it follows their certificates instead). Undefined
 * when the journal holds no round this node facilitated.
 */
export function journalFloor(records: readonly RoundRecord[]): number | undefined {
  let floor: number | undefined
  for (const record of records) if (record.type === 'seed' && (floor === undefined || record.round < floor)) floor = record.round
  return floor
}

export interface ResumedRound<I> {
  readonly state: FacilitatorRoundState<I>
  /** What the journalled events made the machine send: it sent it before the restart, or was about to; sent again. */
  readonly effects: readonly RoundEffect[]
  /** Frames acknowledged before the round started: taken in as new once the machine is back. */
  readonly early: readonly { readonly from: string; readonly bytes: Uint8Array }[]
}

/**
 * Rebuilds a facilitator's round from its journal: `machine` is a fresh machine of the round (`startRound` with the
 * seed the node holds), `records` the round's records in the order journalled, `readFrame` the messages of a
 * journalled frame. Throws INVALID_JOURNAL when the records name another seed or a frame no longer reads: resuming
 * then could contradict what was sent.
 */
export function resumeRound<I>(
  machine: FacilitatorRoundState<I>,
  records: readonly RoundRecord[],
  readFrame: (bytes: Uint8Array) => readonly RoundMessage[],
): ResumedRound<I> {
  let state = machine
  const effects: RoundEffect[] = []
  const early: { from: string; bytes: Uint8Array }[] = []
  for (const record of records) {
    if (record.round !== machine.round) throw invalid(`a record of round ${record.round} in the journal of round ${machine.round}`)
    switch (record.type) {
      case 'seed':
        if (!equalBytes(record.resultHash, machine.config.seed.resultHash)) {
          throw invalid(`round ${machine.round} was journalled from another seed (${toHex(record.resultHash).slice(0, 16)}…) than the certified one`)
        }
        break
      case 'proposal': {
        const stepped = proposeJournalled(state, record.value)
        state = stepped.state
        effects.push(...stepped.effects)
        break
      }
      case 'frame': {
        let messages: readonly RoundMessage[]
        try {
          messages = readFrame(record.bytes)
        } catch (cause) {
          throw invalid(`a journalled frame of round ${machine.round} no longer reads`, cause)
        }
        for (const message of messages) {
          const stepped = stepRound(state, { type: 'message', from: record.from, message })
          state = stepped.state
          effects.push(...stepped.effects)
        }
        break
      }
      case 'early':
        early.push({ from: record.from, bytes: record.bytes })
        break
    }
  }
  return { state, effects, early }
}

function invalid(message: string, cause?: unknown): ConsensusError {
  return new ConsensusError(ConsensusErrorCode.INVALID_JOURNAL, message, {}, cause === undefined ? undefined : { cause })
}

// ---- the records' encoding (for journals kept as bytes) ----

/** Bytes of one encoded record at most: a round frame fits in one network message. */
export const MAX_ROUND_RECORD_BYTES = 16 << 20

const RecordRound = integerIn(1, Number.MAX_SAFE_INTEGER, 'Round')
const RecordBytes = bytesUpTo(MAX_ROUND_RECORD_BYTES, 'RecordBytes')
const RoundRecordCodec = t.union([
  closedRecord('SeedRecord', { type: t.literal('seed'), round: RecordRound, resultHash: bytesOfLength(32, 'ResultHash') }),
  closedRecord('ProposalRecord', { type: t.literal('proposal'), round: RecordRound, value: RecordBytes }),
  closedRecord('FrameRecord', { type: t.literal('frame'), round: RecordRound, from: PeerIdBytesCodec, bytes: RecordBytes }),
  closedRecord('EarlyRecord', { type: t.literal('early'), round: RecordRound, from: PeerIdBytesCodec, bytes: RecordBytes }),
])

export function encodeRoundRecord(record: RoundRecord): Uint8Array {
  return encodeCanonical(RoundRecordCodec.encode(record))
}

/** Decodes one record (canonical CBOR, shape checked); MALFORMED_MESSAGE when it is not one. */
export function decodeRoundRecord(bytes: Uint8Array): RoundRecord {
  return decodeWith(RoundRecordCodec, bytes, MAX_ROUND_RECORD_BYTES + 256, 'round record')
}
