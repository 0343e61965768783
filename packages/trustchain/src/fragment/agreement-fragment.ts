/**
 * Agreement fragments: the stretch of one chain between two of its checkpoint blocks.
 *
 * Finality proofs (in the consensus package) show that a transaction half lies in a fragment that ends in a
 * checkpoint included in a certified consensus result. This module gives the fragment and the check, both usable by
 * anyone from the blocks alone: the fragment must be a contiguous, correctly signed hash chain from one checkpoint
 * to the other, and the half must be strictly inside it exactly once — its own hash once, and no second agreement
 * to the same proposal in the fragment.
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import { blockHash } from '../block/block-encoding.js'
import { type HalfBlock, isAgreement } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import type { BlockStore } from '../store/block-store.js'

export interface AgreementFragment {
  readonly publicKey: Uint8Array
  /** Every block from the opening checkpoint to the closing one, inclusive, in order. */
  readonly blocks: readonly HalfBlock[]
}

function invalid(message: string, detail: Record<string, unknown> = {}): TrustChainError {
  return new TrustChainError(TrustChainErrorCode.INVALID_FRAGMENT, message, detail)
}

/** Why `fragment` is not a valid fragment between two checkpoints, or undefined when it is. */
export function checkFragment(crypto: Crypto, fragment: AgreementFragment): string | undefined {
  const { blocks } = fragment
  const first = blocks[0]
  const last = blocks.at(-1)
  if (first === undefined || last === undefined || blocks.length < 2) return 'a fragment needs two checkpoints'
  if (first.type !== 'checkpoint' || last.type !== 'checkpoint') return 'a fragment must start and end with checkpoint blocks'
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i] as HalfBlock
    if (!equalBytes(block.publicKey, fragment.publicKey)) return `block ${i} belongs to another chain`
    if (block.sequenceNumber !== first.sequenceNumber + i) return `block ${i} breaks the sequence`
    const hash = blockHash(crypto, block)
    if (!crypto.verify(block.signature, hash, block.publicKey)) return `block ${i} is not signed by its author`
    if (i > 0 && !equalBytes(block.previousHash, blockHash(crypto, blocks[i - 1] as HalfBlock))) {
      return `block ${i} does not follow block ${i - 1}`
    }
  }
  return undefined
}

/** Reads the fragment between two checkpoint blocks of one chain from a store, and checks it. */
export async function extractFragment(crypto: Crypto, store: BlockStore, from: HalfBlock, to: HalfBlock): Promise<AgreementFragment> {
  if (!equalBytes(from.publicKey, to.publicKey)) throw invalid('the two checkpoints belong to different chains')
  if (from.sequenceNumber >= to.sequenceNumber) throw invalid('the opening checkpoint must come before the closing one')
  const blocks = await store.range(from.publicKey, from.sequenceNumber, to.sequenceNumber)
  if (blocks.length !== to.sequenceNumber - from.sequenceNumber + 1) {
    throw invalid('the store lacks blocks between the two checkpoints', { missing: to.sequenceNumber - from.sequenceNumber + 1 - blocks.length })
  }
  const ends = [blocks[0], blocks.at(-1)] as [HalfBlock, HalfBlock]
  if (!equalBytes(blockHash(crypto, ends[0]), blockHash(crypto, from)) || !equalBytes(blockHash(crypto, ends[1]), blockHash(crypto, to))) {
    throw invalid('the stored chain holds other blocks at the checkpoints’ positions')
  }
  const fragment = { publicKey: from.publicKey, blocks }
  const why = checkFragment(crypto, fragment)
  if (why !== undefined) throw invalid(why)
  return fragment
}

/**
 * True when `half` lies strictly between the fragment's checkpoints exactly once. The fragment must be valid
 * (`checkFragment`); this is checked again here so that a forged fragment can never prove inclusion.
 */
export function containsExactlyOnce(crypto: Crypto, fragment: AgreementFragment, half: HalfBlock): boolean {
  if (checkFragment(crypto, fragment) !== undefined) return false
  const inner = fragment.blocks.slice(1, -1)
  const hash = blockHash(crypto, half)
  const same = inner.filter((block) => equalBytes(blockHash(crypto, block), hash)).length
  if (same !== 1) return false
  if (!isAgreement(half)) return true
  // An honest chain answers a proposal once; a second agreement to it in the fragment makes inclusion ambiguous.
  const answers = inner.filter(
    (block) => isAgreement(block) && equalBytes(block.linkPublicKey, half.linkPublicKey) && block.linkSequenceNumber === half.linkSequenceNumber,
  )
  return answers.length === 1
}
