/**
 * A uniform sample of a stream of unknown length (reservoir sampling, Algorithm R): after n offers, each item has been
 * kept with probability capacity / n, so early and late items are equally likely. The devnet samples transfers this
 * way while the load runs and looks them up after it.
 */
import type { Random } from '@constellation/gossip'

export class Reservoir<T> {
  readonly #capacity: number
  readonly #random: Random
  readonly #items: T[] = []
  #seen = 0

  constructor(random: Random, capacity: number) {
    this.#random = random
    this.#capacity = capacity
  }

  offer(item: T): void {
    this.#seen++
    if (this.#items.length < this.#capacity) {
      this.#items.push(item)
      return
    }
    const slot = this.#random.int(this.#seen)
    if (slot < this.#capacity) this.#items[slot] = item
  }

  get items(): readonly T[] {
    return this.#items
  }
}
