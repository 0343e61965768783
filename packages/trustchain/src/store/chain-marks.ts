/**
 * What the LevelDB store remembers of each chain's extent under one kind of key: the highest sequence number stored
 * (or the highest position something links to). Validation asks over and over for a block's successor and for the
 * agreements to a new proposal; past the mark the answer is "none" without a read. Marks are learnt from reads only
 * when no write finished during the read, so a read racing a write never caches a stale answer; writes keep the
 * known marks current. At most `capacity` chains are remembered, the oldest forgotten first.
 */
import { chainKey } from './position-key.js'

export class ChainMarks {
  readonly #marks = new Map<string, number>()
  readonly #capacity: number

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  /** The chain's mark (0: none), if known. */
  get(publicKey: Uint8Array): number | undefined {
    return this.#marks.get(chainKey(publicKey))
  }

  /**
   * The marks of `publicKeys` by chain key, from memory or one `read` per chain not known. `writes` counts the
   * store's finished writes: an answer read while one finished is used, not remembered.
   */
  async of(publicKeys: readonly Uint8Array[], read: (publicKey: Uint8Array) => Promise<number>, writes: () => number): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    const unknown = new Map<string, Uint8Array>()
    for (const publicKey of publicKeys) {
      const chain = chainKey(publicKey)
      const mark = this.#marks.get(chain)
      if (mark === undefined) unknown.set(chain, publicKey)
      else out.set(chain, mark)
    }
    if (unknown.size === 0) return out
    const before = writes()
    const found = await Promise.all([...unknown.values()].map(read))
    const fresh = before === writes()
    ;[...unknown.keys()].forEach((chain, i) => {
      const mark = found[i] as number
      if (fresh) this.#remember(chain, mark)
      out.set(chain, mark)
    })
    return out
  }

  /** A write reached `sequenceNumber` of the chain: a known mark below it rises (an unknown one is read when asked). */
  raise(publicKey: Uint8Array, sequenceNumber: number): void {
    const chain = chainKey(publicKey)
    const mark = this.#marks.get(chain)
    if (mark !== undefined && sequenceNumber > mark) this.#remember(chain, sequenceNumber)
  }

  clear(): void {
    this.#marks.clear()
  }

  #remember(chain: string, mark: number): void {
    if (this.#capacity === 0) return
    this.#marks.delete(chain)
    this.#marks.set(chain, mark)
    if (this.#marks.size > this.#capacity) this.#marks.delete(this.#marks.keys().next().value as string)
  }
}
