/**
 * How an agreement proof is summarised in the API's JSON (`GET /v1/transactions/:id/proof`'s `summary`): each half
 * by hash, chain and sequence number, and the certified round that finalised the transaction, with the transfer's
 * place among the round's finalised transfers. Pure, so that the explorer's page summarises the proof it verified
 * itself rather than show the node's summary.
 */
import type { AgreementProof } from '@constellation/consensus'
import { type Crypto, toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock } from '@constellation/trustchain'

export interface ProofHalf {
  readonly hash: string
  readonly publicKey: string
  readonly sequenceNumber: number
}

export interface ProofSummary {
  readonly proposal: ProofHalf
  readonly agreement: ProofHalf
  /** The round whose certified result finalised the transaction. */
  readonly round: number
  readonly group: string
  /** The transfer's leaf among the round's finalised transfers, and how many there were. */
  readonly leaf: number
  readonly finalised: number
  /** Signatures the certificate carries. */
  readonly signatures: number
}

export function proofSummary(crypto: Crypto, proof: AgreementProof): ProofSummary {
  const half = (block: HalfBlock): ProofHalf => ({
    hash: toHex(blockHash(crypto, block)),
    publicKey: toHex(block.publicKey),
    sequenceNumber: block.sequenceNumber,
  })
  const { body } = proof.certificate.result
  return {
    proposal: half(proof.proposal),
    agreement: half(proof.agreement),
    round: body.round,
    group: body.group,
    leaf: proof.path.index,
    finalised: proof.path.leaves,
    signatures: proof.certificate.signatures.length,
  }
}
