/**
 * What one ingest batch knows of the chains it touches: the store's answers, overlaid with the pending writes of
 * earlier batches and the blocks the batch itself accepted so far. It looks up everything validation will ask for in
 * as few store round trips as possible (one `getMany` for all neighbours and linked proposals, one `getLinkedMany`
 * for the agreements to the proposals involved), and builds each block's `ValidationContext` from that, reading the
 * store again only for what was not prefetched (a walk back for a balance, whether an unconnected chain is known).
 */
import { type BlockKey, type HalfBlock, isAgreement, isProposal, isVoid } from '../block/half-block.js'
import { statedBalance } from '../block/payloads.js'
import type { BlockStore } from '../store/block-store.js'
import { chainKey } from '../store/position-key.js'
import type { ValidationContext } from '../validation/validate-block.js'
import type { PendingChain, PendingWrites } from './pending-writes.js'

/** Agreements from two sources without repeating a block (a write may land between two lookups). */
function mergeLinks(first: readonly HalfBlock[], second: readonly HalfBlock[] | undefined): readonly HalfBlock[] {
  if (second === undefined || second.length === 0) return first
  if (first.length === 0) return second
  return [...first, ...second.filter((block) => !first.includes(block))]
}

const NO_BLOCKS: readonly HalfBlock[] = Object.freeze([])
const NO_PENDING: ReadonlyMap<string, PendingChain> = new Map()

/** What one batch knows of one chain: the store's answers, overlaid with pending blocks and the batch's own. */
export interface ChainView {
  readonly publicKey: Uint8Array
  /** Store answers by sequence number; `null` = known to be absent. */
  readonly fetched: Map<number, HalfBlock | null>
  /** Blocks accepted earlier in this batch. */
  readonly accepted: Map<number, HalfBlock>
  /** The store's blocks linking to positions of this chain, by the target's sequence number. */
  readonly storedLinks: Map<number, readonly HalfBlock[]>
  /** This batch's accepted blocks linking to positions of this chain. */
  readonly acceptedLinks: Map<number, HalfBlock[]>
  /** Pending writes of earlier batches touching this chain. */
  readonly pending: PendingChain | undefined
}

/** The blocks known to one ingest call: the store's answers overlaid with blocks accepted earlier in the batch. */
export class BatchView {
  readonly #chains = new Map<string, ChainView>()
  readonly #pending: ReadonlyMap<string, PendingChain>

  constructor(
    readonly store: BlockStore,
    pending: PendingWrites,
  ) {
    this.#pending = pending.empty ? NO_PENDING : pending.index()
  }

  /** The view of the chain of `publicKey`. */
  chain(publicKey: Uint8Array): ChainView {
    const key = chainKey(publicKey)
    let chain = this.#chains.get(key)
    if (chain === undefined) {
      chain = {
        publicKey,
        fetched: new Map(),
        accepted: new Map(),
        storedLinks: new Map(),
        acceptedLinks: new Map(),
        pending: this.#pending.get(key),
      }
      this.#chains.set(key, chain)
    }
    return chain
  }

  /** Looks up, in one `getMany` and one `getLinkedMany`, everything the batch's validation will ask for. */
  async prefetch(blocks: readonly HalfBlock[]): Promise<void> {
    const keys: BlockKey[] = []
    const keyChains: ChainView[] = []
    const targets: BlockKey[] = []
    const targetChains: ChainView[] = []
    // Placeholders mark what is asked for already; the answers replace them below.
    const want = (chain: ChainView, sequenceNumber: number) => {
      if (sequenceNumber < 1 || chain.fetched.has(sequenceNumber)) return
      chain.fetched.set(sequenceNumber, null)
      keys.push({ publicKey: chain.publicKey, sequenceNumber })
      keyChains.push(chain)
    }
    const wantLinks = (chain: ChainView, sequenceNumber: number) => {
      if (chain.storedLinks.has(sequenceNumber)) return
      chain.storedLinks.set(sequenceNumber, NO_BLOCKS)
      targets.push({ publicKey: chain.publicKey, sequenceNumber })
      targetChains.push(chain)
    }
    for (const block of blocks) {
      const chain = this.chain(block.publicKey)
      want(chain, block.sequenceNumber)
      want(chain, block.sequenceNumber - 1)
      want(chain, block.sequenceNumber + 1)
      if (isAgreement(block) || isVoid(block)) {
        const linked = this.chain(block.linkPublicKey)
        want(linked, block.linkSequenceNumber)
        if (block.linkSequenceNumber >= 1) wantLinks(linked, block.linkSequenceNumber)
      } else if (isProposal(block)) {
        wantLinks(chain, block.sequenceNumber)
      }
    }
    const [found, links] = await Promise.all([keys.length === 0 ? [] : this.store.getMany(keys), targets.length === 0 ? [] : this.store.getLinkedMany(targets)])
    for (let i = 0; i < keys.length; i++) (keyChains[i] as ChainView).fetched.set((keys[i] as BlockKey).sequenceNumber, found[i] ?? null)
    for (let i = 0; i < targets.length; i++) (targetChains[i] as ChainView).storedLinks.set((targets[i] as BlockKey).sequenceNumber, links[i] ?? NO_BLOCKS)
  }

  /** The block at a position if the view knows (`undefined` = absent), or `unknown` if the store must be asked. */
  known(chain: ChainView, sequenceNumber: number): HalfBlock | undefined | 'unknown' {
    const accepted = chain.accepted.get(sequenceNumber) ?? chain.pending?.blocks.get(sequenceNumber)
    if (accepted !== undefined) return accepted
    const fetched = chain.fetched.get(sequenceNumber)
    return fetched === undefined ? 'unknown' : (fetched ?? undefined)
  }

  async block(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock | undefined> {
    const chain = this.chain(publicKey)
    const known = this.known(chain, sequenceNumber)
    if (known !== 'unknown') return known
    const block = await this.store.get(publicKey, sequenceNumber)
    chain.fetched.set(sequenceNumber, block ?? null)
    return block
  }

  /** Blocks linking to a position: the store's, then pending ones, then this batch's. */
  #links(chain: ChainView, sequenceNumber: number, stored: readonly HalfBlock[]): readonly HalfBlock[] {
    return mergeLinks(mergeLinks(stored, chain.pending?.links.get(sequenceNumber)), chain.acceptedLinks.get(sequenceNumber))
  }

  async linked(publicKey: Uint8Array, sequenceNumber: number): Promise<readonly HalfBlock[]> {
    const chain = this.chain(publicKey)
    let stored = chain.storedLinks.get(sequenceNumber)
    if (stored === undefined) {
      stored = await this.store.getLinked(publicKey, sequenceNumber)
      chain.storedLinks.set(sequenceNumber, stored)
    }
    return this.#links(chain, sequenceNumber, stored)
  }

  /** Whether the view holds blocks of the chain of its own (accepted in this batch, or pending). */
  static touched(chain: ChainView): boolean {
    return chain.accepted.size > 0 || (chain.pending !== undefined && chain.pending.blocks.size > 0)
  }

  /** Blocks of a chain between `from` and `to` known to the view, by sequence number. */
  async held(publicKey: Uint8Array, from: number, to: number): Promise<Map<number, HalfBlock>> {
    const found = new Map<number, HalfBlock>()
    if (to < from) return found
    for (const block of await this.store.range(publicKey, from, to)) found.set(block.sequenceNumber, block)
    const chain = this.chain(publicKey)
    if (BatchView.touched(chain)) {
      for (let seq = from; seq <= to; seq++) {
        const block = chain.accepted.get(seq) ?? chain.pending?.blocks.get(seq)
        if (block !== undefined) found.set(seq, block)
      }
    }
    return found
  }

  accept(block: HalfBlock, chain: ChainView): void {
    chain.accepted.set(block.sequenceNumber, block)
    if (block.linkSequenceNumber > 0) {
      const target = this.chain(block.linkPublicKey)
      const list = target.acceptedLinks.get(block.linkSequenceNumber)
      if (list === undefined) target.acceptedLinks.set(block.linkSequenceNumber, [block])
      else list.push(block)
    }
  }

  /**
   * The balance a block states (genesis, transfer, void, checkpoint). The ledger stores a block that states one only
   * once it has checked it, so a stored block's balance is a base later blocks may be checked against.
   */
  static statedBalance(block: HalfBlock): number | undefined {
    return statedBalance(block.type, block.payload)
  }

  /** Running balance of a chain after block `sequenceNumber` (0 before the first), if the blocks are known. */
  async balanceAfter(publicKey: Uint8Array, sequenceNumber: number): Promise<number | undefined> {
    for (let seq = sequenceNumber; seq >= 1; seq--) {
      const block = await this.block(publicKey, seq)
      if (block === undefined) return undefined
      const balance = BatchView.statedBalance(block)
      if (balance !== undefined) return balance
    }
    return 0
  }

  /**
   * The context from what was prefetched, without waiting: the common case of a batch. Undefined when something
   * must still be read from the store (a walk back for a balance, whether an unconnected chain is known).
   */
  quickContext(block: HalfBlock, chain: ChainView): ValidationContext | undefined {
    const existing = this.known(chain, block.sequenceNumber)
    const previous = block.sequenceNumber > 1 ? this.known(chain, block.sequenceNumber - 1) : undefined
    const next = this.known(chain, block.sequenceNumber + 1)
    if (existing === 'unknown' || previous === 'unknown' || next === 'unknown') return undefined
    const answer = isAgreement(block) || isVoid(block)
    let linkedProposal: HalfBlock | undefined
    let agreements: readonly HalfBlock[] = NO_BLOCKS
    if (answer || isProposal(block)) {
      const target = answer ? this.chain(block.linkPublicKey) : chain
      const targetSequence = answer ? block.linkSequenceNumber : block.sequenceNumber
      if (answer) {
        const known = this.known(target, targetSequence)
        if (known === 'unknown') return undefined
        linkedProposal = known
      }
      const stored = target.storedLinks.get(targetSequence)
      if (stored === undefined) return undefined
      agreements = this.#links(target, targetSequence, stored)
    }
    const chainKnown = existing !== undefined || previous !== undefined || next !== undefined || BatchView.touched(chain)
    if (!chainKnown) return undefined
    let previousBalance: number | undefined
    if (statedBalance(block.type, block.payload) !== undefined) {
      if (block.sequenceNumber === 1) previousBalance = 0
      else if (previous !== undefined) {
        previousBalance = BatchView.statedBalance(previous)
        if (previousBalance === undefined) return undefined
      }
    }
    return { existing, previous, next, chainKnown, linkedProposal, agreements, previousBalance }
  }

  async context(block: HalfBlock): Promise<ValidationContext> {
    const quick = this.quickContext(block, this.chain(block.publicKey))
    if (quick !== undefined) return quick
    const existing = await this.block(block.publicKey, block.sequenceNumber)
    const previous = block.sequenceNumber > 1 ? await this.block(block.publicKey, block.sequenceNumber - 1) : undefined
    const next = await this.block(block.publicKey, block.sequenceNumber + 1)
    const answer = isAgreement(block) || isVoid(block)
    const linkedProposal = answer ? await this.block(block.linkPublicKey, block.linkSequenceNumber) : undefined
    const agreements = answer
      ? await this.linked(block.linkPublicKey, block.linkSequenceNumber)
      : isProposal(block)
        ? await this.linked(block.publicKey, block.sequenceNumber)
        : []
    const chainKnown =
      existing !== undefined ||
      previous !== undefined ||
      next !== undefined ||
      BatchView.touched(this.chain(block.publicKey)) ||
      (await this.store.latest(block.publicKey)) !== undefined
    const previousBalance =
      statedBalance(block.type, block.payload) === undefined ? undefined : await this.balanceAfter(block.publicKey, block.sequenceNumber - 1)
    return { existing, previous, next, chainKnown, linkedProposal, agreements, previousBalance }
  }
}
