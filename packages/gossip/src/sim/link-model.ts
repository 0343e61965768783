/**
 * The simulator's links: how one transmission from one node to another fares. Latency comes from the latency
 * model; gossip and anti-entropy digests may be lost or duplicated (requests and responses ride reliable streams);
 * any transmission may be held back (reordered); with a finite bandwidth each directed link sends one thing at a
 * time and tail-drops gossip once `maxQueuedMessages` wait. A partition, a crash or a restart in between loses what
 * was on the way. Every random draw comes from the simulation's one generator, in a fixed order per transmission.
 */
import { GossipError, GossipErrorCode } from '../errors.js'
import type { Random } from '../random.js'
import type { SimNode } from './sim-node.js'
import type { SimSettings } from './sim-options.js'
import type { SimStats, TrafficKind } from './sim-world.js'
import type { SimTopology } from './sim-topology.js'
import type { TraceHash } from './trace-hash.js'
import type { VirtualClock } from './virtual-clock.js'

export interface LinkModelComponents {
  readonly clock: VirtualClock
  readonly random: Random
  readonly stats: SimStats
  readonly settings: Pick<SimSettings, 'latency' | 'lossRate' | 'duplicateRate' | 'reorderRate' | 'reorderDelayMs' | 'bandwidthBytesPerSecond'>
  /** Transmissions one link may have waiting before gossip on it is dropped. */
  readonly maxQueuedMessages: number
  /** Link queues held at most before the idle ones are pruned (grows with the network). */
  maxLinkQueues(): number
  /** Says whether a partition lies between two nodes. */
  readonly topology: Pick<SimTopology, 'reachable'>
  /** The run's trace hash, which every delivery is folded into. */
  readonly trace: Pick<TraceHash, 'record'>
}

const TRAFFIC_CODES: Record<TrafficKind, number> = { gossip: 1, control: 2, request: 3, response: 4 }

export class LinkModel {
  readonly #components: LinkModelComponents
  /** Per directed link with a finite bandwidth, the times its queued transmissions finish sending. */
  readonly #linkQueues = new Map<string, number[]>()

  constructor(components: LinkModelComponents) {
    this.#components = components
  }

  /** Sends `bytes` of `kind` from one node to another; `deliver` runs at the receiver if the transmission arrives. */
  transmit(from: SimNode, to: SimNode, bytes: number, kind: TrafficKind, deliver: () => void): void {
    const { clock, random, stats, settings } = this.#components
    stats.sent[kind]++
    stats.bytes += bytes
    // Each node's traffic() counts what it sends (lost or not) and what reaches it; digests are the simulator's own.
    const counted = kind !== 'control'
    if (counted) from.countTraffic('sent', kind, bytes)
    const lossy = kind === 'gossip' || kind === 'control'
    if (!this.#components.topology.reachable(from, to) || (lossy && settings.lossRate > 0 && random.next() < settings.lossRate)) {
      stats.lost++
      return
    }
    let delay = this.#delay()
    if (settings.reorderRate > 0 && random.next() < settings.reorderRate) delay += settings.reorderDelayMs
    const now = clock.now()
    const bandwidth = settings.bandwidthBytesPerSecond
    if (Number.isFinite(bandwidth)) {
      // The link sends one thing at a time: queue behind what it is already sending. Gossip is tail-dropped when
      // `maxQueuedMessages` transmissions already wait; requests and responses ride streams and always queue.
      const key = `${from.index}:${to.index}`
      let queued = this.#linkQueues.get(key)
      if (queued === undefined) {
        queued = []
        this.#linkQueues.set(key, queued)
      }
      while (queued.length > 0 && (queued[0] as number) <= now) queued.shift()
      if (lossy && queued.length >= this.#components.maxQueuedMessages) {
        stats.lost++
        return
      }
      const freeAt = queued.length > 0 ? (queued[queued.length - 1] as number) : now
      const doneAt = freeAt + (bytes / bandwidth) * 1000
      queued.push(doneAt)
      delay += doneAt - now
      if (queued.length === 1 && this.#linkQueues.size > this.#components.maxLinkQueues()) this.#pruneLinkQueues(now)
    }
    const toEpoch = to.epoch
    const kindCode = TRAFFIC_CODES[kind]
    const arrive = () => {
      if (to.running && to.epoch === toEpoch && this.#components.topology.reachable(from, to)) {
        this.#components.trace.record(clock.now(), kindCode, from.index, to.index, bytes)
        if (counted) to.countTraffic('received', kind, bytes)
        deliver()
      } else {
        stats.lost++
      }
    }
    clock.setTimer(delay, arrive)
    if (lossy && settings.duplicateRate > 0 && random.next() < settings.duplicateRate) {
      clock.setTimer(this.#delay(), arrive)
    }
  }

  #delay(): number {
    const delay = this.#components.settings.latency(this.#components.random)
    if (!(delay >= 0) || !Number.isFinite(delay)) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `the latency model returned ${delay}; it must return finite ms >= 0`)
    }
    return delay
  }

  #pruneLinkQueues(now: number): void {
    for (const [key, queued] of this.#linkQueues) if ((queued.at(-1) ?? 0) <= now) this.#linkQueues.delete(key)
  }
}
