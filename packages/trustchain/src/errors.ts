/**
 * Typed errors of @constellation/trustchain.
 *
 * Every failure the package reports is a `TrustChainError` whose `code` says what went wrong, so that callers
 * (and the protocol engine, which must never crash on bad input) branch on the code instead of parsing messages.
 */
import { CodedError } from '@constellation/interface'

export const TrustChainErrorCode = {
  /** An argument has the wrong type, length or range. */
  INVALID_INPUT: 'TRUSTCHAIN_INVALID_INPUT',
  /** Encoded block bytes exceed the maximum block size. */
  BLOCK_TOO_LARGE: 'TRUSTCHAIN_BLOCK_TOO_LARGE',
  /** The encoded payload exceeds the maximum payload size. */
  PAYLOAD_TOO_LARGE: 'TRUSTCHAIN_PAYLOAD_TOO_LARGE',
  /** The bytes are not canonical CBOR, or not the shape of a half-block. */
  MALFORMED_BLOCK: 'TRUSTCHAIN_MALFORMED_BLOCK',
  /** A protocol message is not canonical CBOR or not one of the known message shapes. */
  MALFORMED_MESSAGE: 'TRUSTCHAIN_MALFORMED_MESSAGE',
  /** A block was rejected by validation; `detail.reasons` lists why. */
  INVALID_BLOCK: 'TRUSTCHAIN_INVALID_BLOCK',
  /**
   * The block carries value whose rules cannot be checked yet: a transfer whose earlier blocks are unknown, or an
   * agreement whose proposal is unknown. Retriable: `detail.missing` names the block to fetch first
   * (`publicKey` hex, `sequenceNumber`).
   */
  MISSING_DEPENDENCY: 'TRUSTCHAIN_MISSING_DEPENDENCY',
  /** A fraud proof does not prove fraud (same block twice, different keys, bad signatures...). */
  INVALID_FRAUD_PROOF: 'TRUSTCHAIN_INVALID_FRAUD_PROOF',
  /** Two checkpoint blocks do not delimit a fragment of one chain. */
  INVALID_FRAGMENT: 'TRUSTCHAIN_INVALID_FRAGMENT',
  /** A payload type is registered twice, or a block uses a type nobody registered. */
  PAYLOAD_TYPE_CONFLICT: 'TRUSTCHAIN_PAYLOAD_TYPE_CONFLICT',
  /** The store's data on disk cannot be decoded. */
  STORE_CORRUPT: 'TRUSTCHAIN_STORE_CORRUPT',
  /** The store was used after `close()`. */
  STORE_CLOSED: 'TRUSTCHAIN_STORE_CLOSED',
  /** The counterparty refused to countersign (policy or validation). */
  PROPOSAL_REJECTED: 'TRUSTCHAIN_PROPOSAL_REJECTED',
  /** No agreement arrived before the proposal's deadline. */
  PROPOSAL_TIMEOUT: 'TRUSTCHAIN_PROPOSAL_TIMEOUT',
  /** The node was stopped while the operation was under way. */
  NODE_STOPPED: 'TRUSTCHAIN_NODE_STOPPED',
  /** A transfer was refused before anything was signed: it would spend more than the chain may (`detail.available`). */
  INSUFFICIENT_FUNDS: 'TRUSTCHAIN_INSUFFICIENT_FUNDS',
  /**
   * A transfer was refused before anything was signed because the node is at a bound (unanswered proposals, blocks
   * not yet certified); retriable after `detail.retryAfterMs`.
   */
  BUSY: 'TRUSTCHAIN_BUSY',
} as const

export type TrustChainErrorCode = (typeof TrustChainErrorCode)[keyof typeof TrustChainErrorCode]

export class TrustChainError extends CodedError<TrustChainErrorCode> {
  override readonly name = 'TrustChainError'
}

export function isTrustChainError(error: unknown, code?: TrustChainErrorCode): error is TrustChainError {
  return error instanceof TrustChainError && (code === undefined || error.code === code)
}
