/**
 * One node of a `SimNetwork`: a full `Network` whose traffic is events on the simulator's agenda.
 *
 * Gossip is the seed's epidemic broadcast: a node that sees a message for the first time (deduplicated by
 * content id in a bounded seen-cache) hands it to its handlers and, if they accept, forwards it to every
 * neighbour but the one it came from, until the hop count reaches the TTL. Nodes relay topics they do not
 * subscribe to. Each node also keeps the messages of the last `antiEntropyWindowMs` and periodically pulls from
 * a random neighbour whatever it missed, which is how nodes catch up after a partition heals or a restart
 * (anti-entropy-store.ts). Request/response lives in sim-requests.ts; this class holds the node's life (start, stop,
 * crash, restart: each ending one epoch), its gossip, and its membership events and adverts.
 */
import type { KeyPair } from '@constellation/crypto'
import { type AdvertExchange, attachAdvertExchange } from '../advert/advert-exchange.js'
import { AdvertBook } from '../advert/advert-book.js'
import type { ResourceAdvert, SignedResourceAdvert } from '../advert/resource-advert.js'
import { checkName, checkPayload, checkPeerId, checkTimeout, messageId } from '../checks.js'
import type { Clock, TimerHandle } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import { PenaltyBox } from '../limits/penalty-box.js'
import { PeerRateLimiter } from '../limits/rate-limiter.js'
import { SeenCache } from '../limits/seen-cache.js'
import { Listeners } from '../listeners.js'
import type {
  GossipMessage,
  Network,
  NetworkEvent,
  NetworkLimits,
  NetworkListener,
  PeerId,
  RequestHandler,
  RequestOptions,
  TopicHandler,
  Verdict,
} from '../network.js'
import { type NetworkTraffic, type NetworkTrafficKind, TrafficCounter } from '../network-traffic.js'
import { TopicSubscriptions } from '../registrations.js'
import { AntiEntropyStore } from './anti-entropy-store.js'
import type { GossipEnvelope } from './sim-envelope.js'
import { type RequestOutcome, SimRequests } from './sim-requests.js'
import type { SimWorld } from './sim-world.js'

const VERDICT_TRACE: Record<Verdict, number> = { accept: 11, ignore: 12, reject: 13 }

export class SimNode implements Network {
  readonly peerId: PeerId
  readonly index: number
  readonly keyPair: KeyPair
  readonly limits: NetworkLimits
  /** This node's view of virtual time; its timers die with the node when it crashes. */
  readonly clock: Clock

  readonly #world: SimWorld<SimNode>
  readonly #subscriptions = new TopicSubscriptions()
  readonly #listeners = new Listeners<NetworkEvent>()
  readonly #seen: SeenCache
  readonly #store: AntiEntropyStore
  readonly #gossipLimiter: PeerRateLimiter
  readonly #penalties: PenaltyBox
  readonly #requests: SimRequests<SimNode>
  readonly #adverts: AdvertBook
  readonly #traffic = new TrafficCounter()
  #exchange: AdvertExchange | undefined
  #antiEntropy: TimerHandle | undefined
  #state: 'new' | 'running' | 'crashed' | 'stopped' = 'new'
  /** Incremented on crash and stop: timers and deliveries from an earlier life are void. */
  #epoch = 0

  constructor(world: SimWorld<SimNode>, index: number, keyPair: KeyPair, peerId: PeerId, limits: NetworkLimits) {
    this.#world = world
    this.index = index
    this.keyPair = keyPair
    this.peerId = peerId
    this.limits = limits
    const worldClock = world.clock
    this.clock = {
      now: () => worldClock.now(),
      setTimer: (delayMs, callback) => worldClock.setTimer(delayMs, this.#ofThisLife(callback)),
    }
    this.#seen = new SeenCache(limits.seenCacheSize)
    this.#store = new AntiEntropyStore(world)
    this.#gossipLimiter = new PeerRateLimiter(worldClock, limits.maxMessagesPerPeerPerSecond)
    this.#penalties = new PenaltyBox(worldClock, limits.maxRejectsPerPeer, limits.penaltyWindowMs)
    this.#requests = new SimRequests({ self: this, world, clock: this.clock, limits, penalties: this.#penalties })
    this.#adverts = new AdvertBook({ crypto: world.crypto, keyPair, clock: worldClock }, { verify: world.verifyAdvert })
  }

  /** Wraps a timer callback so that it runs only if the node is still in the life that set it. */
  #ofThisLife(callback: () => void): () => void {
    const epoch = this.#epoch
    return () => {
      if (this.#epoch === epoch && this.#state === 'running') callback()
    }
  }

  /** True while the node is started and not crashed. */
  get running(): boolean {
    return this.#state === 'running'
  }

  get crashed(): boolean {
    return this.#state === 'crashed'
  }

  get epoch(): number {
    return this.#epoch
  }

  async start(): Promise<void> {
    if (this.#state === 'running') return
    if (this.#state !== 'new') {
      throw new GossipError(GossipErrorCode.NETWORK_CLOSED, 'a stopped or crashed node is restarted through SimNetwork.restart')
    }
    this.#begin()
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    this.#end('stopped')
  }

  /** Used by the world: the process died. Volatile state is lost, registrations are kept for the restart. */
  crash(): void {
    if (this.#state === 'running') this.#end('crashed')
  }

  /** Used by the world: a crashed node comes back with empty caches. */
  restart(): void {
    if (this.#state !== 'crashed') return
    this.#seen.clear()
    this.#store.clear()
    this.#begin()
  }

  #begin(): void {
    this.#state = 'running'
    this.#exchange ??= attachAdvertExchange(this, this.#adverts, (event) => this.emit(event), this.limits.requestTimeoutMs)
    this.#world.nodeStarted(this)
    this.#scheduleAntiEntropy()
  }

  #end(state: 'stopped' | 'crashed'): void {
    const wasRunning = this.#state === 'running'
    this.#state = state
    this.#epoch++
    this.#antiEntropy?.cancel()
    this.#requests.close(new GossipError(GossipErrorCode.NETWORK_CLOSED, `node ${this.peerId.slice(0, 8)} ${state}`))
    if (state === 'stopped') {
      this.#exchange?.detach()
      this.#exchange = undefined
    }
    if (wasRunning) this.#world.nodeStopped(this)
  }

  // ---- gossip ------------------------------------------------------------------------------------------

  async publish(topic: string, data: Uint8Array): Promise<void> {
    checkName('topic', topic)
    checkPayload(data, this.limits, 'message')
    this.#assertRunning()
    const envelope: GossipEnvelope = { id: messageId(this.#world.sha256, topic, data), topic, data, hops: 0, pulled: false }
    if (!this.#seen.add(envelope.id)) return // already spread
    this.#store.remember(envelope, true)
    this.#forward(envelope, undefined)
  }

  subscribe(topic: string, handler: TopicHandler): () => void {
    return this.#subscriptions.add(topic, handler)
  }

  /** Entry point for a gossip envelope arriving from neighbour `from`. */
  receiveGossip(from: SimNode, envelope: GossipEnvelope): void {
    if (this.#state !== 'running') return
    const stats = this.#world.stats
    if (this.#penalties.isPenalised(from.peerId) || !this.#gossipLimiter.tryTake(from.peerId)) {
      stats.throttled++
      return
    }
    if (envelope.data.length > this.limits.maxMessageBytes) {
      this.#judge('reject', envelope, from)
      return
    }
    if (!this.#seen.add(envelope.id)) {
      stats.duplicates++
      return
    }
    stats.delivered++
    stats.hopsTotal += envelope.hops
    if (envelope.hops > stats.maxHops) stats.maxHops = envelope.hops
    if (!this.#subscriptions.has(envelope.topic)) {
      this.#store.remember(envelope, true)
      this.#forward(envelope, from)
      return
    }
    const message: GossipMessage = { topic: envelope.topic, data: envelope.data, from: from.peerId, id: envelope.id }
    const verdict = this.#subscriptions.judge(message)
    if (typeof verdict === 'string') {
      this.#judge(verdict, envelope, from)
      return
    }
    const epoch = this.#epoch
    this.#world.track(
      verdict.then((settled) => {
        if (this.#epoch === epoch) this.#judge(settled, envelope, from)
      }),
    )
  }

  #judge(verdict: Verdict, envelope: GossipEnvelope, from: SimNode): void {
    this.#world.trace(VERDICT_TRACE[verdict], from.index, this.index, Number.parseInt(envelope.id.slice(0, 8), 16))
    // Only accepted messages become pullable: anti-entropy must not spread what this node rejected.
    this.#store.remember(envelope, verdict === 'accept')
    if (verdict === 'accept') {
      this.#forward(envelope, from)
    } else if (verdict === 'reject') {
      this.#world.stats.rejected++
      // A message this node pulled was sent because it asked: the sender vouches for nothing, so no penalty.
      if (envelope.pulled) return
      const rejects = this.#penalties.reject(from.peerId)
      if (rejects !== undefined) this.emit({ type: 'peer:penalised', peer: from.peerId, rejects })
    }
  }

  #forward(envelope: GossipEnvelope, from: SimNode | undefined): void {
    if (envelope.hops >= this.#world.gossipTtl) return
    const next: GossipEnvelope = { ...envelope, hops: envelope.hops + 1, pulled: false }
    for (const neighbour of this.#world.neighboursOf(this)) {
      if (neighbour === from) continue
      this.#world.transmit(this, neighbour, next.data.length, 'gossip', () => neighbour.receiveGossip(this, next))
    }
  }

  // ---- anti-entropy ------------------------------------------------------------------------------------

  #scheduleAntiEntropy(): void {
    const interval = this.#world.antiEntropyIntervalMs
    if (interval <= 0) return
    // Spread the first pull over one interval so that nodes do not all pull at once.
    const delay = this.#world.random.next() * interval
    this.#antiEntropy = this.#world.clock.setBackgroundTimer(
      delay,
      this.#ofThisLife(() => this.#pull(interval)),
    )
  }

  #pull(interval: number): void {
    this.#antiEntropy = this.#world.clock.setBackgroundTimer(
      interval,
      this.#ofThisLife(() => this.#pull(interval)),
    )
    const neighbours = this.#world.neighboursOf(this)
    if (neighbours.length === 0) return
    const target = neighbours[this.#world.random.int(neighbours.length)] as SimNode
    const digest = this.#store.digest()
    this.#world.transmit(this, target, digest.length * 32, 'control', () => target.receiveDigest(this, digest))
  }

  /** A neighbour's list of what it holds: send back what it lacks. */
  receiveDigest(from: SimNode, digest: readonly string[]): void {
    if (this.#state !== 'running') return
    for (const envelope of this.#store.missingFrom(digest)) {
      // Pulled messages restart their hop budget at the puller: it forwards them to its own side of the cut.
      const fresh: GossipEnvelope = { ...envelope, hops: 0, pulled: true }
      this.#world.transmit(this, from, envelope.data.length, 'gossip', () => from.receiveGossip(this, fresh))
    }
  }

  // ---- request/response --------------------------------------------------------------------------------

  request(peer: PeerId, protocol: string, data: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    try {
      checkPeerId(peer)
      checkName('protocol', protocol)
      checkPayload(data, this.limits, 'request')
      this.#assertRunning()
    } catch (error) {
      return Promise.reject(error)
    }
    let timeout: number
    try {
      timeout = checkTimeout(options.timeout ?? this.limits.requestTimeoutMs)
    } catch (error) {
      return Promise.reject(error)
    }
    const signal = options.signal
    if (signal?.aborted) {
      return Promise.reject(new GossipError(GossipErrorCode.ABORTED, 'request aborted', {}, { cause: signal.reason }))
    }
    const target = this.#world.nodeById(peer)
    if (target === undefined || target === this) {
      return Promise.reject(new GossipError(GossipErrorCode.PEER_UNREACHABLE, `no route to peer ${peer.slice(0, 16)}`))
    }
    return this.#requests.send(target, protocol, data, timeout, signal)
  }

  handle(protocol: string, handler: RequestHandler): () => void {
    return this.#requests.handle(protocol, handler)
  }

  /** Used by the world: a request from `from`, sent in its life `fromEpoch`, arrived. */
  receiveRequest(from: SimNode, fromEpoch: number, id: number, protocol: string, data: Uint8Array): void {
    this.#requests.receive(from, fromEpoch, id, protocol, data)
  }

  /** Used by the world: the answer to this node's request `id`, sent in its life `epoch`, arrived. */
  receiveResponse(epoch: number, id: number, outcome: RequestOutcome): void {
    this.#requests.receiveResponse(epoch, id, outcome)
  }

  // ---- membership and adverts --------------------------------------------------------------------------

  peers(): PeerId[] {
    return this.#state === 'running' ? this.#world.neighboursOf(this).map((n) => n.peerId) : []
  }

  addListener(listener: NetworkListener): () => void {
    return this.#listeners.add(listener)
  }

  emit(event: NetworkEvent): void {
    if (this.#state === 'running') this.#listeners.emit(event)
  }

  async advertise(advert: ResourceAdvert): Promise<void> {
    this.#assertRunning()
    await (this.#exchange as AdvertExchange).advertise(advert)
  }

  advertOf(peer: PeerId): SignedResourceAdvert | undefined {
    return this.#adverts.get(peer)
  }

  // ---- traffic -----------------------------------------------------------------------------------------

  traffic(): NetworkTraffic {
    return this.#traffic.snapshot()
  }

  /** Used by the world: a transmission of `bytes` left this node, or arrived at it. Kept across crashes. */
  countTraffic(direction: 'sent' | 'received', kind: NetworkTrafficKind, bytes: number): void {
    if (direction === 'sent') this.#traffic.sent(kind, bytes)
    else this.#traffic.received(kind, bytes)
  }

  #assertRunning(): void {
    if (this.#state !== 'running') {
      throw new GossipError(GossipErrorCode.NETWORK_CLOSED, `node ${this.peerId.slice(0, 8)} is ${this.#state}`)
    }
  }
}
