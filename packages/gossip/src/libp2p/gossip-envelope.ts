/**
 * The bytes Libp2pNetwork puts in a Gossipsub message: `topic || 0x00 || data`.
 *
 * Every Constellation topic travels on one Gossipsub topic (`GOSSIP_CARRIER_TOPIC`) with its own topic name
 * inside the envelope. That keeps the simulator's semantics on the real network: a node relays every topic,
 * subscribed or not, and a `subscribe` is a local filter that takes effect at once instead of racing a
 * subscription announcement across the network (in per-topic Gossipsub a message published right after a
 * peer subscribed is lost). The envelope is exactly the input of `messageId`, so the content id is the
 * SHA-256 of the envelope and Gossipsub's message id equals the `GossipMessage.id` handlers see.
 */
import { checkName } from '../checks.js'
import { GossipError, GossipErrorCode } from '../errors.js'

export const GOSSIP_CARRIER_TOPIC = '/constellation/gossip/1'

/** Topic names are 2–256 printable ASCII characters (see checkName), so the separator is within 257 bytes. */
const MAX_TOPIC_BYTES = 256

const encoder = new TextEncoder()
const decoder = new TextDecoder('ascii')

export interface GossipEnvelope {
  readonly topic: string
  readonly data: Uint8Array
}

/** Encodes a checked topic and payload. */
export function encodeGossipEnvelope(topic: string, data: Uint8Array): Uint8Array {
  const topicBytes = encoder.encode(topic)
  const envelope = new Uint8Array(topicBytes.length + 1 + data.length)
  envelope.set(topicBytes)
  envelope.set(data, topicBytes.length + 1)
  return envelope
}

/** Decodes wire bytes; throws MALFORMED when they are not an envelope with a valid topic name. */
export function decodeGossipEnvelope(bytes: unknown): GossipEnvelope {
  if (!(bytes instanceof Uint8Array)) throw new GossipError(GossipErrorCode.MALFORMED, 'gossip envelope is not bytes')
  const separator = bytes.subarray(0, MAX_TOPIC_BYTES + 1).indexOf(0)
  if (separator < 0) throw new GossipError(GossipErrorCode.MALFORMED, 'gossip envelope has no topic separator')
  const topic = decoder.decode(bytes.subarray(0, separator))
  try {
    checkName('topic', topic)
  } catch (cause) {
    throw new GossipError(GossipErrorCode.MALFORMED, 'gossip envelope has an invalid topic', {}, { cause })
  }
  // A plain copy: the wire bytes are a Node Buffer viewing a larger receive buffer.
  return { topic, data: new Uint8Array(bytes.subarray(separator + 1)) }
}
