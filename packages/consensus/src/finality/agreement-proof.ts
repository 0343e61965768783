/**
 * Agreement proofs: why a transaction is final, checkable by anyone who holds the solar system's genesis.
 *
 * A transfer is final when the consensus settled it: both halves lay in certified stretches and matched, and the
 * round's result lists it among the transfers it finalised (`body.ledger.finalised`, the Merkle root of the leaves
 * `finalisedLeaf(proposal hash, agreement hash)`). The proof is that and nothing more: the two signed halves, the
 * certificate of that round (without the leaves) and the Merkle path from the transfer's leaf to the root. The
 * verifier checks the halves (each signed by its author, the agreement answering the proposal with the same
 * content), the path, and that the certificate carries 2t + 1 valid signatures of the committee its history hands
 * over for that round. It needs no block of either chain besides the two halves: the facilitators checked the
 * stretches before they certified them, and the fold matched the halves.
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import {
  type BlockLimits,
  blockHash,
  DEFAULT_BLOCK_LIMITS,
  decodeBlock,
  encodeBlock,
  type HalfBlock,
  isAgreement,
  isProposal,
  sameContent,
} from '@constellation/trustchain'
import { bytesUpTo, closedRecord, decodeWith } from '../codec/fields.js'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { merkleProof, type MerkleProof, MerkleProofCodec, verifyMerkleProof } from '../hierarchy/merkle.js'
import { finalisedLeaf } from '../ledger/transfer-ledger.js'
import { type BatchVerifier, type CheckpointCertificate, CheckpointCertificateCodec, checkCertificate, withoutLeaves } from '../round/certificate.js'
import { encodeCanonical } from '@constellation/crypto'
import type { Committee } from '../round/committee.js'
import type { CertificateHistory } from './certificate-history.js'

export interface AgreementProof {
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
  /** The certificate of the round that finalised the transfer, without its leaves. */
  readonly certificate: CheckpointCertificate
  /** The transfer's leaf under `certificate.result.body.ledger.finalised`. */
  readonly path: MerkleProof
}

export interface TransactionHalves {
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
}

/** The committee that signs a round of a group; a verifier answers from the history it trusts. */
export type CommitteeLookup = (group: string, level: number, round: number) => Committee | undefined

/** The leaf a finalised transaction has in its round's result. */
export function transactionLeaf(crypto: Crypto, transaction: TransactionHalves): Uint8Array {
  return finalisedLeaf(blockHash(crypto, transaction.proposal), blockHash(crypto, transaction.agreement))
}

/**
 * Builds the proof from the certificate of the round that finalised the transaction and that round's leaves (the
 * certificate's own, or `leaves` kept beside it). NOT_FINAL when the transaction is not among them; INVALID_INPUT
 * when the halves are not one signed transaction.
 */
export function buildAgreementProof(
  crypto: Crypto,
  transaction: TransactionHalves,
  certificate: CheckpointCertificate,
  leaves: readonly Uint8Array[] | undefined = certificate.finalised,
): AgreementProof {
  const why = linkProblem(crypto, transaction.proposal, transaction.agreement)
  if (why !== undefined) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `not a transaction: ${why}`, { reason: why })
  const { round } = certificate.result.body
  if (leaves === undefined) throw new ConsensusError(ConsensusErrorCode.NOT_FINAL, `the leaves of round ${round} are not held here`, { round })
  const leaf = transactionLeaf(crypto, transaction)
  const index = leaves.findIndex((candidate) => equalBytes(candidate, leaf))
  if (index < 0) throw new ConsensusError(ConsensusErrorCode.NOT_FINAL, `the transaction is not among the transfers round ${round} finalised`, { round })
  return { proposal: transaction.proposal, agreement: transaction.agreement, certificate: withoutLeaves(certificate), path: merkleProof(crypto, leaves, index) }
}

function linkProblem(crypto: Crypto, proposal: HalfBlock, agreement: HalfBlock): string | undefined {
  if (!isProposal(proposal)) return 'the first half is not a proposal'
  if (!isAgreement(agreement)) return 'the second half is not an agreement'
  if (!equalBytes(agreement.linkPublicKey, proposal.publicKey) || agreement.linkSequenceNumber !== proposal.sequenceNumber) {
    return 'the agreement does not answer the proposal'
  }
  if (!equalBytes(proposal.linkPublicKey, agreement.publicKey)) return 'the proposal names another counterparty'
  if (!sameContent(proposal, agreement)) return 'the agreement describes another transaction'
  for (const half of [proposal, agreement]) {
    if (!crypto.verify(half.signature, blockHash(crypto, half), half.publicKey)) return 'a half is not signed by its author'
  }
  return undefined
}

/** Why `proof` does not prove finality, or undefined when it does. */
export async function checkAgreementProof(
  crypto: Crypto,
  proof: AgreementProof,
  committeeFor: CommitteeLookup,
  verifier?: BatchVerifier,
): Promise<string | undefined> {
  const link = linkProblem(crypto, proof.proposal, proof.agreement)
  if (link !== undefined) return link
  const { body } = proof.certificate.result
  if (body.level !== 0) return 'the certificate is not a solar system’s'
  if (proof.path.leaves !== body.ledger.finalisedCount)
    return `the path counts ${proof.path.leaves} finalised transfers, round ${body.round} finalised ${body.ledger.finalisedCount}`
  if (!verifyMerkleProof(crypto, transactionLeaf(crypto, proof), proof.path, body.ledger.finalised))
    return `the transaction is not among the transfers round ${body.round} finalised`
  const committee = committeeFor(body.group, body.level, body.round)
  if (committee === undefined) return `no trusted committee for round ${body.round} of ${body.group}`
  const invalid = await checkCertificate(crypto, proof.certificate, committee, verifier)
  return invalid === undefined ? undefined : `the certificate of round ${body.round}: ${invalid}`
}

/** Like `checkAgreementProof`, but throws INVALID_AGREEMENT_PROOF with the reason. */
export async function verifyAgreementProof(crypto: Crypto, proof: AgreementProof, committeeFor: CommitteeLookup, verifier?: BatchVerifier): Promise<void> {
  const reason = await checkAgreementProof(crypto, proof, committeeFor, verifier)
  if (reason !== undefined) throw new ConsensusError(ConsensusErrorCode.INVALID_AGREEMENT_PROOF, `not a proof of finality: ${reason}`, { reason })
}

/** A committee lookup answering from trusted histories (one per group). */
export function committeesOf(...histories: readonly CertificateHistory[]): CommitteeLookup {
  return (group, level, round) => {
    const history = histories.find((h) => h.genesis.group === group && h.genesis.level === level)
    return history?.committeeFor(round)
  }
}

// ---- wire form ---------------------------------------------------------------------------------------------

/** Largest encoded proof accepted: two half-blocks, one certificate and a path. */
export const MAX_AGREEMENT_PROOF_BYTES = 1 << 20

const AgreementProofWire = closedRecord('AgreementProof', {
  proposal: bytesUpTo(DEFAULT_BLOCK_LIMITS.maxBlockBytes),
  agreement: bytesUpTo(DEFAULT_BLOCK_LIMITS.maxBlockBytes),
  certificate: CheckpointCertificateCodec,
  path: MerkleProofCodec,
})

export function encodeAgreementProof(proof: AgreementProof, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  return encodeCanonical(
    AgreementProofWire.encode({
      proposal: encodeBlock(proof.proposal, limits),
      agreement: encodeBlock(proof.agreement, limits),
      certificate: withoutLeaves(proof.certificate),
      path: proof.path,
    }) as Parameters<typeof encodeCanonical>[0],
  )
}

/** Decodes a proof (shapes and sizes; `verifyAgreementProof` checks what it proves). */
export function decodeAgreementProof(crypto: Crypto, bytes: Uint8Array, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): AgreementProof {
  const wire = decodeWith(AgreementProofWire, bytes, MAX_AGREEMENT_PROOF_BYTES, 'agreement proof')
  try {
    return {
      proposal: decodeBlock(crypto, wire.proposal, limits),
      agreement: decodeBlock(crypto, wire.agreement, limits),
      certificate: wire.certificate,
      path: wire.path,
    }
  } catch (cause) {
    throw new ConsensusError(ConsensusErrorCode.MALFORMED_MESSAGE, 'an agreement proof holds a malformed block', {}, { cause })
  }
}
