/**
 * How an agreement proof is summarised in the API's JSON (`GET /v1/transactions/:id/proof`'s `summary`): each half
 * by hash, chain and sequence number, and each side's fragment of chain with the rounds that opened and closed it.
 * Pure, so that the explorer's page summarises the proof it verified itself rather than show the node's summary.
 */
import type { AgreementProof, HalfProof } from '@constellation/consensus'
import { type Crypto, toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock } from '@constellation/trustchain'

export interface ProofHalf {
  readonly hash: string
  readonly publicKey: string
  readonly sequenceNumber: number
}

/** One side of the proof: the fragment of the half's chain and the certified rounds at its ends. */
export interface ProofSide {
  readonly publicKey: string
  readonly fromSequenceNumber: number
  readonly toSequenceNumber: number
  readonly blocks: number
  readonly openingRound: number
  readonly closingRound: number
}

export interface ProofSummary {
  readonly proposal: ProofHalf
  readonly agreement: ProofHalf
  readonly proposalSide: ProofSide
  readonly agreementSide: ProofSide
}

function sideSummary(side: HalfProof): ProofSide {
  const blocks = side.fragment.blocks
  return {
    publicKey: toHex(side.fragment.publicKey),
    fromSequenceNumber: blocks[0]?.sequenceNumber ?? 0,
    toSequenceNumber: blocks.at(-1)?.sequenceNumber ?? 0,
    blocks: blocks.length,
    openingRound: side.opening.result.body.round,
    closingRound: side.closing.result.body.round,
  }
}

export function proofSummary(crypto: Crypto, proof: AgreementProof): ProofSummary {
  const half = (block: HalfBlock): ProofHalf => ({ hash: toHex(blockHash(crypto, block)), publicKey: toHex(block.publicKey), sequenceNumber: block.sequenceNumber })
  return { proposal: half(proof.proposal), agreement: half(proof.agreement), proposalSide: sideSummary(proof.proposalSide), agreementSide: sideSummary(proof.agreementSide) }
}
