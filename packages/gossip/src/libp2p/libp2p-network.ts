/**
 * `Libp2pNetwork`: the `Network` of real nodes on real machines, on js-libp2p 3 (TCP + Noise + Yamux +
 * Gossipsub + identify).
 *
 * Data flow:
 *   - gossip: `publish` wraps topic and data in a gossip envelope and hands it to Gossipsub on one carrier topic
 *     (see gossip-envelope.ts for why one). Gossipsub does not sign (`StrictNoSign`: payloads are signed by
 *     their authors) and names a message by the SHA-256 of its envelope, which is `messageId`. Each arriving
 *     RPC is first screened, before Gossipsub's dedupe: the messages of penalised or over-rate neighbours are dropped
 *     and oversize ones rejected. Each remaining message goes through an async topic validator: duplicates are
 *     dropped, then the local handlers of the message's topic judge it and their combined verdict becomes
 *     Gossipsub's Accept (deliver on), Ignore or Reject (not forwarded; counted against the neighbour in the
 *     `PenaltyBox`, which emits `peer:penalised`).
 *   - request/response: one libp2p protocol, `REQUEST_PROTOCOL`, with one long-lived stream per peer and
 *     direction carrying many requests at once (request-channel.ts, request-responder.ts).
 *   - membership: libp2p's peer connect/disconnect events are `peer:join`/`peer:leave`; signed resource adverts
 *     ride on the network's own operations through `attachAdvertExchange`, as on the simulator.
 * The libp2p identity is the node's Ed25519 key, so a libp2p PeerId and a `Network` peer id name the same node.
 * `traffic()` counts the application bytes of all three: request/response frames as written to and read from the
 * streams, and Gossipsub message payloads as sent to and received from each neighbour (network-traffic.ts).
 */
import { setMaxListeners } from 'node:events'
import { type Crypto, equalBytes, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import { gossipsub, type GossipSub, type GossipSubComponents, type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import type { RPC } from '@libp2p/gossipsub/message'
import { identify } from '@libp2p/identify'
import { type Connection, type Libp2p, NotFoundError, type PeerId as Libp2pPeerId, type PeerInfo, type PeerRouting, type Stream } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { type AdvertExchange, attachAdvertExchange } from '../advert/advert-exchange.js'
import { AdvertBook } from '../advert/advert-book.js'
import type { ResourceAdvert, SignedResourceAdvert } from '../advert/resource-advert.js'
import { checkName, checkPayload, checkPeerId, resolveLimits } from '../checks.js'
import { type Clock, systemClock } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import { PenaltyBox } from '../limits/penalty-box.js'
import { PeerRateLimiter } from '../limits/rate-limiter.js'
import { SeenCache } from '../limits/seen-cache.js'
import { Listeners } from '../listeners.js'
// Registrations are kept as on the simulator, so both networks judge and dispatch alike.
import { RequestHandlers, TopicSubscriptions } from '../registrations.js'
import {
  DEFAULT_LIMITS,
  type Network,
  type NetworkEvent,
  type NetworkLimits,
  type NetworkListener,
  type InboundRequest,
  type PeerId,
  type RequestHandler,
  type RequestOptions,
  type TopicHandler,
  type Verdict,
} from '../network.js'
import { type NetworkTraffic, TrafficCounter } from '../network-traffic.js'
import { decodeGossipEnvelope, encodeGossipEnvelope, GOSSIP_CARRIER_TOPIC } from './gossip-envelope.js'
import {
  decodePeerExchangeQuery,
  decodePeerRecords,
  encodePeerExchangeQuery,
  encodePeerRecords,
  MAX_EXCHANGED_RECORDS,
  MAX_PEER_RECORD_BYTES,
  PEER_EXCHANGE_PROTOCOL,
  type PeerExchangeQuery,
} from './peer-exchange.js'
import { boundDialOptions, checkAnnounce, checkDialFrom, type ListenerAddresses, listenerAddresses } from './node-addresses.js'
import { libp2pIdOf, libp2pKeyOf, networkIdOf } from './peer-identity.js'
import { installPromiseWithResolvers } from './promise-with-resolvers.js'
import { RequestChannel } from './request-channel.js'
import { FRAME_OVERHEAD_BYTES, REQUEST_PROTOCOL } from './request-frame.js'
import { serveRequestStream } from './request-responder.js'
import { drained } from './stream-drain.js'

installPromiseWithResolvers()

export interface Libp2pNetworkOptions {
  readonly crypto: Crypto
  /** The node's identity; its public key is the peer id, and its libp2p key is built from the seed. */
  readonly keyPair: KeyPair
  /** Multiaddrs to listen on (default `/ip4/127.0.0.1/tcp/0`: loopback, an OS-chosen port). */
  readonly listen?: readonly string[]
  /** Multiaddrs (ending in `/p2p/<libp2p id>`) dialled once at start; failures are not fatal (see `dial`). */
  readonly bootstrap?: readonly string[]
  /**
   * Multiaddrs announced to peers instead of the listen addresses (libp2p's `addresses.announce`), for a node reached
   * through a proxy, a port forward or a NAT mapping: identify, the signed peer record that peer exchange passes on
   * and `listenAddresses()` then carry these only, never the bound ones (default: none, the listen addresses are
   * announced). At most 16; one naming a `/p2p/` id must name this node.
   */
  readonly announce?: readonly string[]
  /**
   * An IPv4 or IPv6 address every outgoing TCP connection is bound to (`localAddress` of `net.connect`), so that the
   * dialled side sees this node come from it (default: the OS chooses per route). It must be an address of this
   * machine, and dials to addresses of the other IP family fail.
   */
  readonly dialFrom?: string
  readonly limits?: Partial<NetworkLimits>
  /** Time for request timeouts and limits (default: the system clock). */
  readonly clock?: Clock
  readonly gossip?: Partial<GossipTuning>
  /** New inbound connections accepted per second from one host (libp2p's default of 5 starves local devnets). */
  readonly inboundConnectionThreshold?: number
  /** Inbound connections still upgrading at once (libp2p's default is 10). */
  readonly maxIncomingPendingConnections?: number
  /**
   * IP addresses exempt from Gossipsub's penalty for many peers behind one address (default: the loopback
   * addresses). The penalty guards against Sybils sharing a host on the internet; a devnet puts every node on
   * 127.0.0.1, where past ~10 peers it would make each node ignore all of them.
   */
  readonly ipColocationWhitelist?: readonly string[]
  /**
   * Which peers learnt through peer exchange (peer-exchange.ts) to connect to at once (default: none; every learnt
   * peer can still be reached by id, connected on demand). The full node connects to the facilitators.
   */
  readonly connectToDiscovered?: (peer: PeerId) => boolean
}

/** Gossipsub settings worth changing. The defaults are Gossipsub's, but for a shorter heartbeat (700 ms, as
 * Ethereum's consensus clients use, against 1 s) so that meshes form sooner after peers connect. */
export interface GossipTuning {
  /** Milliseconds between Gossipsub heartbeats (mesh upkeep and lazy gossip; default 700). */
  readonly heartbeatIntervalMs: number
  /** Target mesh degree D; Dlo = D - 2 and Dhi = 2 D (default 6). */
  readonly meshDegree: number
  /**
   * Longest a `publish` waits for a neighbour's backed-up gossip stream to drain (default 1,000 ms). A neighbour
   * still backed up then is passed over until it drains: Gossipsub buffers for it, up to its own cap, so one
   * stalled neighbour cannot hold up publishing to the others.
   */
  readonly publishWaitMs: number
}

const DEFAULT_GOSSIP: GossipTuning = { heartbeatIntervalMs: 700, meshDegree: 6, publishWaitMs: 1_000 }
/** Requests one node may have outstanding to one peer before more wait for room. */
const MAX_REQUESTS_IN_FLIGHT_PER_PEER = 256
/** Requests from one peer served at once before its stream is paused. */
const MAX_SERVED_IN_FLIGHT_PER_PEER = 64
/** Longest a peer-exchange answer waits for a just-connected peer to be identified (its record to arrive). */
const IDENTIFY_WAIT_MS = 2_000
/** Neighbours asked at once for the record of a peer this node cannot reach. */
const PEER_LOOKUP_FAN_OUT = 8

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'
type Services = { identify: unknown; pubsub: GossipSub; listenerAddresses: ListenerAddresses }
/** Gossipsub's mesh query: on its class, though not on the `GossipSub` interface it exports. */
type MeshQuery = { getMeshPeers(topic: string): string[] }
/** Gossipsub's entry for every RPC a neighbour sends: public on its class, not on the exported interface. */
type RpcIntake = { handleReceivedRpc(from: Libp2pPeerId, rpc: RPC): Promise<void> }
/** Gossipsub's exit for every RPC it sends one neighbour (publishes, relays, answers to IWANT): private in its types. */
type RpcOutlet = { sendRpc(id: string, rpc: RPC): boolean }

const GOSSIPSUB_VERDICT: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
}

export class Libp2pNetwork implements Network {
  readonly peerId: PeerId
  readonly limits: NetworkLimits

  readonly #crypto: Crypto
  readonly #keyPair: KeyPair
  readonly #clock: Clock
  readonly #listen: readonly string[]
  readonly #bootstrap: readonly string[]
  readonly #announce: readonly string[]
  readonly #dialFrom: string | undefined
  readonly #gossip: GossipTuning
  readonly #inboundConnectionThreshold: number
  readonly #maxIncomingPendingConnections: number
  readonly #ipColocationWhitelist: ReadonlySet<string>
  readonly #connectToDiscovered: (peer: PeerId) => boolean
  readonly #maxFrameBytes: number
  readonly #subscriptions = new TopicSubscriptions()
  readonly #handlers = new RequestHandlers()
  readonly #listeners = new Listeners<NetworkEvent>()
  readonly #seen: SeenCache
  readonly #gossipLimiter: PeerRateLimiter
  readonly #requestLimiter: PeerRateLimiter
  readonly #penalties: PenaltyBox
  readonly #adverts: AdvertBook
  readonly #channels = new Map<PeerId, RequestChannel>()
  /** Message ids computed by Gossipsub's msgIdFn, for the validator that sees the same message object next. */
  readonly #ids = new WeakMap<Message, string>()
  readonly #stopping = new AbortController()
  /** Outbound gossip streams that stayed backed up through a publish's wait: passed over until they drain. */
  readonly #stalled = new WeakSet<Stream>()
  /** Peers announced with peer:join and not yet with peer:leave. */
  readonly #joined = new Set<PeerId>()
  readonly #traffic = new TrafficCounter()
  /** Our own publishes waiting for room; at `maxQueuedMessages` more fail with QUEUE_FULL. */
  #waitingPublishes = 0
  #node: Libp2p<Services> | undefined
  #exchange: AdvertExchange | undefined
  #state: State = 'new'
  #starting: Promise<void> | undefined
  #stopped: Promise<void> | undefined

  constructor(options: Libp2pNetworkOptions) {
    const { crypto, keyPair } = options
    if (typeof crypto?.sha256 !== 'function') throw new GossipError(GossipErrorCode.INVALID_INPUT, 'crypto must be a Crypto')
    // Check the key pair now, so that a wrong one fails at construction rather than at start.
    let derived: Uint8Array
    try {
      derived = crypto.keyPairFromSeed(keyPair?.seed).publicKey
    } catch (cause) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, 'keyPair.seed must be a 32-byte seed', {}, { cause })
    }
    if (!(keyPair.publicKey instanceof Uint8Array) || !equalBytes(derived, keyPair.publicKey)) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, 'keyPair.publicKey is not the public key of keyPair.seed')
    }
    this.#crypto = crypto
    this.#keyPair = keyPair
    this.peerId = toHex(keyPair.publicKey)
    this.limits = resolveLimits(options.limits, DEFAULT_LIMITS)
    this.#clock = options.clock ?? systemClock
    this.#listen = checkAddresses(options.listen ?? ['/ip4/127.0.0.1/tcp/0'], 'listen')
    this.#bootstrap = checkAddresses(options.bootstrap ?? [], 'bootstrap')
    this.#announce = checkAnnounce(options.announce ?? [], libp2pIdOf(this.peerId).toString())
    this.#dialFrom = options.dialFrom === undefined ? undefined : checkDialFrom(options.dialFrom)
    this.#gossip = { ...DEFAULT_GOSSIP, ...options.gossip }
    if (!Number.isSafeInteger(this.#gossip.meshDegree) || this.#gossip.meshDegree < 2) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `gossip.meshDegree must be an integer >= 2`)
    }
    if (!(this.#gossip.publishWaitMs >= 0 && Number.isFinite(this.#gossip.publishWaitMs))) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `gossip.publishWaitMs must be a finite number >= 0`)
    }
    if (!(this.#gossip.heartbeatIntervalMs >= 10)) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `gossip.heartbeatIntervalMs must be at least 10`)
    }
    this.#inboundConnectionThreshold = options.inboundConnectionThreshold ?? 1_000
    this.#maxIncomingPendingConnections = options.maxIncomingPendingConnections ?? 256
    const whitelist = options.ipColocationWhitelist ?? ['127.0.0.1', '::1']
    if (!Array.isArray(whitelist) || !whitelist.every((ip) => typeof ip === 'string' && ip.length > 0 && ip.length <= 64)) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, 'ipColocationWhitelist must be a list of IP address strings')
    }
    this.#ipColocationWhitelist = new Set(whitelist)
    const connect = options.connectToDiscovered ?? (() => false)
    if (typeof connect !== 'function') throw new GossipError(GossipErrorCode.INVALID_INPUT, 'connectToDiscovered must be a function')
    this.#connectToDiscovered = connect
    this.#handlers.add(PEER_EXCHANGE_PROTOCOL, (request) => this.#answerPeerExchange(request))
    this.#maxFrameBytes = this.limits.maxMessageBytes + FRAME_OVERHEAD_BYTES
    this.#seen = new SeenCache(this.limits.seenCacheSize)
    this.#gossipLimiter = new PeerRateLimiter(this.#clock, this.limits.maxMessagesPerPeerPerSecond)
    this.#requestLimiter = new PeerRateLimiter(this.#clock, this.limits.maxRequestsPerPeerPerSecond)
    this.#penalties = new PenaltyBox(this.#clock, this.limits.maxRejectsPerPeer, this.limits.penaltyWindowMs)
    this.#adverts = new AdvertBook({ crypto, keyPair, clock: this.#clock })
    // Every dial, drain wait and readiness wait listens on this one signal: many at once is normal, not a leak.
    setMaxListeners(Number.POSITIVE_INFINITY, this.#stopping.signal)
  }

  // ---- lifecycle ---------------------------------------------------------------------------------------

  start(): Promise<void> {
    if (this.#state === 'running') return Promise.resolve()
    if (this.#state === 'starting') return this.#starting as Promise<void>
    if (this.#state !== 'new') {
      return Promise.reject(new GossipError(GossipErrorCode.NETWORK_CLOSED, `a ${this.#state} Libp2pNetwork cannot be started again`))
    }
    this.#state = 'starting'
    this.#starting = this.#start()
    return this.#starting
  }

  async #start(): Promise<void> {
    installPromiseWithResolvers()
    // After each await, a stop() may have come: it waits for this to return, then tears down what exists.
    const stillStarting = () => {
      if (this.#state !== 'starting') throw this.#stopping.signal.reason
    }
    try {
      const node = await this.#createNode()
      this.#node = node
      stillStarting()
      node.addEventListener('peer:connect', (event) => this.#onPeer('peer:join', event.detail))
      node.addEventListener('peer:disconnect', (event) => this.#onPeer('peer:leave', event.detail))
      await node.handle(REQUEST_PROTOCOL, (stream, connection) => this.#serve(stream, connection.remotePeer), {
        maxInboundStreams: 8,
        maxOutboundStreams: 8,
      })
      node.services.pubsub.topicValidators.set(GOSSIP_CARRIER_TOPIC, (from, message) => this.#validate(from, message))
      await node.start()
      stillStarting()
      node.services.pubsub.subscribe(GOSSIP_CARRIER_TOPIC)
      this.#state = 'running'
      this.#exchange = attachAdvertExchange(this, this.#adverts, (event) => this.#emit(event), this.limits.requestTimeoutMs)
      // Peers that connected while the node was starting had their peer:connect before anything is emitted:
      // announce them now, so that listeners, and the advert exchange, hear of every neighbour.
      for (const peer of node.getPeers()) this.#onPeer('peer:join', peer)
    } catch (error) {
      if (this.#state === 'starting') {
        // Failed by itself: tear down here (stop() must not wait for the start that is calling it).
        this.#starting = undefined
        await this.stop()
      }
      throw error
    }
    await Promise.allSettled(this.#bootstrap.map((address) => this.dial(address)))
  }

  stop(): Promise<void> {
    if (this.#stopped === undefined) {
      const starting = this.#state === 'starting' ? this.#starting : undefined
      this.#state = 'stopping'
      const error = new GossipError(GossipErrorCode.NETWORK_CLOSED, `node ${this.peerId.slice(0, 8)} stopped`)
      this.#stopping.abort(error)
      for (const channel of this.#channels.values()) channel.close(error)
      this.#channels.clear()
      this.#exchange?.detach()
      this.#exchange = undefined
      this.#stopped = (async () => {
        await starting?.catch(() => {})
        const node = this.#node
        const heartbeat = node === undefined ? undefined : pendingHeartbeat(node)
        try {
          await node?.stop()
        } finally {
          clearTimeout(heartbeat)
          if (node !== undefined) disarmAddressManager(node)
          this.#state = 'stopped'
        }
      })()
    }
    return this.#stopped
  }

  async #createNode(): Promise<Libp2p<Services>> {
    const privateKey = await libp2pKeyOf(this.#keyPair)
    const gossip = this.#gossip
    const sha256 = this.#crypto.sha256
    const ids = this.#ids
    const denyForeignKeys = (peer: Libp2pPeerId) => networkIdOf(peer) === undefined
    const screen = (from: Libp2pPeerId, rpc: RPC) => this.#screen(from, rpc)
    const traffic = this.#traffic
    return createLibp2p<Services>({
      start: false,
      privateKey,
      addresses: { listen: [...this.#listen], announce: [...this.#announce] },
      transports: [tcp(this.#dialFrom === undefined ? {} : { dialOpts: boundDialOptions(this.#dialFrom) })],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // Only Constellation identities (Ed25519 keys) may connect.
      connectionGater: {
        denyInboundEncryptedConnection: denyForeignKeys,
        denyOutboundEncryptedConnection: denyForeignKeys,
      },
      connectionManager: {
        inboundConnectionThreshold: this.#inboundConnectionThreshold,
        maxIncomingPendingConnections: this.#maxIncomingPendingConnections,
      },
      // Consulted by libp2p when it dials a peer id it has no addresses for.
      peerRouters: [() => this.#peerRouter()],
      services: {
        identify: identify(),
        listenerAddresses: listenerAddresses(),
        pubsub: (components: GossipSubComponents) =>
          countOutboundRpcs(
            screenInboundRpcs(
              gossipsub({
                globalSignaturePolicy: 'StrictNoSign',
                allowedTopics: [GOSSIP_CARRIER_TOPIC],
                fallbackToFloodsub: false,
                emitSelf: false,
                // Our own messages go to every subscribed neighbour, not just the mesh: a small network then needs
                // no mesh for first-hop delivery, and the mesh carries the relaying.
                floodPublish: true,
                allowPublishToZeroTopicPeers: true,
                ignoreDuplicatePublishError: true,
                heartbeatInterval: gossip.heartbeatIntervalMs,
                scoreParams: { IPColocationFactorWhitelist: new Set(this.#ipColocationWhitelist) },
                D: gossip.meshDegree,
                Dlo: Math.max(1, gossip.meshDegree - 2),
                Dhi: gossip.meshDegree * 2,
                Dout: Math.max(0, Math.min(Math.floor(gossip.meshDegree / 2), gossip.meshDegree - 3)),
                // This bounds a whole Gossipsub RPC (messages plus piggybacked control), not one message: room for a
                // largest message and control traffic, and never under Gossipsub's own 4 MiB default. Our
                // maxMessageBytes is enforced per message by the validator.
                maxInboundDataLength: Math.max(4 << 20, this.limits.maxMessageBytes + (1 << 20)),
                msgIdFn: (message: Message) => {
                  const digest = sha256(message.data)
                  ids.set(message, toHex(digest))
                  return digest
                },
                msgIdToStrFn: (id: Uint8Array) => toHex(id),
              })(components),
              screen,
            ),
            traffic,
          ),
      },
    })
  }

  // ---- gossip ------------------------------------------------------------------------------------------

  async publish(topic: string, data: Uint8Array): Promise<void> {
    checkName('topic', topic)
    checkPayload(data, this.limits, 'message')
    const node = this.#running()
    const envelope = encodeGossipEnvelope(topic, data)
    const id = toHex(this.#crypto.sha256(envelope))
    if (this.#seen.has(id)) return // already spread
    const backedUp = this.#backedUpGossipStreams(node)
    if (backedUp.length > 0) {
      if (this.#waitingPublishes >= this.limits.maxQueuedMessages) {
        throw new GossipError(GossipErrorCode.QUEUE_FULL, `${this.#waitingPublishes} publishes are already waiting for room to send`, {
          limit: this.limits.maxQueuedMessages,
        })
      }
      this.#waitingPublishes++
      try {
        await this.#roomToGossip(backedUp)
      } finally {
        this.#waitingPublishes--
      }
      this.#running()
    }
    if (!this.#seen.add(id)) return // published by a concurrent call while this one waited
    await node.services.pubsub.publish(GOSSIP_CARRIER_TOPIC, envelope)
  }

  subscribe(topic: string, handler: TopicHandler): () => void {
    return this.#subscriptions.add(topic, handler)
  }

  /**
   * Drops what a neighbour may not send us from each RPC, before Gossipsub sees it: the messages of a penalised
   * peer, those over its rate limit, and oversize ones (rejected and counted against it: the size limit is
   * network-wide, so forwarding one is misbehaviour, as on the simulator). This must come before Gossipsub's
   * dedupe: Gossipsub marks a message seen, and tells its mesh it has it (IDONTWANT), before our validator
   * runs, so a copy dropped there for its sender's sake would also drop the honest copies of other peers.
   */
  #screen(source: Libp2pPeerId, rpc: RPC): RPC {
    // Everything that arrived counts as received, whatever the screen then drops.
    for (const message of rpc.messages) this.#traffic.received('gossip', message.data?.length ?? 0)
    const from = networkIdOf(source)
    if (from === undefined || rpc.messages.length === 0) return rpc
    const messages = rpc.messages.filter((message) => {
      if (message.topic !== GOSSIP_CARRIER_TOPIC) return true // Gossipsub drops topics it does not allow
      if (this.#penalties.isPenalised(from)) return false
      if (isOversize(message.data, this.limits.maxMessageBytes)) {
        this.#reject(from)
        return false
      }
      return this.#gossipLimiter.tryTake(from)
    })
    return messages.length === rpc.messages.length ? rpc : { ...rpc, messages }
  }

  /**
   * Gossipsub's topic validator: where a message from neighbour `source` is judged and delivered. Whatever it
   * ignores for the sender's sake would censor other peers' copies (see `#screen`), so it ignores only what no
   * one should deliver: duplicates, and anything once the node is stopping.
   */
  async #validate(source: Libp2pPeerId, message: Message): Promise<TopicValidatorResult> {
    const from = networkIdOf(source)
    if (from === undefined || this.#state !== 'running') return TopicValidatorResult.Ignore
    let envelope: ReturnType<typeof decodeGossipEnvelope>
    try {
      envelope = decodeGossipEnvelope(message.data)
    } catch {
      this.#reject(from)
      return TopicValidatorResult.Reject
    }
    const id = this.#ids.get(message) ?? toHex(this.#crypto.sha256(message.data))
    if (!this.#seen.add(id)) return TopicValidatorResult.Ignore
    if (!this.#subscriptions.has(envelope.topic)) return TopicValidatorResult.Accept // relay what we do not read
    const verdict = await this.#subscriptions.judge({ topic: envelope.topic, data: envelope.data, from, id })
    if (this.#state !== 'running') return TopicValidatorResult.Ignore
    if (verdict === 'reject') this.#reject(from)
    return GOSSIPSUB_VERDICT[verdict]
  }

  #reject(peer: PeerId): void {
    const rejects = this.#penalties.reject(peer)
    if (rejects !== undefined) this.#emit({ type: 'peer:penalised', peer, rejects })
  }

  /** Our outbound gossip streams whose write buffers are backed up, but for those already found stalled. */
  #backedUpGossipStreams(node: Libp2p<Services>): Stream[] {
    const streams: Stream[] = []
    for (const connection of node.getConnections()) {
      for (const stream of connection.streams) {
        if (stream.direction !== 'outbound' || !stream.protocol.startsWith('/meshsub/')) continue
        if (stream.writableNeedsDrain && stream.status === 'open' && !this.#stalled.has(stream)) streams.push(stream)
      }
    }
    return streams
  }

  /**
   * Backpressure for publishers: Gossipsub writes without waiting, so wait here until `streams` drain before
   * handing them one more message, for at most `publishWaitMs`. A stream still backed up then is marked stalled
   * and passed over by later publishes until it drains.
   */
  async #roomToGossip(streams: readonly Stream[]): Promise<void> {
    const deadline = new AbortController()
    const onStop = () => deadline.abort()
    this.#stopping.signal.addEventListener('abort', onStop, { once: true })
    const timer = this.#clock.setTimer(this.#gossip.publishWaitMs, () => deadline.abort())
    try {
      await Promise.all(
        streams.map(async (stream) => {
          while (stream.writableNeedsDrain && stream.status === 'open') {
            try {
              await drained(stream, deadline.signal)
            } catch {
              break // closed, stopping, or past the deadline
            }
          }
          if (stream.writableNeedsDrain && stream.status === 'open' && !this.#stopping.signal.aborted) this.#markStalled(stream)
        }),
      )
    } finally {
      timer.cancel()
      this.#stopping.signal.removeEventListener('abort', onStop)
    }
  }

  #markStalled(stream: Stream): void {
    if (this.#stalled.has(stream)) return
    this.#stalled.add(stream)
    stream.addEventListener('drain', () => this.#stalled.delete(stream), { once: true })
  }

  // ---- request/response --------------------------------------------------------------------------------

  request(peer: PeerId, protocol: string, data: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    try {
      checkPeerId(peer)
      checkName('protocol', protocol)
      checkPayload(data, this.limits, 'request')
      this.#running()
    } catch (error) {
      return Promise.reject(error)
    }
    const timeout = options.timeout ?? this.limits.requestTimeoutMs
    if (!(timeout > 0)) return Promise.reject(new GossipError(GossipErrorCode.INVALID_INPUT, 'timeout must be positive'))
    if (options.signal?.aborted) {
      return Promise.reject(new GossipError(GossipErrorCode.ABORTED, 'request aborted', {}, { cause: options.signal.reason }))
    }
    if (peer === this.peerId) {
      return Promise.reject(new GossipError(GossipErrorCode.PEER_UNREACHABLE, 'a node does not send requests to itself'))
    }
    return this.#channelTo(peer).request(protocol, data, timeout, options.signal)
  }

  handle(protocol: string, handler: RequestHandler): () => void {
    return this.#handlers.add(protocol, handler)
  }

  #channelTo(peer: PeerId): RequestChannel {
    let channel = this.#channels.get(peer)
    if (channel === undefined) {
      const node = this.#node as Libp2p<Services>
      const created: RequestChannel = new RequestChannel({
        peer,
        clock: this.#clock,
        maxFrameBytes: this.#maxFrameBytes,
        maxInFlight: Math.min(MAX_REQUESTS_IN_FLIGHT_PER_PEER, this.limits.maxQueuedMessages),
        openStream: (signal) => node.dialProtocol(libp2pIdOf(peer), REQUEST_PROTOCOL, { signal }),
        onViolation: (from) => this.#reject(from),
        traffic: this.#traffic,
        onIdle: () => {
          if (this.#channels.get(peer) === created) this.#channels.delete(peer)
        },
      })
      channel = created
      this.#channels.set(peer, channel)
    }
    return channel
  }

  #serve(stream: Parameters<typeof serveRequestStream>[0], remote: Libp2pPeerId): void {
    const peer = networkIdOf(remote)
    if (peer === undefined || this.#state !== 'running') {
      stream.abort(new Error('not serving requests'))
      return
    }
    serveRequestStream(stream, peer, {
      self: this.peerId,
      maxMessageBytes: this.limits.maxMessageBytes,
      maxFrameBytes: this.#maxFrameBytes,
      maxInFlight: MAX_SERVED_IN_FLIGHT_PER_PEER,
      rateLimiter: this.#requestLimiter,
      isPenalised: (from) => this.#penalties.isPenalised(from),
      handlerFor: (protocol) => this.#handlers.get(protocol),
      onViolation: (from) => this.#reject(from),
      signal: this.#stopping.signal,
      traffic: this.#traffic,
    })
  }

  // ---- membership and adverts --------------------------------------------------------------------------

  peers(): PeerId[] {
    if (this.#state !== 'running' || this.#node === undefined) return []
    const peers: PeerId[] = []
    for (const peer of this.#node.getPeers()) {
      const id = networkIdOf(peer)
      if (id !== undefined) peers.push(id)
    }
    return peers
  }

  addListener(listener: NetworkListener): () => void {
    return this.#listeners.add(listener)
  }

  async advertise(advert: ResourceAdvert): Promise<void> {
    this.#running()
    await (this.#exchange as AdvertExchange).advertise(advert)
  }

  advertOf(peer: PeerId): SignedResourceAdvert | undefined {
    return this.#adverts.get(peer)
  }

  traffic(): NetworkTraffic {
    return this.#traffic.snapshot()
  }

  #onPeer(type: 'peer:join' | 'peer:leave', remote: Libp2pPeerId): void {
    const peer = networkIdOf(remote)
    // Before running nothing is emitted (start announces who is connected then), and after, stop() has closed all.
    if (peer === undefined || this.#state !== 'running') return
    // One join per connected spell: a peer announced at start may still see its own peer:connect afterwards.
    if (type === 'peer:join') {
      if (this.#joined.has(peer)) return
      this.#joined.add(peer)
    } else if (!this.#joined.delete(peer)) return
    if (type === 'peer:leave') {
      const channel = this.#channels.get(peer)
      this.#channels.delete(peer)
      channel?.close(new GossipError(GossipErrorCode.PEER_UNREACHABLE, `peer ${peer.slice(0, 16)} disconnected`))
    }
    this.#emit({ type, peer })
    if (type === 'peer:join') void this.#askForPeers(peer, { kind: 'neighbours' })
  }

  // ---- peer exchange (peer-exchange.ts) ----------------------------------------------------------------

  /** Answers a neighbour with the signed records of this node's other peers, or of the one peer it names. */
  async #answerPeerExchange(request: InboundRequest): Promise<Uint8Array> {
    const query = decodePeerExchangeQuery(request.data)
    const node = this.#running()
    const wanted =
      query.kind === 'peer'
        ? [libp2pIdOf(toHex(query.publicKey))]
        : node.getPeers().filter((peer) => {
            const id = networkIdOf(peer)
            return id !== undefined && id !== request.from
          })
    const found = await Promise.all(wanted.slice(0, MAX_EXCHANGED_RECORDS).map((peer) => this.#identifiedRecordOf(node, peer)))
    return encodePeerRecords(found.filter((record): record is Uint8Array => record !== undefined && record.length <= MAX_PEER_RECORD_BYTES))
  }

  /**
   * The signed record identify stored for `peer`. A peer that is connecting or connected a moment ago may not be
   * identified yet: its record is waited for, up to IDENTIFY_WAIT_MS, so that a node that just joined can be found
   * at once (a peer this node never meets costs the asker that wait).
   */
  async #identifiedRecordOf(node: Libp2p<Services>, peer: Libp2pPeerId): Promise<Uint8Array | undefined> {
    const held = await signedRecordOf(node, peer)
    if (held !== undefined || this.#state !== 'running') return held
    await new Promise<void>((resolve) => {
      const done = () => {
        timer.cancel()
        node.removeEventListener('peer:identify', onIdentify)
        this.#stopping.signal.removeEventListener('abort', done)
        resolve()
      }
      const onIdentify = (event: CustomEvent<{ peerId: Libp2pPeerId }>) => {
        if (event.detail.peerId.equals(peer)) done()
      }
      const timer = this.#clock.setTimer(IDENTIFY_WAIT_MS, done)
      node.addEventListener('peer:identify', onIdentify)
      this.#stopping.signal.addEventListener('abort', done, { once: true })
    })
    return signedRecordOf(node, peer)
  }

  /**
   * Asks `neighbour` for peer records and stores those whose seal holds (and that are newer than held); connects to
   * the new ones `connectToDiscovered` names. Resolves with the peers whose records were taken; never rejects.
   */
  async #askForPeers(neighbour: PeerId, query: PeerExchangeQuery): Promise<Libp2pPeerId[]> {
    let records: Uint8Array[]
    try {
      const answer = await this.request(neighbour, PEER_EXCHANGE_PROTOCOL, encodePeerExchangeQuery(query))
      records = decodePeerRecords(answer)
    } catch (error) {
      if (error instanceof GossipError && error.code === GossipErrorCode.INVALID_INPUT) this.#reject(neighbour)
      return [] // gone, slow or stopping: the next neighbour may know
    }
    const node = this.#node
    if (node === undefined || this.#state !== 'running') return []
    const taken: Libp2pPeerId[] = []
    for (const record of records) {
      let peer: Libp2pPeerId
      try {
        const envelope = await RecordEnvelope.openAndCertify(record, PeerRecord.DOMAIN)
        peer = PeerRecord.createFromProtobuf(envelope.payload).peerId
        const id = networkIdOf(peer)
        if (id === undefined || id === this.peerId) continue
        if (!(await node.peerStore.consumePeerRecord(record, { expectedPeer: peer }))) continue
      } catch {
        this.#reject(neighbour) // a record whose seal does not hold: the neighbour made or altered it
        continue
      }
      taken.push(peer)
      const id = networkIdOf(peer) as PeerId
      if (this.#state === 'running' && node.getConnections(peer).length === 0 && this.#connectToDiscovered(id)) {
        node.dial(peer, { signal: this.#stopping.signal }).catch(() => {
          // Unreachable at its stated addresses for now: a later exchange or request tries again.
        })
      }
    }
    return taken
  }

  /** A libp2p peer router that asks the neighbours for a peer's signed record. */
  #peerRouter(): PeerRouting {
    return {
      findPeer: async (peer: Libp2pPeerId): Promise<PeerInfo> => {
        const target = networkIdOf(peer)
        const node = this.#node
        if (target === undefined || node === undefined) throw new NotFoundError(`${peer.toString()} is not a Constellation peer`)
        const neighbours = this.peers()
          .filter((id) => id !== target)
          .slice(0, PEER_LOOKUP_FAN_OUT)
        const query: PeerExchangeQuery = { kind: 'peer', publicKey: fromHex(target, 32) }
        await Promise.all(neighbours.map((neighbour) => this.#askForPeers(neighbour, query)))
        const known = await node.peerStore.get(peer).catch(() => undefined)
        const multiaddrs = known?.addresses.map((address) => address.multiaddr) ?? []
        if (multiaddrs.length === 0) throw new NotFoundError(`none of ${neighbours.length} neighbours knows where ${target.slice(0, 16)} is`)
        return { id: peer, multiaddrs }
      },
      // This router finds peers by id only; there is no keyspace to walk.
      getClosestPeers: async function* () {},
    }
  }

  #emit(event: NetworkEvent): void {
    if (this.#state === 'running') this.#listeners.emit(event)
  }

  // ---- libp2p specifics --------------------------------------------------------------------------------

  /**
   * The addresses others dial this node at, each ending in `/p2p/<libp2p id>`: the `announce` addresses when they are
   * set, otherwise the addresses it listens on. These are what identify and the peer records tell peers, and what a
   * bootstrap list or `dial` takes.
   */
  listenAddresses(): string[] {
    return this.#running()
      .getMultiaddrs()
      .map((address) => address.toString())
  }

  /**
   * The addresses this node's sockets are bound to (an OS-chosen port resolved), each ending in `/p2p/<libp2p id>`:
   * where a proxy or port forward in front of the node sends connections. The same as `listenAddresses()` unless
   * `announce` is set; never told to peers.
   */
  boundAddresses(): string[] {
    const node = this.#running()
    const self = node.peerId.toString()
    return node.services.listenerAddresses
      .bound()
      .map((address) => (address.getComponents().at(-1)?.name === 'p2p' ? address : address.encapsulate(`/p2p/${self}`)).toString())
  }

  /** Connects to the node at `address` (a multiaddr ending in `/p2p/<libp2p id>`); resolves with its peer id. */
  async dial(address: string): Promise<PeerId> {
    const [checked] = checkAddresses([address], 'address')
    const node = this.#running()
    let connection: Connection
    try {
      connection = await node.dial(multiaddr(checked as string), { signal: this.#stopping.signal })
    } catch (cause) {
      throw new GossipError(GossipErrorCode.PEER_UNREACHABLE, `cannot dial ${address}: ${(cause as Error).message}`, {}, { cause })
    }
    const peer = networkIdOf(connection.remotePeer)
    if (peer === undefined) throw new GossipError(GossipErrorCode.PEER_UNREACHABLE, `${address} is not a Constellation node`)
    return peer
  }

  /**
   * Connects to the node with this peer id, at the addresses the peer store holds for it or, failing that, that a
   * neighbour gives (peer exchange); PEER_UNREACHABLE when none is known or none answers.
   */
  async connect(peer: PeerId): Promise<void> {
    checkPeerId(peer)
    const node = this.#running()
    if (peer === this.peerId) throw new GossipError(GossipErrorCode.INVALID_INPUT, 'a node does not connect to itself')
    try {
      await node.dial(libp2pIdOf(peer), { signal: this.#stopping.signal })
    } catch (cause) {
      throw new GossipError(GossipErrorCode.PEER_UNREACHABLE, `cannot connect to ${peer.slice(0, 16)}: ${(cause as Error).message}`, {}, { cause })
    }
  }

  /** The neighbours this node relays gossip to (its Gossipsub mesh). */
  meshPeers(): PeerId[] {
    const node = this.#running()
    const pubsub = node.services.pubsub as GossipSub & Partial<MeshQuery>
    if (typeof pubsub.getMeshPeers !== 'function') return []
    const ids = new Set(pubsub.getMeshPeers(GOSSIP_CARRIER_TOPIC))
    return node
      .getPeers()
      .filter((peer) => ids.has(peer.toString()))
      .map((peer) => networkIdOf(peer))
      .filter((peer): peer is PeerId => peer !== undefined)
  }

  /**
   * Resolves once this node can gossip with `peers`: each of them is known to take gossip (so a publish reaches
   * it directly), and the mesh that relays gossip holds all of them, or at least the mesh's lower bound
   * (meshDegree - 2) when there are more. Rejects with ABORTED on `signal` and NETWORK_CLOSED on stop. Gossip
   * subscriptions are exchanged when peers connect and meshes form at heartbeats; a node that publishes right
   * after connecting, before this resolves, may reach nobody.
   */
  async gossipReady(peers: readonly PeerId[], options: { signal?: AbortSignal } = {}): Promise<void> {
    for (const peer of peers) checkPeerId(peer)
    const node = this.#running()
    const pubsub = node.services.pubsub
    const meshLowerBound = Math.max(1, this.#gossip.meshDegree - 2)
    const ready = () => {
      const subscribers = new Set(pubsub.getSubscribers(GOSSIP_CARRIER_TOPIC).map((peer) => networkIdOf(peer)))
      const mesh = new Set(this.meshPeers())
      const meshed = peers.filter((peer) => mesh.has(peer)).length
      return peers.every((peer) => subscribers.has(peer)) && meshed >= Math.min(peers.length, meshLowerBound)
    }
    if (ready()) return
    await new Promise<void>((resolve, reject) => {
      const signals = [this.#stopping.signal, ...(options.signal ? [options.signal] : [])]
      const events = ['subscription-change', 'gossipsub:graft', 'gossipsub:heartbeat'] as const
      const cleanup = () => {
        for (const event of events) pubsub.removeEventListener(event, check)
        for (const signal of signals) signal.removeEventListener('abort', onAbort)
      }
      const check = () => {
        if (this.#state !== 'running' || !ready()) return
        cleanup()
        resolve()
      }
      const onAbort = () => {
        cleanup()
        reject(
          this.#stopping.signal.aborted
            ? this.#stopping.signal.reason
            : new GossipError(GossipErrorCode.ABORTED, 'waiting for gossip peers aborted', {}, { cause: options.signal?.reason }),
        )
      }
      for (const signal of signals) {
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
      }
      for (const event of events) pubsub.addEventListener(event, check)
    })
  }

  #running(): Libp2p<Services> {
    if (this.#state !== 'running' || this.#node === undefined) {
      throw new GossipError(GossipErrorCode.NETWORK_CLOSED, `node ${this.peerId.slice(0, 8)} is ${this.#state}`)
    }
    return this.#node
  }
}

/**
 * Gossipsub 17.1's `stop()` marks itself stopped but leaves its next heartbeat timer armed (up to one heartbeat
 * interval, holding the process open). Read it before stopping so that it can be cleared after; a no-op when
 * the internal is not there.
 */
function pendingHeartbeat(node: Libp2p<Services>): ReturnType<typeof setTimeout> | undefined {
  const status = (node.services.pubsub as unknown as { status?: { heartbeatTimeout?: ReturnType<typeof setTimeout> } }).status
  return status?.heartbeatTimeout
}

/**
 * libp2p 3.3's address manager re-arms a 1 s debounce timer when its transports close during `stop()` and never
 * clears it, so a stopped node still holds the process open for a second. Clear it when that internal is there;
 * when a later libp2p changes the shape, this does nothing (and test/libp2p-network.test.ts notices the timer).
 */
function disarmAddressManager(node: Libp2p<Services>): void {
  type Debounced = { stop?: () => void }
  const components = (node as unknown as { components?: { addressManager?: { _updatePeerStoreAddresses?: Debounced } } }).components
  const debounced = components?.addressManager?._updatePeerStoreAddresses
  if (typeof debounced?.stop === 'function') debounced.stop()
}

/**
 * Puts `screen` in front of Gossipsub's handling of each inbound RPC. Fails at construction when a later
 * Gossipsub lacks the entry point, rather than leaving penalties and rate limits unenforced.
 */
function screenInboundRpcs(pubsub: GossipSub, screen: (from: Libp2pPeerId, rpc: RPC) => RPC): GossipSub {
  const intake = pubsub as GossipSub & Partial<RpcIntake>
  const handle = intake.handleReceivedRpc
  if (typeof handle !== 'function') throw new Error('this Gossipsub has no handleReceivedRpc to screen inbound gossip')
  intake.handleReceivedRpc = (from: Libp2pPeerId, rpc: RPC) => handle.call(pubsub, from, screen(from, rpc))
  return pubsub
}

/**
 * Counts the gossip messages of each RPC Gossipsub sends a neighbour (own publishes, relays, answers to IWANT), as
 * it sends them; control-only RPCs carry no messages and count nothing. Fails at construction when a later
 * Gossipsub lacks the exit, rather than reporting no gossip sent.
 */
function countOutboundRpcs(pubsub: GossipSub, traffic: TrafficCounter): GossipSub {
  const outlet = pubsub as GossipSub & Partial<RpcOutlet>
  const send = outlet.sendRpc
  if (typeof send !== 'function') throw new Error('this Gossipsub has no sendRpc to count outbound gossip')
  outlet.sendRpc = (id: string, rpc: RPC) => {
    const sent = send.call(pubsub, id, rpc)
    if (sent) for (const message of rpc.messages) traffic.sent('gossip', message.data?.length ?? 0)
    return sent
  }
  return pubsub
}

/** The signed peer record identify stored for `peer`, if any. */
async function signedRecordOf(node: Libp2p<Services>, peer: Libp2pPeerId): Promise<Uint8Array | undefined> {
  try {
    return (await node.peerStore.get(peer)).peerRecordEnvelope
  } catch {
    return undefined // not in the store
  }
}

/** Whether a carrier message's payload is over `maxMessageBytes`; malformed envelopes are left to the validator. */
function isOversize(data: Uint8Array | undefined, maxMessageBytes: number): boolean {
  if (data === undefined || data.length <= maxMessageBytes) return false
  try {
    return decodeGossipEnvelope(data).data.length > maxMessageBytes
  } catch {
    return false
  }
}

function checkAddresses(addresses: readonly string[], what: string): readonly string[] {
  if (!Array.isArray(addresses)) throw new GossipError(GossipErrorCode.INVALID_INPUT, `${what} must be an array of multiaddrs`)
  for (const address of addresses) {
    try {
      multiaddr(address)
    } catch (cause) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `${what}: ${String(address)} is not a multiaddr`, {}, { cause })
    }
  }
  return Object.freeze([...addresses])
}

/** A `Network` on js-libp2p; call `start()` to listen and dial the bootstrap peers. */
export function createLibp2pNetwork(options: Libp2pNetworkOptions): Libp2pNetwork {
  return new Libp2pNetwork(options)
}
