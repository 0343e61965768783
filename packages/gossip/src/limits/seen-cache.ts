/**
 * A bounded set of recently seen message ids: gossip deduplication must not grow without bound, so the oldest
 * ids are forgotten first. Forgetting only risks a late duplicate being delivered again, and handlers are
 * idempotent by contract.
 */
export class SeenCache {
  readonly #capacity: number
  readonly #ids = new Set<string>()

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be >= 1, got ${capacity}`)
    this.#capacity = capacity
  }

  has(id: string): boolean {
    return this.#ids.has(id)
  }

  /** Adds `id`; returns false when it was already there. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false
    this.#ids.add(id)
    if (this.#ids.size > this.#capacity) {
      // A Set iterates in insertion order: the first entry is the oldest.
      const oldest = this.#ids.values().next().value
      if (oldest !== undefined) this.#ids.delete(oldest)
    }
    return true
  }

  get size(): number {
    return this.#ids.size
  }

  clear(): void {
    this.#ids.clear()
  }
}
