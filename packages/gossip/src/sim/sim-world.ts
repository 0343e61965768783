/**
 * What a `SimNode` needs from the simulator that hosts it (implemented by `SimNetwork`). Generic in the node type,
 * which the simulator hands back to the node, so that this interface and the node do not import each other.
 */
import type { Crypto } from '@constellation/crypto'
import type { SignedResourceAdvert } from '../advert/resource-advert.js'
import type { Random } from '../random.js'
import type { VirtualClock } from './virtual-clock.js'

export type TrafficKind = 'gossip' | 'control' | 'request' | 'response'

export interface SimStats {
  /** Gossip messages handed to a node for the first time. */
  delivered: number
  /** Sum and maximum of the hop counts of those first deliveries (mean hops = hopsTotal / delivered). */
  hopsTotal: number
  maxHops: number
  /** Gossip copies that arrived at a node that had already seen them. */
  duplicates: number
  /** Gossip dropped by a receiver's rate limit or penalty box. */
  throttled: number
  /** Gossip whose handlers rejected it. */
  rejected: number
  /** Transmissions lost to the loss rate, a partition, a full link queue or a dead receiver. */
  lost: number
  /** Transmissions scheduled, per kind. */
  sent: Record<TrafficKind, number>
  /** Bytes scheduled. */
  bytes: number
}

/** Stats of a simulation that has not run yet. */
export function emptySimStats(): SimStats {
  return {
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
}

export interface SimWorld<Node> {
  readonly crypto: Crypto
  readonly clock: VirtualClock
  readonly random: Random
  readonly stats: SimStats
  readonly gossipTtl: number
  readonly antiEntropyIntervalMs: number
  readonly antiEntropyWindowMs: number
  readonly maxStoredMessages: number
  sha256(data: Uint8Array): Uint8Array
  /** Advert signature check, memoised across the simulation's nodes. */
  verifyAdvert(signed: SignedResourceAdvert): boolean
  neighboursOf(node: Node): readonly Node[]
  nodeById(peerId: string): Node | undefined
  transmit(from: Node, to: Node, bytes: number, kind: TrafficKind, deliver: () => void): void
  trace(kind: number, from: number, to: number, detail: number): void
  /** Keeps the run loop yielding to promise continuations until `work` settles. */
  track(work: Promise<unknown>): void
  nodeStarted(node: Node): void
  nodeStopped(node: Node): void
}
