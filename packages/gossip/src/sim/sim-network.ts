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

function positiveInteger(name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `${name} must be an integer >= ${min}, got ${value}`)
  }
  return value
}

const yieldToPromises = () => new Promise<void>((resolve) => setImmediate(resolve))

export class SimNetwork implements SimWorld {
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
  readonly #linkFreeAt = new Map<number, number>()
  /** Partition group of each node index; all zero when the network is whole. */
  #group: number[] = []
  #pendingWork = 0
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
    this.antiEntropyIntervalMs = options.antiEntropyIntervalMs ?? 1000
    this.antiEntropyWindowMs = options.antiEntropyWindowMs ?? 60_000
    this.maxStoredMessages = positiveInteger('maxStoredMessages', options.maxStoredMessages ?? 1024)
    this.#failureDetectionMs = options.failureDetectionMs ?? 1000
  }

  sha256 = (data: Uint8Array): Uint8Array => this.crypto.sha256(data)

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
      a.emit({ type: 'peer:join', peer: b.peerId })
      b.emit({ type: 'peer:join', peer: a.peerId })
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
    const detect = this.#failureDetectionMs
    for (const node of this.#nodes) {
      for (const other of this.#links[node.index] as SimNode[]) {
        const was = before[node.index] === before[other.index]
        const now = after[node.index] === after[other.index]
        if (was === now || !other.running) continue
        const peer = other.peerId
        if (now) node.emit({ type: 'peer:join', peer })
        else this.clock.setTimer(detect, () => node.emit({ type: 'peer:leave', peer }))
      }
    }
  }

  /** The node's process dies: in-flight traffic to it is lost, its timers stop, its caches are gone. */
  crash(peer: PeerId): void {
    const node = this.#require(peer)
    if (!node.running) return
    node.crash()
  }

  /** A crashed node comes back with its handlers but empty caches, and pulls what it missed. */
  restart(peer: PeerId): void {
    this.#require(peer).restart()
  }

  #require(peer: PeerId): SimNode {
    const node = this.#byId.get(peer)
    if (node === undefined) throw new GossipError(GossipErrorCode.INVALID_INPUT, `unknown peer ${peer}`)
    return node
  }

  nodeStarted(node: SimNode): void {
    for (const other of this.neighboursOf(node)) {
      other.emit({ type: 'peer:join', peer: node.peerId })
      node.emit({ type: 'peer:join', peer: other.peerId })
    }
  }

  nodeStopped(node: SimNode): void {
    const peer = node.peerId
    for (const other of this.#links[node.index] as SimNode[]) {
      if (other.running && this.#reachable(node, other)) {
        this.clock.setTimer(this.#failureDetectionMs, () => other.emit({ type: 'peer:leave', peer }))
      }
    }
  }

  transmit(from: SimNode, to: SimNode, bytes: number, kind: TrafficKind, deliver: () => void): void {
    this.stats.sent[kind]++
    this.stats.bytes += bytes
    const lossy = kind === 'gossip' || kind === 'control'
    if (!this.#reachable(from, to) || (lossy && this.#lossRate > 0 && this.random.next() < this.#lossRate)) {
      this.stats.lost++
      return
    }
    let delay = this.#latency(this.random)
    if (this.#reorderRate > 0 && this.random.next() < this.#reorderRate) delay += this.#reorderDelayMs
    const now = this.clock.now()
    if (Number.isFinite(this.#bandwidth)) {
      // The link sends one thing at a time: queue behind what it is already sending, and tail-drop when the
      // queue holds more than `maxQueuedMessages` average-sized transmissions' worth of time.
      const key = from.index * 0x100000 + to.index
      const freeAt = Math.max(now, this.#linkFreeAt.get(key) ?? now)
      const sendMs = (bytes / this.#bandwidth) * 1000
      if (freeAt - now > sendMs * this.limits.maxQueuedMessages) {
        this.stats.lost++
        return
      }
      this.#linkFreeAt.set(key, freeAt + sendMs)
      delay += freeAt - now + sendMs
    }
    const toEpoch = to.epoch
    const arrive = () => {
      if (to.running && to.epoch === toEpoch && this.#reachable(from, to)) deliver()
      else this.stats.lost++
    }
    this.clock.setTimer(delay, arrive)
    if (lossy && this.#duplicateRate > 0 && this.random.next() < this.#duplicateRate) {
      this.clock.setTimer(this.#latency(this.random), arrive)
    }
  }

  trace(kind: number, from: number, to: number, id: string): void {
    // Two 32-bit FNV-style lanes over (time, kind, from, to, id prefix): cheap, and any change in order shows.
    const t = Math.round(this.clock.now() * 1000)
    const idWord = Number.parseInt(id.slice(0, 8), 16)
    for (const word of [t, kind, from, to, idWord]) {
      this.#trace1 = Math.imul(this.#trace1 ^ word, 0x01000193) >>> 0
      this.#trace2 = Math.imul(this.#trace2 ^ (word + 0x9e3779b9), 0x85ebca6b) >>> 0
    }
  }

  /** Fingerprint of every gossip delivery so far: equal seeds and inputs give equal hashes. */
  traceHash(): string {
    return this.#trace1.toString(16).padStart(8, '0') + this.#trace2.toString(16).padStart(8, '0')
  }

  track(work: Promise<unknown>): void {
    this.#pendingWork++
    void work.finally(() => {
      this.#pendingWork--
    })
  }

  /** Runs events until the agenda is empty, `until` passes, or `maxEvents` have run. Returns the count. */
  async run(options: RunOptions = {}): Promise<number> {
    return this.#drive(() => false, options)
  }

  /** Runs until `promise` settles (then returns its value or throws its error) or the virtual `timeoutMs` passes. */
  async runUntil<T>(promise: Promise<T>, timeoutMs = 600_000): Promise<T> {
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
    await yieldToPromises()
    const deadline = this.clock.now() + timeoutMs
    // The awaited promise settles in a continuation, so the loop must let continuations run after every event.
    await this.#drive(() => settled, { until: deadline }, true)
    if (!settled) {
      throw new GossipError(GossipErrorCode.TIMEOUT, `simulation reached ${timeoutMs} virtual ms before the awaited work finished`)
    }
    if (failed) throw error
    return value as T
  }

  async #drive(done: () => boolean, options: RunOptions, yieldEachEvent = false): Promise<number> {
    const until = options.until ?? Number.POSITIVE_INFINITY
    const maxEvents = options.maxEvents ?? 50_000_000
    let events = 0
    let idleYields = 0
    while (events < maxEvents && !done()) {
      if (yieldEachEvent || this.#pendingWork > 0) {
        await yieldToPromises()
        if (done()) break
      }
      if (!this.clock.step(until)) {
        // Nothing is due: promise continuations may still schedule more. Work that waits on something outside
        // the simulation (real I/O) gets a bounded number of turns before the run gives up on it.
        if (this.#pendingWork > 0 && ++idleYields < 10_000) continue
        break
      }
      idleYields = 0
      events++
    }
    if (Number.isFinite(until) && !done()) this.clock.advanceTo(until)
    return events
  }
}
