/**
 * `SimNetwork`'s options: the link model, the topology, epidemic gossip and anti-entropy settings, and failure
 * detection. They are checked here, each with a typed INVALID_INPUT error naming the option, before any node exists.
 */
import type { Crypto } from '@constellation/crypto'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { NetworkLimits } from '../network.js'
import { type LatencyModel, uniformLatency } from './latency.js'

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

/** The options with their defaults filled in, all checked. */
export interface SimSettings {
  readonly latency: LatencyModel
  readonly lossRate: number
  readonly duplicateRate: number
  readonly reorderRate: number
  readonly reorderDelayMs: number
  readonly bandwidthBytesPerSecond: number
  readonly degree: number
  readonly gossipTtl: number
  readonly antiEntropyIntervalMs: number
  readonly antiEntropyWindowMs: number
  readonly maxStoredMessages: number
  readonly failureDetectionMs: number
}

/** Fills in the defaults and checks every setting but `crypto`, `seed` and `limits` (checked by their users). */
export function resolveSimSettings(options: SimNetworkOptions): SimSettings {
  // The checks run in this order so that, of several bad options, the same one is reported as always.
  const latency = options.latency ?? uniformLatency(10, 50)
  const lossRate = probability('lossRate', options.lossRate)
  const duplicateRate = probability('duplicateRate', options.duplicateRate)
  const reorderRate = probability('reorderRate', options.reorderRate)
  const bandwidthBytesPerSecond = options.bandwidthBytesPerSecond ?? Number.POSITIVE_INFINITY
  if (!(bandwidthBytesPerSecond > 0)) throw new GossipError(GossipErrorCode.INVALID_INPUT, 'bandwidthBytesPerSecond must be positive')
  const degree = positiveInteger('degree', options.degree ?? 8, 0)
  const gossipTtl = positiveInteger('gossipTtl', options.gossipTtl ?? 12)
  const antiEntropyIntervalMs = nonNegative('antiEntropyIntervalMs', options.antiEntropyIntervalMs ?? 1000)
  const antiEntropyWindowMs = nonNegative('antiEntropyWindowMs', options.antiEntropyWindowMs ?? 60_000)
  const maxStoredMessages = positiveInteger('maxStoredMessages', options.maxStoredMessages ?? 1024)
  const failureDetectionMs = nonNegative('failureDetectionMs', options.failureDetectionMs ?? 1000)
  const reorderDelayMs = nonNegative('reorderDelayMs', options.reorderDelayMs ?? 100)
  return {
    latency,
    lossRate,
    duplicateRate,
    reorderRate,
    reorderDelayMs,
    bandwidthBytesPerSecond,
    degree,
    gossipTtl,
    antiEntropyIntervalMs,
    antiEntropyWindowMs,
    maxStoredMessages,
    failureDetectionMs,
  }
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

export function positiveInteger(name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `${name} must be an integer >= ${min}, got ${value}`)
  }
  return value
}
