/**
 * `Libp2pNetwork`: the `Network` of real nodes on real machines, on js-libp2p 3 (TCP + Noise + Yamux +
 * Gossipsub + identify).
 *
 * Data flow:
 *   - gossip (gossip-layer.ts): `publish` wraps topic and data in a gossip envelope and hands it to Gossipsub on one
 *     carrier topic (see gossip-envelope.ts for why one). Gossipsub does not sign (`StrictNoSign`: payloads are signed
 *     by their authors) and names a message by the SHA-256 of its envelope, which is `messageId`. Each arriving
 *     RPC is first screened, before Gossipsub's dedupe: the messages of penalised or over-rate neighbours are dropped
 *     and oversize ones rejected. Each remaining message goes through an async topic validator: duplicates are
 *     dropped, then the local handlers of the message's topic judge it and their combined verdict becomes
 *     Gossipsub's Accept (deliver on), Ignore or Reject (not forwarded; counted against the neighbour in the
 *     `PenaltyBox`, which emits `peer:penalised`). What this relies on of Gossipsub's internals is in
 *     gossipsub-internals.ts.
 *   - request/response (request-layer.ts): one libp2p protocol, `REQUEST_PROTOCOL`, with one long-lived stream per
 *     peer and direction carrying many requests at once (request-channel.ts, request-responder.ts).
 *   - membership: libp2p's peer connect/disconnect events are `peer:join`/`peer:leave`; each new neighbour is asked
 *     for its peers (peer-discovery.ts); signed resource adverts ride on the network's own operations through
 *     `attachAdvertExchange`, as on the simulator.
 * The libp2p node is built in libp2p-node.ts from the checked options (libp2p-options.ts). The libp2p identity is
 * the node's Ed25519 key, so a libp2p PeerId and a `Network` peer id name the same node.
 * `traffic()` counts the application bytes of all three: request/response frames as written to and read from the
 * streams, and Gossipsub message payloads as sent to and received from each neighbour (network-traffic.ts).
 */
import { setMaxListeners } from 'node:events'
import { type KeyPair, toHex } from '@constellation/crypto'
import type { Connection, PeerId as Libp2pPeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { type AdvertExchange, attachAdvertExchange } from '../advert/advert-exchange.js'
import { AdvertBook } from '../advert/advert-book.js'
import type { ResourceAdvert, SignedResourceAdvert } from '../advert/resource-advert.js'
import { checkPeerId, resolveLimits } from '../checks.js'
import { systemClock } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import { PenaltyBox } from '../limits/penalty-box.js'
import { Listeners } from '../listeners.js'
import {
  DEFAULT_LIMITS,
  type Network,
  type NetworkEvent,
  type NetworkLimits,
  type NetworkListener,
  type PeerId,
  type RequestHandler,
  type RequestOptions,
  type TopicHandler,
} from '../network.js'
import { type NetworkTraffic, TrafficCounter } from '../network-traffic.js'
import { GOSSIP_CARRIER_TOPIC } from './gossip-envelope.js'
import { GossipLayer } from './gossip-layer.js'
import { pendingHeartbeat } from './gossipsub-internals.js'
import { boundAddressesOf, createLibp2pNode, disarmAddressManager, type Libp2pNode } from './libp2p-node.js'
import { checkAddresses, checkIdentity, type Libp2pNetworkOptions, type Libp2pSettings, resolveLibp2pSettings } from './libp2p-options.js'
import { PeerDiscovery } from './peer-discovery.js'
import { PEER_EXCHANGE_PROTOCOL } from './peer-exchange.js'
import { libp2pIdOf, libp2pKeyOf, networkIdOf } from './peer-identity.js'
import { installPromiseWithResolvers } from './promise-with-resolvers.js'
import { RequestLayer } from './request-layer.js'

installPromiseWithResolvers()

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

export class Libp2pNetwork implements Network {
  readonly peerId: PeerId
  readonly limits: NetworkLimits

  readonly #keyPair: KeyPair
  readonly #settings: Libp2pSettings
  readonly #listeners = new Listeners<NetworkEvent>()
  readonly #penalties: PenaltyBox
  readonly #adverts: AdvertBook
  readonly #stopping = new AbortController()
  /** Peers announced with peer:join and not yet with peer:leave. */
  readonly #joined = new Set<PeerId>()
  readonly #traffic = new TrafficCounter()
  readonly #gossip: GossipLayer
  readonly #requests: RequestLayer
  readonly #discovery: PeerDiscovery
  #node: Libp2pNode | undefined
  #exchange: AdvertExchange | undefined
  #state: State = 'new'
  #starting: Promise<void> | undefined
  #stopped: Promise<void> | undefined

  constructor(options: Libp2pNetworkOptions) {
    const { crypto, keyPair } = options
    checkIdentity(crypto, keyPair)
    this.#keyPair = keyPair
    this.peerId = toHex(keyPair.publicKey)
    this.limits = resolveLimits(options.limits, DEFAULT_LIMITS)
    const clock = options.clock ?? systemClock
    this.#settings = resolveLibp2pSettings(options, libp2pIdOf(this.peerId).toString())
    this.#penalties = new PenaltyBox(clock, this.limits.maxRejectsPerPeer, this.limits.penaltyWindowMs)
    this.#adverts = new AdvertBook({ crypto, keyPair, clock })
    const stopping = this.#stopping.signal
    // Every dial, drain wait and readiness wait listens on this one signal: many at once is normal, not a leak.
    setMaxListeners(Number.POSITIVE_INFINITY, stopping)
    const shared = {
      clock,
      limits: this.limits,
      penalties: this.#penalties,
      traffic: this.#traffic,
      stopping,
      isRunning: () => this.#state === 'running',
      running: () => this.#running(),
      reject: (peer: PeerId) => this.#reject(peer),
    }
    this.#gossip = new GossipLayer({ ...shared, crypto, tuning: this.#settings.gossip })
    this.#requests = new RequestLayer({ ...shared, self: this.peerId })
    this.#discovery = new PeerDiscovery({
      ...shared,
      self: this.peerId,
      connectToDiscovered: this.#settings.connectToDiscovered,
      node: () => this.#node,
      peers: () => this.peers(),
      request: (peer, protocol, data) => this.request(peer, protocol, data),
    })
    this.#requests.handle(PEER_EXCHANGE_PROTOCOL, (request) => this.#discovery.answer(request))
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
      const gossip = this.#gossip
      const node = await createLibp2pNode({
        privateKey: await libp2pKeyOf(this.#keyPair),
        settings: this.#settings,
        maxMessageBytes: this.limits.maxMessageBytes,
        messageId: (message) => gossip.messageId(message),
        screen: (from, rpc) => gossip.screen(from, rpc),
        traffic: this.#traffic,
        peerRouter: () => this.#discovery.router(),
      })
      this.#node = node
      stillStarting()
      node.addEventListener('peer:connect', (event) => this.#onPeer('peer:join', event.detail))
      node.addEventListener('peer:disconnect', (event) => this.#onPeer('peer:leave', event.detail))
      await this.#requests.register(node)
      node.services.pubsub.topicValidators.set(GOSSIP_CARRIER_TOPIC, (from, message) => gossip.validate(from, message))
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
    await Promise.allSettled(this.#settings.bootstrap.map((address) => this.dial(address)))
  }

  stop(): Promise<void> {
    if (this.#stopped === undefined) {
      const starting = this.#state === 'starting' ? this.#starting : undefined
      this.#state = 'stopping'
      const error = new GossipError(GossipErrorCode.NETWORK_CLOSED, `node ${this.peerId.slice(0, 8)} stopped`)
      this.#stopping.abort(error)
      this.#requests.close(error)
      this.#exchange?.detach()
      this.#exchange = undefined
      this.#stopped = (async () => {
        await starting?.catch(() => {})
        const node = this.#node
        const heartbeat = node === undefined ? undefined : pendingHeartbeat(node.services.pubsub)
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

  // ---- gossip (gossip-layer.ts) ------------------------------------------------------------------------

  publish(topic: string, data: Uint8Array): Promise<void> {
    return this.#gossip.publish(topic, data)
  }

  subscribe(topic: string, handler: TopicHandler): () => void {
    return this.#gossip.subscribe(topic, handler)
  }

  // ---- request/response (request-layer.ts) -------------------------------------------------------------

  request(peer: PeerId, protocol: string, data: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    return this.#requests.request(peer, protocol, data, options)
  }

  handle(protocol: string, handler: RequestHandler): () => void {
    return this.#requests.handle(protocol, handler)
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
    if (type === 'peer:leave') this.#requests.peerLeft(peer)
    this.#emit({ type, peer })
    if (type === 'peer:join') void this.#discovery.askForPeers(peer, { kind: 'neighbours' })
  }

  #reject(peer: PeerId): void {
    const rejects = this.#penalties.reject(peer)
    if (rejects !== undefined) this.#emit({ type: 'peer:penalised', peer, rejects })
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
    return boundAddressesOf(this.#running())
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
    return this.#gossip.meshPeers()
  }

  /**
   * Resolves once this node can gossip with `peers`: each of them is known to take gossip (so a publish reaches
   * it directly), and the mesh that relays gossip holds all of them, or at least the mesh's lower bound
   * (meshDegree - 2) when there are more. Rejects with ABORTED on `signal` and NETWORK_CLOSED on stop. Gossip
   * subscriptions are exchanged when peers connect and meshes form at heartbeats; a node that publishes right
   * after connecting, before this resolves, may reach nobody.
   */
  gossipReady(peers: readonly PeerId[], options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#gossip.gossipReady(peers, options)
  }

  #running(): Libp2pNode {
    if (this.#state !== 'running' || this.#node === undefined) {
      throw new GossipError(GossipErrorCode.NETWORK_CLOSED, `node ${this.peerId.slice(0, 8)} is ${this.#state}`)
    }
    return this.#node
  }
}

/** A `Network` on js-libp2p; call `start()` to listen and dial the bootstrap peers. */
export function createLibp2pNetwork(options: Libp2pNetworkOptions): Libp2pNetwork {
  return new Libp2pNetwork(options)
}
