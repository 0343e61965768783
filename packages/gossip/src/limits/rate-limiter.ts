/**
 * Per-peer token buckets: each peer may send `ratePerSecond` items per second on average, with bursts up to one
 * second's worth. Time comes from the injected clock so the simulator's virtual time applies. Buckets of peers
 * not heard from for a while are dropped, so the table stays bounded by the active peers.
 */
import type { Clock } from '../clock.js'

interface Bucket {
  tokens: number
  updatedAt: number
}

export class PeerRateLimiter {
  readonly #clock: Clock
  readonly #rate: number
  readonly #buckets = new Map<string, Bucket>()
  #sweptAt: number

  constructor(clock: Clock, ratePerSecond: number) {
    if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`)
    this.#clock = clock
    this.#rate = ratePerSecond
    this.#sweptAt = clock.now()
  }

  /** Takes one token for `peer`; false when its bucket is empty. */
  tryTake(peer: string): boolean {
    const now = this.#clock.now()
    let bucket = this.#buckets.get(peer)
    if (bucket === undefined) {
      bucket = { tokens: this.#rate, updatedAt: now }
      this.#buckets.set(peer, bucket)
    } else {
      bucket.tokens = Math.min(this.#rate, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate)
      bucket.updatedAt = now
    }
    if (now - this.#sweptAt > 60_000) this.#sweep(now)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  #sweep(now: number): void {
    this.#sweptAt = now
    // A bucket idle for a second is full again: forgetting it changes nothing.
    for (const [peer, bucket] of this.#buckets) if (now - bucket.updatedAt > 1000) this.#buckets.delete(peer)
  }
}
