/**
 * A simulated node's memory for anti-entropy: the gossip of the last `antiEntropyWindowMs` (at most
 * `maxStoredMessages`), listed in the digests it sends and offered to neighbours whose digests lack it. This is how
 * nodes catch up after a partition heals or a restart; a crash empties it.
 */
import type { GossipEnvelope } from './sim-envelope.js'
import type { SimWorld } from './sim-world.js'

interface StoredMessage {
  readonly envelope: GossipEnvelope
  readonly at: number
  /** False for messages this node rejected or ignored: listed in digests (so nobody sends them again), never offered. */
  readonly offer: boolean
}

type StoreSettings = Pick<SimWorld<unknown>, 'clock' | 'antiEntropyIntervalMs' | 'antiEntropyWindowMs' | 'maxStoredMessages'>

export class AntiEntropyStore {
  readonly #world: StoreSettings
  readonly #store = new Map<string, StoredMessage>()

  constructor(world: StoreSettings) {
    this.#world = world
  }

  /** Keeps a message seen now; `offer` is false for one this node did not accept. A no-op with anti-entropy off. */
  remember(envelope: GossipEnvelope, offer: boolean): void {
    const window = this.#world.antiEntropyWindowMs
    if (window <= 0 || this.#world.antiEntropyIntervalMs <= 0) return
    this.#store.set(envelope.id, { envelope, at: this.#world.clock.now(), offer })
    if (this.#store.size > this.#world.maxStoredMessages) {
      const oldest = this.#store.keys().next().value
      if (oldest !== undefined) this.#store.delete(oldest)
    }
  }

  /** The ids of every message held within the window: what this node sends when it pulls. */
  digest(): string[] {
    this.#expire()
    return [...this.#store.keys()]
  }

  /** The accepted messages held within the window that a neighbour's `digest` does not list. */
  missingFrom(digest: readonly string[]): GossipEnvelope[] {
    this.#expire()
    const theirs = new Set(digest)
    const missing: GossipEnvelope[] = []
    for (const { envelope, offer } of this.#store.values()) {
      if (offer && !theirs.has(envelope.id)) missing.push(envelope)
    }
    return missing
  }

  clear(): void {
    this.#store.clear()
  }

  #expire(): void {
    const cutoff = this.#world.clock.now() - this.#world.antiEntropyWindowMs
    for (const [id, stored] of this.#store) {
      if (stored.at >= cutoff) break // insertion order is time order
      this.#store.delete(id)
    }
  }
}
