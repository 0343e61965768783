/**
 * How a host refuses a transaction: the TRANSACTION_REJECTED error, and the checks every proposal to the host passes
 * before the host reads its payload.
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import { blockHash, type HalfBlock, isProposal } from '@constellation/trustchain'
import { ContractError, ContractErrorCode } from '../errors.js'

export function rejected(message: string, detail: Record<string, unknown> = {}): ContractError {
  return new ContractError(ContractErrorCode.TRANSACTION_REJECTED, message, detail)
}

/** Throws unless `proposal` is a proposal to `host`, signed by its author, whose payload has the given kind. */
export function checkProposalTo(crypto: Crypto, host: Uint8Array, proposal: HalfBlock, kind: string): void {
  if (!isProposal(proposal) || !equalBytes(proposal.linkPublicKey, host)) throw rejected(`a ${kind} must be a proposal to this host`)
  if ((proposal.payload as { kind?: unknown }).kind !== kind) throw rejected(`not a ${kind} payload`)
  if (!crypto.verify(proposal.signature, blockHash(crypto, proposal), proposal.publicKey)) throw rejected('the proposal is not signed by its author')
}
