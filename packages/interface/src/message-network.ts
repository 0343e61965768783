/**
 * The part of a network that protocols speak through: gossip with verdicts, and request/response.
 *
 * - gossip: `publish(topic, data)` spreads a message to every subscribed node; each receiving node's handler returns
 *   a verdict — `accept` (deliver and forward), `ignore` (drop quietly) or `reject` (drop, do not forward, and count
 *   it against the peer that sent it);
 * - request/response: `request(peer, protocol, data)` asks one peer and awaits its answer; `handle(protocol, fn)`
 *   answers.
 *
 * Messages are opaque bytes: protocols encode and sign their own payloads, so the network neither signs nor trusts
 * them. A protocol that needs only this much (the TrustChain messenger, for one) takes a `MessageNetwork`;
 * @constellation/gossip's `Network` extends it with a lifetime, peers, adverts and traffic counts.
 */
import type { PeerId } from './peer-id.js'

export type Verdict = 'accept' | 'ignore' | 'reject'

export interface GossipMessage {
  readonly topic: string
  readonly data: Uint8Array
  /** The neighbour that delivered the message (not necessarily its author). */
  readonly from: PeerId
  /** Content id: hex SHA-256 of topic and data; equal messages are delivered once. */
  readonly id: string
}

export type TopicHandler = (message: GossipMessage) => Verdict | Promise<Verdict>

export interface InboundRequest {
  readonly from: PeerId
  readonly protocol: string
  readonly data: Uint8Array
  /** Aborted when the network stops or the requester gives up. */
  readonly signal: AbortSignal
}

export type RequestHandler = (request: InboundRequest) => Uint8Array | Promise<Uint8Array>

export interface RequestOptions {
  /** Milliseconds to wait for the response (default: the network's `requestTimeoutMs`). */
  readonly timeout?: number
  readonly signal?: AbortSignal
}

export interface MessageNetwork {
  /** This node's id. */
  readonly peerId: PeerId
  /** Spreads `data` to every node subscribed to `topic` (not to this node's own handlers). */
  publish(topic: string, data: Uint8Array): Promise<void>
  /** Receives the topic's messages; returns the function that unsubscribes. */
  subscribe(topic: string, handler: TopicHandler): () => void
  request(peer: PeerId, protocol: string, data: Uint8Array, options?: RequestOptions): Promise<Uint8Array>
  /** Answers `protocol`; one handler per protocol; returns the function that removes it. */
  handle(protocol: string, handler: RequestHandler): () => void
}
