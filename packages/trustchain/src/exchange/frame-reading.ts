/**
 * How a counterparty reads a proposer's frame — pure: what it already knows of the proposer's chain, the certified
 * anchor, and the frame's blocks in; the proposals addressed to it, each with what the proposer may still spend at
 * that point, and the proposer's chain as now known, out.
 *
 * The frame's blocks split at the anchor. Blocks at or below it are certified: they must reach the anchor and hash
 * back from it, and their proposals need no balance check (facilitators made it). Blocks above it continue what the
 * counterparty saw of the stretch before (`extendStretch` from the anchor, or from the tail it kept) and are checked
 * in full but for signatures: the caller verifies the signature of every proposal addressed to it, and a verified
 * block authenticates every block below it through the hash links. So blocks after the last proposal addressed to
 * the counterparty are not taken in (nothing it verifies vouches for them).
 */
import { equalBytes } from '@constellation/crypto'
import { blockHash } from '../block/block-encoding.js'
import { type HalfBlock, isProposal } from '../block/half-block.js'
import type { CertifiedAnchor } from '../anchor/chain-anchor.js'
import { extendStretch, rebaseStretch, type StretchOptions, stretchFrom, type StretchTail } from '../anchor/stretch.js'

/** A proposal addressed to the reader, where it sits, and whether the proposer can pay it. */
export interface ReadProposal {
  readonly block: HalfBlock
  /** At or below the anchor: certified already, its balance checked by the facilitators. */
  readonly certified: boolean
  /** What the proposer may still spend after this proposal (negative: an overdraft); certified ones: 0. */
  readonly available: number
}

export type FrameReading =
  | { readonly kind: 'proposals'; readonly proposals: readonly ReadProposal[]; readonly tail: StretchTail | undefined }
  /** Send the blocks `from..to` first. */
  | { readonly kind: 'resend'; readonly from: number; readonly to: number }
  | { readonly kind: 'declined'; readonly reason: string }

/**
 * Reads `blocks` (a contiguous run of `proposer`'s chain) as the counterparty `self` that kept `known` of that chain
 * (a tail from an earlier frame, possibly from an older anchor).
 */
export function readFrame(
  self: Uint8Array,
  proposer: Uint8Array,
  anchor: CertifiedAnchor,
  known: StretchTail | undefined,
  blocks: readonly HalfBlock[],
  options: Omit<StretchOptions, 'signatures'>,
): FrameReading {
  const { crypto } = options
  const first = blocks[0]
  if (first === undefined) return { kind: 'proposals', proposals: [], tail: known }
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i] as HalfBlock
    if (!equalBytes(block.publicKey, proposer)) return { kind: 'declined', reason: 'the frame holds another chain’s block' }
    if (block.sequenceNumber !== first.sequenceNumber + i) return { kind: 'declined', reason: 'the frame’s blocks are not contiguous' }
  }
  const addressed = (block: HalfBlock) => isProposal(block) && equalBytes(block.linkPublicKey, self)
  const last = blocks.at(-1) as HalfBlock

  // The certified part: authenticated by hashing back from the anchor.
  const certified = blocks.filter((block) => block.sequenceNumber <= anchor.sequenceNumber)
  const proposals: ReadProposal[] = []
  if (certified.length > 0) {
    const top = certified.at(-1) as HalfBlock
    if (top.sequenceNumber !== anchor.sequenceNumber) return { kind: 'resend', from: first.sequenceNumber, to: anchor.sequenceNumber }
    if (!equalBytes(blockHash(crypto, top), anchor.hash)) return { kind: 'declined', reason: 'the frame differs from the certified chain at its anchor' }
    for (let i = certified.length - 1; i > 0; i--) {
      if (!equalBytes((certified[i] as HalfBlock).previousHash, blockHash(crypto, certified[i - 1] as HalfBlock))) {
        return { kind: 'declined', reason: 'the frame’s certified blocks do not link' }
      }
    }
    for (const block of certified) if (addressed(block)) proposals.push({ block, certified: true, available: 0 })
  }

  // The part after the anchor, up to the last proposal addressed to the reader.
  const fresh = blocks.filter((block) => block.sequenceNumber > anchor.sequenceNumber)
  const end = fresh.findLastIndex(addressed)
  if (end < 0) return { kind: 'proposals', proposals, tail: known }
  let tail = (known === undefined ? undefined : rebaseStretch(known, anchor)) ?? stretchFrom(proposer, anchor)
  const head = tail.summary.head.sequenceNumber
  const start = (fresh[0] as HalfBlock).sequenceNumber
  if (start > head + 1) return { kind: 'resend', from: head + 1, to: last.sequenceNumber }
  // Blocks the reader saw before must be the same blocks (else the proposer forked the stretch it showed).
  const overlap = fresh.slice(0, Math.min(end + 1, head - start + 1))
  for (const block of overlap) {
    const seen = tail.hashes[block.sequenceNumber - anchor.sequenceNumber - 1]
    if (seen === undefined || !equalBytes(seen, blockHash(crypto, block))) return { kind: 'declined', reason: 'the frame differs from blocks it showed before' }
  }
  const check = extendStretch(tail, fresh.slice(overlap.length, end + 1), { ...options, signatures: 'none' })
  if (!check.ok) return { kind: 'declined', reason: `block ${check.tail.summary.head.sequenceNumber + 1}: ${check.reasons.join(', ')}` }
  tail = check.tail
  // What the proposer may spend at each of its proposals: the certified spendable minus everything it paid since
  // the anchor, up to and including that proposal (debits are in chain order).
  const { debits } = tail.summary
  let next = 0
  let spent = 0
  for (const block of fresh.slice(0, end + 1)) {
    if (!addressed(block)) continue
    while (next < debits.length && (debits[next] as { sequenceNumber: number }).sequenceNumber <= block.sequenceNumber)
      spent += (debits[next++] as { amount: number }).amount
    proposals.push({ block, certified: false, available: anchor.spendable - spent })
  }
  return { kind: 'proposals', proposals, tail }
}
