/**
 * `SimNetwork`: every node of a network inside one process, on a virtual clock, driven by one seed.
 *
 * The simulator owns the topology (each new node links to `degree` random earlier nodes), the link model
 * (latency distribution, loss, duplication, reordering, per-link bandwidth with bounded queues), partitions,
 * and crash/restart. Every random choice comes from one seeded generator and events at the same instant run
 * in scheduling order, so a seed reproduces a run exactly; `traceHash()` fingerprints the deliveries to check it.
 *
 * Protocol code is async: handlers may return promises. The run loop yields to pending promise continuations
 * before advancing virtual time, so an `await` inside a handler finishes at the instant it started, as it would
 * on a fast machine, and its effects are scheduled from there.
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { encodeSignedAdvert, type SignedResourceAdvert, verifyResourceAdvert } from '../advert/resource-advert.js'
import { resolveLimits } from '../checks.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import { DEFAULT_LIMITS, type NetworkLimits, type PeerId } from '../network.js'
import { createRandom, type Random } from '../random.js'
import { type LatencyModel, uniformLatency } from './latency.js'
import { SimNode } from './sim-node.js'
import type { SimStats, SimWorld, TrafficKind } from './sim-world.js'
import { VirtualClock } from './virtual-clock.js'

export interface SimNetworkOptions {
  readonly crypto: Crypto
  readonly seed: number | string
  /** One-way delay of a transmission (default uniform 10–50 ms). */
  readonly latency?: LatencyModel
  /** Probability that a gossip transmission is lost (default 0). Requests ride reliable streams: never lost. */
  readonly lossRate?: number
  /** Probability that a gossip transmission arrives twice (default 0). */
  readonly duplicateRate?: number
  /** Probability that a transmission is held back by an extra `reorderDelayMs` (default 0). */
  readonly reorderRate?: number
  readonly reorderDelayMs?: number
  /** Bytes per second on each directed link (default unlimited). */
  readonly bandwidthBytesPerSecond?: number
  /** Links each new node makes to earlier nodes (default 8). */
  readonly degree?: number
  /** Hops a gossip message travels at most (default 12). */
  readonly gossipTtl?: number
  /** How often each node pulls missed messages from a random neighbour (default 1,000 ms; 0 disables). */
  readonly antiEntropyIntervalMs?: number
  /** How long a node keeps messages for others to pull (default 60,000 ms). */
  readonly antiEntropyWindowMs?: number
  /** Messages each node keeps for pulls at most (default 1,024). */
  readonly maxStoredMessages?: number
  /** How long neighbours take to notice a crash or a cut link (default 1,000 ms). */
  readonly failureDetectionMs?: number
  readonly limits?: Partial<NetworkLimits>
}

export interface RunOptions {
  /** Stop before the first event after this virtual time, and move the clock to it. */
  readonly until?: number
  /** Stop after this many events (a guard against runaway protocols; default 50 million). */
  readonly maxEvents?: number
}

function probability(name: string, value: number | undefined): number {
  const p = value ?? 0
  if (!(p >= 0 && p <= 1)) throw new GossipError(GossipErrorCode.INVALID_INPUT, `${name} must be in [0, 1], got ${p}`)
  return p
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `${name} must be a finite number >= 0, got ${value}`)
  }
  return value
}

function positiveInteger(name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `${name} must be an integer >= ${min}, got ${value}`)
  }
  return value
}

const TRAFFIC_CODES: Record<TrafficKind, number> = { gossip: 1, control: 2, request: 3, response: 4 }

const yieldToMacrotasks = () => new Promise<void>((resolve) => setImmediate(resolve))

export class SimNetwork implements SimWorld<SimNode> {
  readonly crypto: Crypto
  readonly clock = new VirtualClock()
  readonly random: Random
  readonly limits: NetworkLimits
  readonly stats: SimStats = {
    delivered: 0,
    hopsTotal: 0,
    maxHops: 0,
    duplicates: 0,
    throttled: 0,
    rejected: 0,
    lost: 0,
    sent: { gossip: 0, control: 0, request: 0, response: 0 },
    bytes: 0,
  }
  readonly gossipTtl: number
  readonly antiEntropyIntervalMs: number
  readonly antiEntropyWindowMs: number
  readonly maxStoredMessages: number

  readonly #latency: LatencyModel
  readonly #lossRate: number
  readonly #duplicateRate: number
  readonly #reorderRate: number
  readonly #reorderDelayMs: number
  readonly #bandwidth: number
  readonly #degree: number
  readonly #failureDetectionMs: number
  readonly #keyRandom: Random
  readonly #nodes: SimNode[] = []
  readonly #byId = new Map<PeerId, SimNode>()
  readonly #links: SimNode[][] = []
  /** Per node, the peers it has been told joined and not since left: events always alternate per pair. */
  readonly #announced: Set<SimNode>[] = []
  /** Per directed link with a finite bandwidth, the times its queued transmissions finish sending. */
  readonly #linkQueues = new Map<string, number[]>()
  /** Partition group of each node index; all zero when the network is whole. */
  #group: number[] = []
  #pendingWork = 0
  #running = false
  #trace1 = 0x811c9dc5
  #trace2 = 0x01000193

  constructor(options: SimNetworkOptions) {
    if (options.crypto === undefined) throw new GossipError(GossipErrorCode.INVALID_INPUT, 'crypto is required')
    this.crypto = options.crypto
    this.random = createRandom(options.seed)
    // Keys come from their own stream, so adding a node never shifts the randomness of the links.
    this.#keyRandom = this.random.fork()
    this.limits = resolveLimits(options.limits, DEFAULT_LIMITS)
    this.#latency = options.latency ?? uniformLatency(10, 50)
    this.#lossRate = probability('lossRate', options.lossRate)
    this.#duplicateRate = probability('duplicateRate', options.duplicateRate)
    this.#reorderRate = probability('reorderRate', options.reorderRate)
    this.#reorderDelayMs = options.reorderDelayMs ?? 100
    this.#bandwidth = options.bandwidthBytesPerSecond ?? Number.POSITIVE_INFINITY
    if (!(this.#bandwidth > 0)) throw new GossipError(GossipErrorCode.INVALID_INPUT, 'bandwidthBytesPerSecond must be positive')
    this.#degree = positiveInteger('degree', options.degree ?? 8, 0)
    this.gossipTtl = positiveInteger('gossipTtl', options.gossipTtl ?? 12)
    this.antiEntropyIntervalMs = nonNegative('antiEntropyIntervalMs', options.antiEntropyIntervalMs ?? 1000)
    this.antiEntropyWindowMs = nonNegative('antiEntropyWindowMs', options.antiEntropyWindowMs ?? 60_000)
    this.maxStoredMessages = positiveInteger('maxStoredMessages', options.maxStoredMessages ?? 1024)
    this.#failureDetectionMs = nonNegative('failureDetectionMs', options.failureDetectionMs ?? 1000)
    this.#reorderDelayMs = nonNegative('reorderDelayMs', this.#reorderDelayMs)
  }

  sha256 = (data: Uint8Array): Uint8Array => this.crypto.sha256(data)

  /** Every node checks every advert; the verdict for the same signed bytes is the same everywhere, so check once. */
  readonly #advertVerdicts = new Map<string, boolean>()
  verifyAdvert = (signed: SignedResourceAdvert): boolean => {
    const key = toHex(this.crypto.sha256(encodeSignedAdvert(signed)))
    let verdict = this.#advertVerdicts.get(key)
    if (verdict === undefined) {
      verdict = verifyResourceAdvert(this.crypto, signed)
      this.#advertVerdicts.set(key, verdict)
      if (this.#advertVerdicts.size > 4 * this.#nodes.length + 1024) {
        const oldest = this.#advertVerdicts.keys().next().value
        if (oldest !== undefined) this.#advertVerdicts.delete(oldest)
      }
    }
    return verdict
  }

  /** Adds a node (not yet started), linked to `degree` random earlier nodes. Its key comes from the seed. */
  addNode(keyPair?: KeyPair): SimNode {
    let pair = keyPair
    if (pair === undefined) {
      const seed = new Uint8Array(32)
      for (let i = 0; i < 32; i += 4) {
        const word = Math.floor(this.#keyRandom.next() * 4294967296)
        seed[i] = word & 255
        seed[i + 1] = (word >>> 8) & 255
        seed[i + 2] = (word >>> 16) & 255
        seed[i + 3] = word >>> 24
      }
      pair = this.crypto.keyPairFromSeed(seed)
    }
    const peerId = toHex(pair.publicKey)
    if (this.#byId.has(peerId)) throw new GossipError(GossipErrorCode.INVALID_INPUT, `peer ${peerId} is already in the network`)
    const index = this.#nodes.length
    const node = new SimNode(this, index, pair, peerId, this.limits)
    this.#nodes.push(node)
    this.#byId.set(peerId, node)
    this.#links.push([])
    this.#announced.push(new Set())
    this.#group.push(0)
    const wanted = Math.min(this.#degree, index)
    const chosen = new Set<number>()
    while (chosen.size < wanted) chosen.add(this.random.int(index))
    for (const other of chosen) this.connect(node, this.#nodes[other] as SimNode)
    return node
  }

  /** Adds `count` nodes and starts them. */
  async addNodes(count: number): Promise<SimNode[]> {
    const added = Array.from({ length: positiveInteger('count', count) }, () => this.addNode())
    for (const node of added) await node.start()
    return added
  }

  /** Links two nodes (both directions). */
  connect(a: SimNode, b: SimNode): void {
    if (a === b) return
    const linksA = this.#links[a.index] as SimNode[]
    if (linksA.includes(b)) return
    linksA.push(b)
    ;(this.#links[b.index] as SimNode[]).push(a)
    if (a.running && b.running && this.#reachable(a, b)) {
      this.#announceJoin(a, b)
      this.#announceJoin(b, a)
    }
  }

  get nodes(): readonly SimNode[] {
    return this.#nodes
  }

  nodeById(peerId: string): SimNode | undefined {
    return this.#byId.get(peerId)
  }

  /** Running neighbours on this node's side of any partition. */
  neighboursOf(node: SimNode): readonly SimNode[] {
    const links = this.#links[node.index] as SimNode[]
    return links.filter((other) => other.running && this.#reachable(node, other))
  }

  #reachable(a: SimNode, b: SimNode): boolean {
    return this.#group[a.index] === this.#group[b.index]
  }

  /** Splits the network: nodes in different groups cannot reach each other; unlisted nodes form one more group. */
  partition(groups: readonly (readonly PeerId[])[]): void {
    const before = this.#group
    const next = new Array<number>(this.#nodes.length).fill(groups.length)
    groups.forEach((group, g) => {
      for (const peer of group) {
        const node = this.#byId.get(peer)
        if (node === undefined) throw new GossipError(GossipErrorCode.INVALID_INPUT, `unknown peer ${peer}`)
        if (next[node.index] !== groups.length) {
          throw new GossipError(GossipErrorCode.INVALID_INPUT, `peer ${peer.slice(0, 16)} is in two partition groups`)
        }
        next[node.index] = g
      }
    })
    this.#regroup(before, next)
  }

  /** Joins all partitions again. */
  heal(): void {
    this.#regroup(this.#group, new Array<number>(this.#nodes.length).fill(0))
  }

  #regroup(before: readonly number[], after: number[]): void {
    this.#group = after
    for (const node of this.#nodes) {
      if (!node.running) continue
      for (const other of this.#links[node.index] as SimNode[]) {
        const was = before[node.index] === before[other.index]
        const now = after[node.index] === after[other.index]
        if (was === now || !other.running) continue
        if (now) this.#announceJoin(node, other)
        else this.#announceLeaveLater(node, other)
      }
    }
  }

  /** Tells `observer` that `peer` joined, unless it already believes so. */
  #announceJoin(observer: SimNode, peer: SimNode): void {
    const announced = this.#announced[observer.index] as Set<SimNode>
    if (!observer.running || announced.has(peer)) return
    announced.add(peer)
    observer.emit({ type: 'peer:join', peer: peer.peerId })
  }

  /**
   * After the failure-detection delay, tells `observer` that `peer` left — if it is still gone then. A peer that
   * restarted or a cut that healed within the delay is never announced as left.
   */
  #announceLeaveLater(observer: SimNode, peer: SimNode): void {
    this.clock.setTimer(this.#failureDetectionMs, () => {
      const announced = this.#announced[observer.index] as Set<SimNode>
      if (!announced.has(peer) || (peer.running && this.#reachable(observer, peer))) return
      announced.delete(peer)
      observer.emit({ type: 'peer:leave', peer: peer.peerId })
    })
  }

  /** The node's process dies: in-flight traffic to it is lost, its timers stop, its caches are gone. */
  crash(peer: PeerId): void {
    const node = this.#require(peer)
    if (!node.running) return
    node.crash()
  }

  /** A crashed node comes back with its handlers but empty caches, and pulls what it missed. */
  restart(peer: PeerId): void {
    const node = this.#require(peer)
    if (!node.running && !node.crashed) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `peer ${peer.slice(0, 16)} was stopped, not crashed: it cannot restart`)
    }
    node.restart()
  }

  #require(peer: PeerId): SimNode {
    const node = this.#byId.get(peer)
    if (node === undefined) throw new GossipError(GossipErrorCode.INVALID_INPUT, `unknown peer ${peer}`)
    return node
  }

  nodeStarted(node: SimNode): void {
    for (const other of this.neighboursOf(node)) {
      this.#announceJoin(other, node)
      this.#announceJoin(node, other)
    }
  }

  nodeStopped(node: SimNode): void {
    // A stopped or crashed node's own view of its peers is gone with it.
    ;(this.#announced[node.index] as Set<SimNode>).clear()
    for (const other of this.#links[node.index] as SimNode[]) {
      if (other.running) this.#announceLeaveLater(other, node)
    }
  }

  transmit(from: SimNode, to: SimNode, bytes: number, kind: TrafficKind, deliver: () => void): void {
    this.stats.sent[kind]++
    this.stats.bytes += bytes
    // Each node's traffic() counts what it sends (lost or not) and what reaches it; digests are the simulator's own.
    const counted = kind !== 'control'
    if (counted) from.countTraffic('sent', kind, bytes)
    const lossy = kind === 'gossip' || kind === 'control'
    if (!this.#reachable(from, to) || (lossy && this.#lossRate > 0 && this.random.next() < this.#lossRate)) {
      this.stats.lost++
      return
    }
    let delay = this.#delay()
    if (this.#reorderRate > 0 && this.random.next() < this.#reorderRate) delay += this.#reorderDelayMs
    const now = this.clock.now()
    if (Number.isFinite(this.#bandwidth)) {
      // The link sends one thing at a time: queue behind what it is already sending. Gossip is tail-dropped when
      // `maxQueuedMessages` transmissions already wait; requests and responses ride streams and always queue.
      const key = `${from.index}:${to.index}`
      let queued = this.#linkQueues.get(key)
      if (queued === undefined) {
        queued = []
        this.#linkQueues.set(key, queued)
      }
      while (queued.length > 0 && (queued[0] as number) <= now) queued.shift()
      if (lossy && queued.length >= this.limits.maxQueuedMessages) {
        this.stats.lost++
        return
      }
      const freeAt = queued.length > 0 ? (queued[queued.length - 1] as number) : now
      const doneAt = freeAt + (bytes / this.#bandwidth) * 1000
      queued.push(doneAt)
      delay += doneAt - now
      if (queued.length === 1 && this.#linkQueues.size > 4 * this.#nodes.length * (this.#degree + 1)) this.#pruneLinkQueues(now)
    }
    const toEpoch = to.epoch
    const kindCode = TRAFFIC_CODES[kind]
    const arrive = () => {
      if (to.running && to.epoch === toEpoch && this.#reachable(from, to)) {
        this.trace(kindCode, from.index, to.index, bytes)
        if (counted) to.countTraffic('received', kind, bytes)
        deliver()
      } else {
        this.stats.lost++
      }
    }
    this.clock.setTimer(delay, arrive)
    if (lossy && this.#duplicateRate > 0 && this.random.next() < this.#duplicateRate) {
      this.clock.setTimer(this.#delay(), arrive)
    }
  }

  #delay(): number {
    const delay = this.#latency(this.random)
    if (!(delay >= 0) || !Number.isFinite(delay)) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `the latency model returned ${delay}; it must return finite ms >= 0`)
    }
    return delay
  }

  #pruneLinkQueues(now: number): void {
    for (const [key, queued] of this.#linkQueues) if ((queued.at(-1) ?? 0) <= now) this.#linkQueues.delete(key)
  }

  trace(kind: number, from: number, to: number, detail: number): void {
    // Two 32-bit FNV-style lanes over (time, kind, from, to, detail): cheap, and any change in order shows.
    const t = Math.round(this.clock.now() * 1000)
    for (const word of [t, kind, from, to, detail]) {
      this.#trace1 = Math.imul(this.#trace1 ^ word, 0x01000193) >>> 0
      this.#trace2 = Math.imul(this.#trace2 ^ (word + 0x9e3779b9), 0x85ebca6b) >>> 0
    }
  }

  /**
   * Fingerprint of everything that happened so far — every transmission delivered (gossip, digests, requests,
   * responses: time, kind, sender, receiver, size) and every gossip message judged — equal seeds and inputs give
   * equal hashes.
   */
  traceHash(): string {
    return this.#trace1.toString(16).padStart(8, '0') + this.#trace2.toString(16).padStart(8, '0')
  }

  track(work: Promise<unknown>): void {
    this.#pendingWork++
    void work.finally(() => {
      this.#pendingWork--
    })
  }

  /**
   * Runs events until `until` (virtual ms) passes, or — without `until` — until nothing but background
   * maintenance (anti-entropy) is left, or `maxEvents` have run. Returns the number of events run.
   */
  async run(options: RunOptions = {}): Promise<number> {
    this.#enter()
    try {
      return await this.#drive(() => false, options)
    } finally {
      this.#running = false
    }
  }

  /** One run at a time: two loops stepping one clock would interleave unpredictably. */
  #enter(): void {
    if (this.#running) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, 'the simulation is already running: await the current run first')
    }
    this.#running = true
  }

  /** Runs until `promise` settles (then returns its value or throws its error) or the virtual `timeoutMs` passes. */
  async runUntil<T>(promise: Promise<T>, timeoutMs = 600_000): Promise<T> {
    this.#enter()
    try {
      return await this.#runUntil(promise, timeoutMs)
    } finally {
      this.#running = false
    }
  }

  async #runUntil<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
    let settled = false
    let value: T | undefined
    let error: unknown
    let failed = false
    promise.then(
      (v) => {
        settled = true
        value = v
      },
      (e: unknown) => {
        settled = true
        failed = true
        error = e
      },
    )
    await drainContinuations(() => settled)
    const deadline = this.clock.now() + timeoutMs
    await this.#drive(() => settled, { until: deadline })
    if (!settled) {
      throw new GossipError(GossipErrorCode.TIMEOUT, `simulation reached ${timeoutMs} virtual ms before the awaited work finished`)
    }
    if (failed) throw error
    return value as T
  }

  /**
   * The run loop. After every event it lets promise continuations run (microtasks only, which run in a
   * deterministic order), so an `await` inside a handler or a test resumes at the virtual instant its promise
   * settled. It never waits on real time while events are due — only when the agenda is empty and tracked work
   * still waits on something outside the simulation (real I/O), which a deterministic protocol must not do.
   */
  async #drive(done: () => boolean, options: RunOptions): Promise<number> {
    const until = options.until ?? Number.POSITIVE_INFINITY
    const maxEvents = options.maxEvents ?? 50_000_000
    const queue = this.clock.queue
    let events = 0
    let idleTurns = 0
    while (events < maxEvents && !done()) {
      // Without a deadline, periodic maintenance alone does not keep the run going.
      if (!Number.isFinite(until) && queue.foreground === 0 && this.#pendingWork === 0) break
      if (!this.clock.step(until)) {
        if (this.#pendingWork > 0 && ++idleTurns < 1_000) {
          await yieldToMacrotasks()
          continue
        }
        // Nothing left at or before the deadline: time moves on to it.
        if (Number.isFinite(until)) this.clock.advanceTo(until)
        break
      }
      idleTurns = 0
      events++
      await drainContinuations(done, this.#pendingWork > 0)
    }
    return events
  }
}

/** Continuation depth run after every event; tracked handler work gets more turns than plain awaits. */
const SHORT_DRAIN = 4
const LONG_DRAIN = 64

/** Lets queued promise continuations run: each `await` turn advances every pending chain by one step. */
async function drainContinuations(done: () => boolean, long = false): Promise<void> {
  const turns = long ? LONG_DRAIN : SHORT_DRAIN
  for (let i = 0; i < turns && !done(); i++) await null
}
