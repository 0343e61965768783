/**
 * The host's own chain as the host writes it: the head its next half-block builds on, and the rule that building,
 * settling (in the ledger, when the host has one) and committing a pair happen one pair at a time, each starting
 * from the head the last one left.
 */
import { advanceHead, type BlockAuthor, type ChainHead, type HalfBlock, type Ledger } from '@constellation/trustchain'
import { rejected } from './refusal.js'

export class HostChain {
  readonly author: BlockAuthor
  readonly #ledger: Ledger | undefined
  #head: ChainHead
  #queue: Promise<unknown> = Promise.resolve()

  constructor(author: BlockAuthor, head: ChainHead, ledger: Ledger | undefined) {
    this.author = author
    this.#head = head
    this.#ledger = ledger
  }

  /** The head after the host's latest half-block. */
  get head(): ChainHead {
    return this.#head
  }

  /** Makes `block`, built on the current head, the head. */
  append(block: HalfBlock): HalfBlock {
    this.#head = advanceHead(this.author.crypto, this.#head, block)
    return block
  }

  /** Moves the head to one already advanced past blocks built on the current head. */
  advanceTo(head: ChainHead): void {
    this.#head = head
  }

  /** Runs `step` after every earlier one has finished: the host's chain grows one settled pair at a time. */
  exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step, step)
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Stores a pair (and the host's blocks after it) in the host's ledger, if it has one; refused blocks refuse the pair. */
  async settle(blocks: readonly HalfBlock[]): Promise<void> {
    if (this.#ledger === undefined) return
    const outcomes = await this.#ledger.ingest(blocks)
    for (const outcome of outcomes) {
      if (outcome.status !== 'rejected') continue
      const { code, message, detail } = outcome.error
      throw rejected(`the ledger refuses the transaction: ${message}`, { ledgerCode: code, ...detail })
    }
  }
}
