/**
 * Refusals: a counterparty's signed "no" to one proposal.
 *
 * A proposal sits in its author's chain and has already lowered its running balance when the counterparty sees it.
 * When the counterparty will not agree (policy, an overdraft, overload), it signs a refusal of the proposal's hash
 * instead; the proposer appends a `void` block carrying that refusal, which returns the amount. An honest
 * counterparty never agrees to a proposal it refused (it keeps its refusals), so a refused proposal can never
 * become final, and a void is never needed for an agreed one. The signature is over a domain-separated digest, so a
 * refusal can never be mistaken for a block or a certificate signature.
 */
import { type Crypto, encodeCanonical, equalBytes, type KeyPair, SIGNATURE_LENGTH } from '@constellation/crypto'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { blockHash } from './block-encoding.js'
import { type HalfBlock, isProposal } from './half-block.js'

const REFUSAL_DOMAIN = 'constellation/refusal/1'

/** What a refusal of the proposal with this hash signs. */
export function refusalDigest(crypto: Crypto, proposalHash: Uint8Array): Uint8Array {
  return crypto.sha256(encodeCanonical([REFUSAL_DOMAIN, proposalHash]))
}

/** The counterparty's refusal of `proposal`; INVALID_INPUT unless the proposal is addressed to `keyPair`. */
export function signRefusal(crypto: Crypto, keyPair: KeyPair, proposal: HalfBlock): Uint8Array {
  if (!isProposal(proposal) || !equalBytes(proposal.linkPublicKey, keyPair.publicKey)) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'only a proposal addressed to this key can be refused with it')
  }
  return crypto.sign(refusalDigest(crypto, blockHash(crypto, proposal)), keyPair)
}

/** True when `signature` is the refusal, by the proposal's counterparty, of the proposal with hash `proposalHash`. */
export function checkRefusal(crypto: Crypto, proposal: { readonly hash: Uint8Array; readonly counterparty: Uint8Array }, signature: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false
  return crypto.verify(signature, refusalDigest(crypto, proposal.hash), proposal.counterparty)
}
