/**
 * Typed errors of @constellation/gossip: every failure a `Network` reports is a `GossipError` with a `code`.
 */
import { CodedError } from '@constellation/interface'

export const GossipErrorCode = {
  /** An argument has the wrong type, length or range. */
  INVALID_INPUT: 'GOSSIP_INVALID_INPUT',
  /** A message or request is larger than the network's `maxMessageBytes`. */
  MESSAGE_TOO_LARGE: 'GOSSIP_MESSAGE_TOO_LARGE',
  /** A request got no response within its timeout. */
  TIMEOUT: 'GOSSIP_TIMEOUT',
  /** The caller's AbortSignal fired. */
  ABORTED: 'GOSSIP_ABORTED',
  /** The remote peer has no handler for the protocol. */
  UNKNOWN_PROTOCOL: 'GOSSIP_UNKNOWN_PROTOCOL',
  /** The remote handler threw; the message is the remote's. */
  REMOTE_ERROR: 'GOSSIP_REMOTE_ERROR',
  /** The peer cannot be reached (not connected, crashed, partitioned away). */
  PEER_UNREACHABLE: 'GOSSIP_PEER_UNREACHABLE',
  /** The remote refused the request because this peer exceeded its rate limit. */
  RATE_LIMITED: 'GOSSIP_RATE_LIMITED',
  /** A bounded queue is full and the caller asked not to wait. */
  QUEUE_FULL: 'GOSSIP_QUEUE_FULL',
  /** The network was stopped, or not started. */
  NETWORK_CLOSED: 'GOSSIP_NETWORK_CLOSED',
  /** Bytes from the wire do not decode. */
  MALFORMED: 'GOSSIP_MALFORMED',
} as const

export type GossipErrorCode = (typeof GossipErrorCode)[keyof typeof GossipErrorCode]

export class GossipError extends CodedError<GossipErrorCode> {
  override readonly name = 'GossipError'
}

export function isGossipError(error: unknown, code?: GossipErrorCode): error is GossipError {
  return error instanceof GossipError && (code === undefined || error.code === code)
}
