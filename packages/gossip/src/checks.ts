/** Input checks shared by the network implementations, so both fail the same way on the same input. */
import { toHex } from '@constellation/crypto'
import { GossipError, GossipErrorCode } from './errors.js'
import type { NetworkLimits, PeerId } from './network.js'

const PEER_ID = /^[0-9a-f]{64}$/
// Topics and protocols are path-like names, as in libp2p: printable ASCII, bounded.
const NAME = /^\/[\x21-\x7e]{1,255}$/

export function checkPeerId(peer: unknown): asserts peer is PeerId {
  if (typeof peer !== 'string' || !PEER_ID.test(peer)) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `peer must be 64 lowercase hex characters, got ${String(peer).slice(0, 80)}`)
  }
}

export function checkName(kind: 'topic' | 'protocol', name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new GossipError(
      GossipErrorCode.INVALID_INPUT,
      `${kind} must start with "/" and be 2-256 printable ASCII characters, got ${JSON.stringify(name)?.slice(0, 80)}`,
    )
  }
}

export function checkPayload(data: unknown, limits: NetworkLimits, what: string): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `${what} must be a Uint8Array`)
  }
  if (data.length > limits.maxMessageBytes) {
    throw new GossipError(GossipErrorCode.MESSAGE_TOO_LARGE, `${what} is ${data.length} bytes, over the limit of ${limits.maxMessageBytes}`, {
      size: data.length,
      maxMessageBytes: limits.maxMessageBytes,
    })
  }
}

/** A request timeout: finite milliseconds above zero, at most a timer's range (about 24.8 days). */
export function checkTimeout(timeout: unknown): number {
  if (typeof timeout !== 'number' || !(timeout > 0) || timeout > 2_147_483_647) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `timeout must be a number of ms in (0, 2^31), got ${String(timeout)}`)
  }
  return timeout
}

/** Limits that count things must be whole numbers. */
const COUNT_LIMITS: readonly (keyof NetworkLimits)[] = ['maxMessageBytes', 'seenCacheSize', 'maxQueuedMessages', 'maxRejectsPerPeer']

export function resolveLimits(overrides: Partial<NetworkLimits> | undefined, defaults: NetworkLimits): NetworkLimits {
  const limits = { ...defaults, ...overrides }
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `limit ${name} must be a positive number, got ${String(value)}`)
    }
    if (COUNT_LIMITS.includes(name as keyof NetworkLimits) && !Number.isSafeInteger(value)) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `limit ${name} must be a whole number, got ${value}`)
    }
  }
  return Object.freeze(limits)
}

/** Content id of a gossip message: hex SHA-256 over the topic, a zero byte, and the data. */
export function messageId(sha256: (data: Uint8Array) => Uint8Array, topic: string, data: Uint8Array): string {
  const topicBytes = new TextEncoder().encode(topic)
  const input = new Uint8Array(topicBytes.length + 1 + data.length)
  input.set(topicBytes)
  input.set(data, topicBytes.length + 1)
  return toHex(sha256(input))
}
