/**
 * The node's own chain: one head, appended to in one order, written to the store in that order.
 *
 * Proposals, agreements, voids and checkpoints all extend the same chain, so they are built one at a time against
 * the head in memory (signing is synchronous, so building never interleaves) and written as batches chained one
 * after the other: a batch is durable only once every batch before it is, and nothing is sent before its batch is
 * durable. The newest own blocks stay in memory (`recent`), for the frames to counterparties and the stretch a
 * checkpoint submits; older ones are read from the store.
 */
import type { ChainHead } from '../block/block-builder.js'
import { advanceHead } from '../block/block-builder.js'
import type { HalfBlock } from '../block/half-block.js'
import type { BlockStore } from '../store/block-store.js'
import { readChainHead } from '../store/chain-head.js'
import type { Crypto } from '@constellation/crypto'

export class OwnChain {
  #head: ChainHead
  /** The newest own blocks, ascending and contiguous, at most `keep` of them. */
  #recent: HalfBlock[] = []
  #next: { blocks: HalfBlock[]; done: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined
  #writing = false
  #idle: (() => void) | undefined
  #broken: unknown

  private constructor(
    readonly crypto: Crypto,
    readonly publicKey: Uint8Array,
    readonly store: BlockStore,
    readonly keep: number,
    head: ChainHead,
  ) {
    this.#head = head
  }

  static async open(crypto: Crypto, store: BlockStore, publicKey: Uint8Array, keep: number): Promise<OwnChain> {
    const head = await readChainHead(crypto, store, publicKey)
    const chain = new OwnChain(crypto, publicKey, store, keep, head)
    if (head.sequenceNumber > 0) chain.#recent = await store.range(publicKey, Math.max(1, head.sequenceNumber - keep + 1), head.sequenceNumber)
    return chain
  }

  get head(): ChainHead {
    return this.#head
  }

  /** Builds the next block on the head (the builder signs it) and makes it the head. Not yet durable. */
  append(build: (head: ChainHead) => HalfBlock): HalfBlock {
    const block = build(this.#head)
    this.#head = advanceHead(this.crypto, this.#head, block)
    this.#recent.push(block)
    if (this.#recent.length > this.keep * 2) this.#recent = this.#recent.slice(-this.keep)
    return block
  }

  /**
   * Writes blocks (own blocks just appended, and other chains' blocks that go with them) after everything handed
   * over before them. Blocks handed over while a write is under way go together in the next one (group commit), so
   * many concurrent callers cost one store batch, not one each. A failed write breaks the chain for good: blocks
   * appended after it would build on blocks that are not on disk, so every later write fails with the same error and
   * the node must stop (and start again from the store).
   */
  persist(blocks: readonly HalfBlock[]): Promise<void> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken)
    if (this.#next === undefined) {
      let resolve!: () => void
      let reject!: (error: unknown) => void
      const done = new Promise<void>((res, rej) => {
        resolve = res
        reject = rej
      })
      this.#next = { blocks: [], done, resolve, reject }
    }
    this.#next.blocks.push(...blocks)
    const { done } = this.#next
    if (!this.#writing) void this.#drain()
    return done
  }

  async #drain(): Promise<void> {
    this.#writing = true
    while (this.#next !== undefined) {
      const batch = this.#next
      this.#next = undefined
      try {
        if (this.#broken !== undefined) throw this.#broken
        await this.store.write({ blocks: batch.blocks })
        batch.resolve()
      } catch (error) {
        this.#broken ??= error
        batch.reject(error)
      }
    }
    this.#writing = false
    const idle = this.#idle
    this.#idle = undefined
    idle?.()
  }

  /** Resolves once every block handed to `persist` so far is written (or failed). */
  settled(): Promise<void> {
    if (!this.#writing) return Promise.resolve()
    return new Promise((resolve) => {
      const before = this.#idle
      this.#idle = () => {
        before?.()
        resolve()
      }
    })
  }

  /** Own blocks `from..to` (inclusive), from memory when held there, else from the store. */
  async blocks(from: number, to: number): Promise<HalfBlock[]> {
    if (to < from) return []
    const oldest = this.#recent[0]?.sequenceNumber
    if (oldest !== undefined && from >= oldest) return this.#recent.slice(from - oldest, to - oldest + 1)
    return this.store.range(this.publicKey, from, to)
  }

  /** An own block, when it is among the recent ones. */
  recent(sequenceNumber: number): HalfBlock | undefined {
    const oldest = this.#recent[0]?.sequenceNumber
    return oldest === undefined ? undefined : this.#recent[sequenceNumber - oldest]
  }
}
