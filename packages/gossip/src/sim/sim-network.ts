/**
 * `SimNetwork`: every node of a network inside one process, on a virtual clock, driven by one seed.
 *
 * The simulator owns the topology (each new node links to `degree` random earlier nodes; sim-topology.ts), the link
 * model (latency distribution, loss, duplication, reordering, per-link bandwidth with bounded queues; link-model.ts),
 * partitions, and crash/restart. Every random choice comes from one seeded generator and events at the same instant
 * run in scheduling order, so a seed reproduces a run exactly; `traceHash()` fingerprints the deliveries to check it.
 *
 * Protocol code is async: handlers may return promises. The run loop (run-loop.ts) yields to pending promise
 * continuations before advancing virtual time, so an `await` inside a handler finishes at the instant it started, as
 * it would on a fast machine, and its effects are scheduled from there.
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { encodeSignedAdvert, type SignedResourceAdvert, verifyResourceAdvert } from '../advert/resource-advert.js'
import { resolveLimits } from '../checks.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import { DEFAULT_LIMITS, type NetworkLimits, type PeerId } from '../network.js'
import { createRandom, type Random } from '../random.js'
import { LinkModel } from './link-model.js'
import { type RunOptions, RunLoop } from './run-loop.js'
import { SimNode } from './sim-node.js'
import { positiveInteger, resolveSimSettings, type SimNetworkOptions } from './sim-options.js'
import { SimTopology } from './sim-topology.js'
import { emptySimStats, type SimStats, type SimWorld, type TrafficKind } from './sim-world.js'
import { TraceHash } from './trace-hash.js'
import { VirtualClock } from './virtual-clock.js'

export class SimNetwork implements SimWorld<SimNode> {
  readonly crypto: Crypto
  readonly clock = new VirtualClock()
  readonly random: Random
  readonly limits: NetworkLimits
  readonly stats: SimStats = emptySimStats()
  readonly gossipTtl: number
  readonly antiEntropyIntervalMs: number
  readonly antiEntropyWindowMs: number
  readonly maxStoredMessages: number

  readonly #degree: number
  readonly #keyRandom: Random
  readonly #topology: SimTopology
  readonly #links: LinkModel
  readonly #trace = new TraceHash()
  readonly #loop = new RunLoop(this.clock)

  constructor(options: SimNetworkOptions) {
    if (options.crypto === undefined) throw new GossipError(GossipErrorCode.INVALID_INPUT, 'crypto is required')
    this.crypto = options.crypto
    this.random = createRandom(options.seed)
    // Keys come from their own stream, so adding a node never shifts the randomness of the links.
    this.#keyRandom = this.random.fork()
    this.limits = resolveLimits(options.limits, DEFAULT_LIMITS)
    const settings = resolveSimSettings(options)
    this.#degree = settings.degree
    this.gossipTtl = settings.gossipTtl
    this.antiEntropyIntervalMs = settings.antiEntropyIntervalMs
    this.antiEntropyWindowMs = settings.antiEntropyWindowMs
    this.maxStoredMessages = settings.maxStoredMessages
    this.#topology = new SimTopology(this.clock, settings.failureDetectionMs)
    this.#links = new LinkModel({
      clock: this.clock,
      random: this.random,
      stats: this.stats,
      settings,
      maxQueuedMessages: this.limits.maxQueuedMessages,
      maxLinkQueues: () => 4 * this.#topology.nodes.length * (this.#degree + 1),
      topology: this.#topology,
      trace: this.#trace,
    })
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
      if (this.#advertVerdicts.size > 4 * this.#topology.nodes.length + 1024) {
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
    if (this.#topology.nodeById(peerId) !== undefined) throw new GossipError(GossipErrorCode.INVALID_INPUT, `peer ${peerId} is already in the network`)
    const index = this.#topology.nodes.length
    const node = new SimNode(this, index, pair, peerId, this.limits)
    this.#topology.add(node)
    const wanted = Math.min(this.#degree, index)
    const chosen = new Set<number>()
    while (chosen.size < wanted) chosen.add(this.random.int(index))
    for (const other of chosen) this.connect(node, this.#topology.nodes[other] as SimNode)
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
    this.#topology.connect(a, b)
  }

  get nodes(): readonly SimNode[] {
    return this.#topology.nodes
  }

  nodeById(peerId: string): SimNode | undefined {
    return this.#topology.nodeById(peerId)
  }

  /** Running neighbours on this node's side of any partition. */
  neighboursOf(node: SimNode): readonly SimNode[] {
    return this.#topology.neighboursOf(node)
  }

  /** Splits the network: nodes in different groups cannot reach each other; unlisted nodes form one more group. */
  partition(groups: readonly (readonly PeerId[])[]): void {
    this.#topology.partition(groups)
  }

  /** Joins all partitions again. */
  heal(): void {
    this.#topology.heal()
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
    const node = this.#topology.nodeById(peer)
    if (node === undefined) throw new GossipError(GossipErrorCode.INVALID_INPUT, `unknown peer ${peer}`)
    return node
  }

  nodeStarted(node: SimNode): void {
    this.#topology.nodeStarted(node)
  }

  nodeStopped(node: SimNode): void {
    this.#topology.nodeStopped(node)
  }

  transmit(from: SimNode, to: SimNode, bytes: number, kind: TrafficKind, deliver: () => void): void {
    this.#links.transmit(from, to, bytes, kind, deliver)
  }

  trace(kind: number, from: number, to: number, detail: number): void {
    this.#trace.record(this.clock.now(), kind, from, to, detail)
  }

  /**
   * Fingerprint of everything that happened so far — every transmission delivered (gossip, digests, requests,
   * responses: time, kind, sender, receiver, size) and every gossip message judged — equal seeds and inputs give
   * equal hashes.
   */
  traceHash(): string {
    return this.#trace.digest()
  }

  track(work: Promise<unknown>): void {
    this.#loop.track(work)
  }

  /**
   * Runs events until `until` (virtual ms) passes, or — without `until` — until nothing but background
   * maintenance (anti-entropy) is left, or `maxEvents` have run. Returns the number of events run.
   */
  run(options?: RunOptions): Promise<number> {
    return this.#loop.run(options)
  }

  /** Runs until `promise` settles (then returns its value or throws its error) or the virtual `timeoutMs` passes. */
  runUntil<T>(promise: Promise<T>, timeoutMs?: number): Promise<T> {
    return this.#loop.runUntil(promise, timeoutMs)
  }
}
