/**
 * A proposal's answer as a block store holds it, for a transaction the tracker does not know (an API lookup, an
 * idempotent replay after a restart): the counterparty's agreement, which links to the proposal, or the proposer's
 * void of it, which links to it from the proposer's own chain and carries the counterparty's signed refusal. The
 * chain keeps the refusal's signature, not the reason the counterparty gave, so a refusal found here says only that.
 */
import { equalBytes } from '@constellation/crypto'
import type { BlockStore, HalfBlock } from '@constellation/trustchain'
import type { VoidedProposal } from './transaction-tracker.js'

export type StoredAnswer =
  | { readonly status: 'agreed'; readonly agreement: HalfBlock }
  | { readonly status: 'refused'; readonly voided: VoidedProposal }
  /** Neither an agreement nor a void is stored here (yet). */
  | { readonly status: 'unanswered' }

/** The code of a refusal read from a store (a live one carries the counterparty's own code). */
export const STORED_REFUSAL_CODE = 'REFUSED'
const STORED_REFUSAL_REASON = 'the counterparty refused it; the void holds its signed refusal, not its reason'

export async function storedAnswer(store: BlockStore, proposal: HalfBlock): Promise<StoredAnswer> {
  const linked = await store.getLinked(proposal.publicKey, proposal.sequenceNumber)
  // The agreement is the counterparty's block that links to the proposal (a second one would be fraud).
  const agreement = linked.find((block) => block.type === 'tx' && equalBytes(block.publicKey, proposal.linkPublicKey))
  if (agreement !== undefined) return { status: 'agreed', agreement }
  const voided = linked.find((block) => block.type === 'void' && equalBytes(block.publicKey, proposal.publicKey))
  if (voided !== undefined) return { status: 'refused', voided: { block: voided, code: STORED_REFUSAL_CODE, reason: STORED_REFUSAL_REASON } }
  return { status: 'unanswered' }
}
