/**
 * Typed errors of @constellation/consensus.
 *
 * The protocol state machines never throw on what the network delivers (a Byzantine peer's garbage is dropped and
 * counted, not raised); these errors report misuse of the API and proofs or certificates that do not check out, so
 * callers branch on `code` instead of parsing messages.
 */
import { CodedError } from '@constellation/interface'

export const ConsensusErrorCode = {
  /** An argument has the wrong type, length or range. */
  INVALID_INPUT: 'CONSENSUS_INVALID_INPUT',
  /** The facilitator set cannot tolerate the stated faults (n < 3t + 1), or holds duplicates. */
  INVALID_COMMITTEE: 'CONSENSUS_INVALID_COMMITTEE',
  /** Bytes from the network or disk are not canonical CBOR, not the expected shape, or too large. */
  MALFORMED_MESSAGE: 'CONSENSUS_MALFORMED_MESSAGE',
  /** A checkpoint certificate lacks 2t + 1 valid signatures of the round's facilitators. */
  INVALID_CERTIFICATE: 'CONSENSUS_INVALID_CERTIFICATE',
  /** A certificate does not follow from the certificates the verifier trusts (wrong round, group or committee). */
  UNKNOWN_COMMITTEE: 'CONSENSUS_UNKNOWN_COMMITTEE',
  /** An agreement proof does not prove finality; `detail.reason` says which check failed. */
  INVALID_AGREEMENT_PROOF: 'CONSENSUS_INVALID_AGREEMENT_PROOF',
  /** The transaction is not final yet, or its halves are unknown here. */
  NOT_FINAL: 'CONSENSUS_NOT_FINAL',
  /** The node was stopped while the operation was under way. */
  STOPPED: 'CONSENSUS_STOPPED',
  /** Waiting for finality was aborted or timed out. */
  ABORTED: 'CONSENSUS_ABORTED',
  /**
   * A round journal cannot be resumed from: its records do not decode, are cut short in the middle, or belong to
   * another seed than the round's. Resuming from it could send messages that conflict with those sent before.
   */
  INVALID_JOURNAL: 'CONSENSUS_INVALID_JOURNAL',
} as const

export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode]

export class ConsensusError extends CodedError<ConsensusErrorCode> {
  override readonly name = 'ConsensusError'
}

export function isConsensusError(error: unknown, code?: ConsensusErrorCode): error is ConsensusError {
  return error instanceof ConsensusError && (code === undefined || error.code === code)
}
