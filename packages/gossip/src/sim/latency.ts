/** Latency models for the simulator: functions from the seeded generator to a delay in milliseconds. */
import type { Random } from '../random.js'

export type LatencyModel = (random: Random) => number

export function constantLatency(ms: number): LatencyModel {
  return () => ms
}

export function uniformLatency(minMs: number, maxMs: number): LatencyModel {
  if (!(minMs >= 0 && maxMs >= minMs)) throw new RangeError(`need 0 <= min <= max, got ${minMs}, ${maxMs}`)
  return (random) => minMs + random.next() * (maxMs - minMs)
}

/** Log-normal around `medianMs`: most links are near the median, a few are much slower, as on the Internet. */
export function logNormalLatency(medianMs: number, sigma = 0.5): LatencyModel {
  if (!(medianMs > 0 && sigma >= 0)) throw new RangeError(`need median > 0 and sigma >= 0`)
  return (random) => {
    // Box–Muller from two uniforms (1 - u keeps the logarithm finite).
    const u = 1 - random.next()
    const v = random.next()
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    return medianMs * Math.exp(sigma * normal)
  }
}
