/**
 * A bounded cache keyed by position (chain, then sequence number), for what a store has read or written lately.
 *
 * Two generations instead of a strict least-recently-used order: entries go into the young generation, and when it
 * is full the old one is dropped and the young one becomes old. A lookup that finds an entry in the old generation
 * moves it to the young one. Every operation is a map lookup or two, with no bookkeeping per entry, and at most
 * `capacity` entries are held.
 */
import { PositionMap } from './position-key.js'

export class PositionCache<V> {
  #young = new PositionMap<V>()
  #old = new PositionMap<V>()
  readonly #generation: number

  constructor(readonly capacity: number) {
    this.#generation = Math.max(1, Math.floor(capacity / 2))
  }

  get(publicKey: Uint8Array, sequenceNumber: number): V | undefined {
    if (this.capacity === 0) return undefined
    const young = this.#young.get(publicKey, sequenceNumber)
    if (young !== undefined) return young
    const old = this.#old.get(publicKey, sequenceNumber)
    if (old !== undefined) {
      this.#old.delete(publicKey, sequenceNumber)
      this.set(publicKey, sequenceNumber, old)
    }
    return old
  }

  set(publicKey: Uint8Array, sequenceNumber: number, value: V): void {
    if (this.capacity === 0) return
    this.#old.delete(publicKey, sequenceNumber)
    if (!this.#young.has(publicKey, sequenceNumber) && this.#young.size >= this.#generation) {
      this.#old = this.#young
      this.#young = new PositionMap()
    }
    this.#young.set(publicKey, sequenceNumber, value)
  }

  clear(): void {
    this.#young.clear()
    this.#old.clear()
  }
}
