/** The ledger's record of the blocks it accepted whose store write is still under way. */
import type { HalfBlock } from '../block/half-block.js'
import { chainKey } from '../store/position-key.js'

/** The blocks of one chain that earlier batches accepted and whose write has not completed yet. */
export interface PendingChain {
  /** Pending blocks of this chain, by sequence number. */
  readonly blocks: Map<number, HalfBlock>
  /** Pending blocks linking to positions of this chain (agreements, voids), by the target's sequence number. */
  readonly links: Map<number, readonly HalfBlock[]>
}

/**
 * Blocks accepted by earlier batches whose store write has not completed yet. Later batches validate against them,
 * so validating batch k+1 overlaps with writing batch k; a batch is acknowledged only once its own write and every
 * earlier one are done. Kept as the list of batches, and indexed (by chain, then sequence number) only when a batch
 * is validated while writes are pending — a node ingesting one batch at a time never pays for the index.
 */
export class PendingWrites {
  readonly #batches = new Set<readonly HalfBlock[]>()

  get empty(): boolean {
    return this.#batches.size === 0
  }

  add(blocks: readonly HalfBlock[]): void {
    this.#batches.add(blocks)
  }

  remove(blocks: readonly HalfBlock[]): void {
    this.#batches.delete(blocks)
  }

  /**
   * The pending blocks as one batch's view sees them: a copy, since an earlier write may complete (and `remove` its
   * blocks) while the batch is being validated, after the view has already read those positions from the store as
   * absent.
   */
  index(): Map<string, PendingChain> {
    const chains = new Map<string, PendingChain>()
    const chainOf = (publicKey: Uint8Array): PendingChain => {
      const key = chainKey(publicKey)
      let chain = chains.get(key)
      if (chain === undefined) {
        chain = { blocks: new Map(), links: new Map() }
        chains.set(key, chain)
      }
      return chain
    }
    for (const batch of this.#batches) {
      for (const block of batch) {
        chainOf(block.publicKey).blocks.set(block.sequenceNumber, block)
        if (block.linkSequenceNumber > 0) {
          const links = chainOf(block.linkPublicKey).links as Map<number, HalfBlock[]>
          const list = links.get(block.linkSequenceNumber)
          if (list === undefined) links.set(block.linkSequenceNumber, [block])
          else list.push(block)
        }
      }
    }
    return chains
  }
}
