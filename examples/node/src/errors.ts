/**
 * The node's typed errors. Every failure a user can cause (a bad config, a missing key, a bad request) is a
 * `NodeError` with a code, so the CLI prints a clear message and the HTTP API maps it to a status.
 */
import { CodedError } from '@constellation/interface'

export enum NodeErrorCode {
  INVALID_CONFIG = 'INVALID_CONFIG',
  INVALID_GENESIS = 'INVALID_GENESIS',
  NOT_A_MEMBER = 'NOT_A_MEMBER',
  NOT_INITIALISED = 'NOT_INITIALISED',
  ALREADY_INITIALISED = 'ALREADY_INITIALISED',
  DATA_DIR_LOCKED = 'DATA_DIR_LOCKED',
  NODE_CLOSED = 'NODE_CLOSED',
  INVALID_REQUEST = 'INVALID_REQUEST',
  NOT_FOUND = 'NOT_FOUND',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  REJECTED = 'REJECTED',
  UNAVAILABLE = 'UNAVAILABLE',
  /** Final in its solar system, not yet committed by the root. */
  NOT_ROOTED = 'NOT_ROOTED',
}

export class NodeError extends CodedError<NodeErrorCode> {
  override readonly name = 'NodeError'
}

export function isNodeError(error: unknown, code?: NodeErrorCode): error is NodeError {
  return error instanceof NodeError && (code === undefined || error.code === code)
}
