/**
 * The `Network` interface: how every Constellation protocol talks to other nodes.
 *
 * Two kinds of traffic:
 *   - gossip: `publish(topic, data)` spreads a message to every subscribed node; each receiving node's handler
 *     returns a verdict — `accept` (deliver and forward), `ignore` (drop quietly) or `reject` (drop, do not forward,
 *     and count it against the peer that sent it);
 *   - request/response: `request(peer, protocol, data)` asks one peer and awaits its answer; `handle(protocol, fn)`
 *     answers.
 * Plus membership: `peers()`, join/leave events, and each peer's signed `ResourceAdvert` (what it offers: roles,
 * capacity, uptime, version), the raw material of memes; and `traffic()`, what the node has sent and received.
 *
 * Peer ids are the hex of the node's Ed25519 public key from @constellation/crypto. Messages are opaque bytes:
 * the protocols above encode and sign their own payloads, so the network neither signs nor trusts them. The
 * network does bound everything it carries (`NetworkLimits`), and callers batch: one message may carry many
 * items, because on a real transport the per-frame cost, not the per-byte cost, sets the pace.
 *
 * Implementations: `SimNetwork` (every node in one process on a virtual clock, seeded) and `Libp2pNetwork`
 * (js-libp2p over TCP). The conformance suite in test/conformance runs against both.
 */
import type { MessageNetwork, PeerId, Startable } from '@constellation/interface'
import type { ResourceAdvert, SignedResourceAdvert } from './advert/resource-advert.js'
import type { NetworkTraffic } from './network-traffic.js'

export type {
  GossipMessage,
  InboundRequest,
  MessageNetwork,
  PeerId,
  RequestHandler,
  RequestOptions,
  TopicHandler,
  Verdict,
} from '@constellation/interface'

export type NetworkEvent =
  | { readonly type: 'peer:join'; readonly peer: PeerId }
  | { readonly type: 'peer:leave'; readonly peer: PeerId }
  | { readonly type: 'peer:advert'; readonly peer: PeerId; readonly advert: SignedResourceAdvert }
  /** The peer's messages were rejected often enough that its traffic is now dropped for a while. */
  | { readonly type: 'peer:penalised'; readonly peer: PeerId; readonly rejects: number }

export type NetworkListener = (event: NetworkEvent) => void

/** A `MessageNetwork` (publish/subscribe, request/handle) with a lifetime, peers, adverts and traffic counts. */
export interface Network extends MessageNetwork, Startable {
  readonly limits: Readonly<NetworkLimits>

  /** Stops all traffic, aborts pending requests with `NETWORK_CLOSED`, and releases every handle. */
  stop(): Promise<void>

  /** The peers this node is connected to now. */
  peers(): PeerId[]
  addListener(listener: NetworkListener): () => void

  /** Signs and announces this node's advert; later calls replace it. */
  advertise(advert: ResourceAdvert): Promise<void>
  /** The latest valid advert seen from `peer` (this node's own included). */
  advertOf(peer: PeerId): SignedResourceAdvert | undefined

  /**
   * Messages and application bytes sent and received since the network was created, by kind (request, response,
   * gossip): a frozen snapshot. Application bytes are counted before the transport's own framing and encryption;
   * see network-traffic.ts for what each implementation counts.
   */
  traffic(): NetworkTraffic
}

/** Bounds every implementation enforces. */
export interface NetworkLimits {
  /** Largest gossip message, request or response (default 1 MiB). */
  readonly maxMessageBytes: number
  /** Gossip messages accepted from one neighbour per second before the rest are dropped (default 1,000). */
  readonly maxMessagesPerPeerPerSecond: number
  /** Requests served for one peer per second before it gets `RATE_LIMITED` (default 500). */
  readonly maxRequestsPerPeerPerSecond: number
  /** Message ids remembered for deduplication (default 65,536). */
  readonly seenCacheSize: number
  /**
   * Messages waiting to be sent before `publish` waits for room (default 4,096). On `Libp2pNetwork`, our own
   * publishes waiting for room beyond this fail with QUEUE_FULL.
   */
  readonly maxQueuedMessages: number
  /** Default request timeout in milliseconds (default 10,000). */
  readonly requestTimeoutMs: number
  /** Rejected messages from one peer, within `penaltyWindowMs`, before its traffic is dropped (default 20). */
  readonly maxRejectsPerPeer: number
  /** How long rejects count, and how long a penalised peer's traffic is then dropped (default 60,000 ms). */
  readonly penaltyWindowMs: number
}

export const DEFAULT_LIMITS: NetworkLimits = Object.freeze({
  maxMessageBytes: 1 << 20,
  maxMessagesPerPeerPerSecond: 1_000,
  maxRequestsPerPeerPerSecond: 500,
  seenCacheSize: 65_536,
  maxQueuedMessages: 4_096,
  requestTimeoutMs: 10_000,
  maxRejectsPerPeer: 20,
  penaltyWindowMs: 60_000,
})
