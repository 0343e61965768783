/**
 * Agreement proofs: why a transaction is final, checkable by anyone who holds the solar system's genesis.
 *
 * A transaction is final when each of its halves lies strictly inside a fragment of its author's chain that opens
 * and closes with checkpoint blocks both included in certified results. The proof carries, for each half, that
 * fragment and the two certificates; the verifier checks the fragment (contiguous, signed, hash-linked), that the
 * half is in it exactly once, that the fragment's ends are the checkpoints the certificates commit to, and that
 * each certificate carries 2t + 1 valid signatures of the committee its history hands over for that round.
 */
import { type Crypto, encodeCanonical, equalBytes, toHex } from '@constellation/crypto'
import {
  type AgreementFragment,
  type BlockLimits,
  type BlockStore,
  blockHash,
  checkFragment,
  containsExactlyOnce,
  DEFAULT_BLOCK_LIMITS,
  decodeBlock,
  encodeBlock,
  extractFragment,
  type HalfBlock,
  isAgreement,
  isProposal,
  isTrustChainError,
  TrustChainErrorCode,
} from '@constellation/trustchain'
import * as t from 'io-ts'
import { bytesUpTo, closedRecord, decodeWith, listUpTo } from '../codec/fields.js'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { type BatchVerifier, type CheckpointCertificate, CheckpointCertificateCodec, checkCertificate } from '../round/certificate.js'
import type { Committee } from '../round/committee.js'
import type { CertificateHistory } from './certificate-history.js'
import { FragmentCache, holdsExactlyOnce, indexFragment } from './fragment-cache.js'

export interface HalfProof {
  readonly fragment: AgreementFragment
  readonly opening: CheckpointCertificate
  readonly closing: CheckpointCertificate
}

export interface AgreementProof {
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
  readonly proposalSide: HalfProof
  readonly agreementSide: HalfProof
}

/** The committee that signs a round of a group; a verifier answers from the history it trusts. */
export type CommitteeLookup = (group: string, level: number, round: number) => Committee | undefined

function notFinal(message: string, detail: Record<string, unknown> = {}): ConsensusError {
  return new ConsensusError(ConsensusErrorCode.NOT_FINAL, message, detail)
}

/**
 * Whether both halves' positions lie between certified checkpoints in `history`. Necessary for finality, not
 * sufficient: it reads no blocks, so it cannot tell the certified chain's block at that position from a forgery or
 * a fork — only an agreement proof (`buildAgreementProof`) can.
 */
export function isEnclosed(history: CertificateHistory, transaction: { readonly proposal: HalfBlock; readonly agreement: HalfBlock }): boolean {
  return [transaction.proposal, transaction.agreement].every((half) => history.enclosing(toHex(half.publicKey), half.sequenceNumber) !== undefined)
}

async function halfProof(crypto: Crypto, store: BlockStore, history: CertificateHistory, half: HalfBlock, cache?: FragmentCache): Promise<HalfProof> {
  const member = toHex(half.publicKey)
  const enclosing = history.enclosing(member, half.sequenceNumber)
  if (enclosing === undefined) throw notFinal(`block ${half.sequenceNumber} of ${member.slice(0, 16)} is not yet enclosed by certified checkpoints`)
  const key = FragmentCache.keyOf(half.publicKey, enclosing.closing.entry.hash)
  let indexed = cache?.get(key)
  if (indexed === undefined || !equalBytes(blockHash(crypto, indexed.fragment.blocks[0] as HalfBlock), enclosing.opening.entry.hash)) {
    indexed = indexFragment(crypto, await readFragment(crypto, store, member, half, enclosing.opening.entry, enclosing.closing.entry))
    cache?.set(key, indexed)
  }
  if (!holdsExactlyOnce(crypto, indexed, half)) throw notFinal(`block ${half.sequenceNumber} of ${member.slice(0, 16)} is not in its certified fragment`)
  return {
    fragment: indexed.fragment,
    opening: history.certificate(enclosing.opening.round) as CheckpointCertificate,
    closing: history.certificate(enclosing.closing.round) as CheckpointCertificate,
  }
}

/** Reads and checks (signatures, links) the stored fragment between two certified checkpoints of one chain. */
async function readFragment(
  crypto: Crypto,
  store: BlockStore,
  member: string,
  half: HalfBlock,
  opening: { readonly sequenceNumber: number; readonly hash: Uint8Array },
  closing: { readonly sequenceNumber: number; readonly hash: Uint8Array },
): Promise<AgreementFragment> {
  const [from, to] = await Promise.all([store.get(half.publicKey, opening.sequenceNumber), store.get(half.publicKey, closing.sequenceNumber)])
  if (from === undefined || to === undefined) throw notFinal(`the store lacks the checkpoints of ${member.slice(0, 16)} around block ${half.sequenceNumber}`)
  if (!equalBytes(blockHash(crypto, from), opening.hash) || !equalBytes(blockHash(crypto, to), closing.hash)) {
    throw notFinal(`the stored chain of ${member.slice(0, 16)} differs from its certified checkpoints`)
  }
  try {
    return await extractFragment(crypto, store, from, to)
  } catch (error) {
    // Gossip can bring a chain's two checkpoints before the blocks between them (on libp2p it does): the store is
    // not done yet, and a crawl of the fragment can complete it — not final yet rather than a failure.
    if (isTrustChainError(error, TrustChainErrorCode.INVALID_FRAGMENT)) throw notFinal(`the fragment of ${member.slice(0, 16)} around block ${half.sequenceNumber}: ${error.message}`)
    throw error
  }
}

/**
 * Builds the proof from a store holding both chains' fragments; throws NOT_FINAL when it cannot be built yet. With a
 * `cache`, a fragment already read and checked is not checked again for the next transaction in it.
 */
export async function buildAgreementProof(
  crypto: Crypto,
  store: BlockStore,
  history: CertificateHistory,
  transaction: { readonly proposal: HalfBlock; readonly agreement: HalfBlock },
  cache?: FragmentCache,
): Promise<AgreementProof> {
  const why = linkProblem(crypto, transaction.proposal, transaction.agreement)
  if (why !== undefined) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `not a transaction: ${why}`, { reason: why })
  const [proposalSide, agreementSide] = await Promise.all([
    halfProof(crypto, store, history, transaction.proposal, cache),
    halfProof(crypto, store, history, transaction.agreement, cache),
  ])
  return { proposal: transaction.proposal, agreement: transaction.agreement, proposalSide, agreementSide }
}

function linkProblem(crypto: Crypto, proposal: HalfBlock, agreement: HalfBlock): string | undefined {
  if (!isProposal(proposal)) return 'the first half is not a proposal'
  if (!isAgreement(agreement)) return 'the second half is not an agreement'
  if (!equalBytes(agreement.linkPublicKey, proposal.publicKey) || agreement.linkSequenceNumber !== proposal.sequenceNumber) {
    return 'the agreement does not answer the proposal'
  }
  if (!equalBytes(proposal.linkPublicKey, agreement.publicKey)) return 'the proposal names another counterparty'
  for (const half of [proposal, agreement]) {
    if (!crypto.verify(half.signature, blockHash(crypto, half), half.publicKey)) return 'a half is not signed by its author'
  }
  return undefined
}

async function sideProblem(crypto: Crypto, side: HalfProof, half: HalfBlock, committeeFor: CommitteeLookup, verifier?: BatchVerifier): Promise<string | undefined> {
  const { fragment } = side
  if (!equalBytes(fragment.publicKey, half.publicKey)) return 'the fragment belongs to another chain'
  const broken = checkFragment(crypto, fragment)
  if (broken !== undefined) return broken
  if (!containsExactlyOnce(crypto, fragment, half)) return 'the half is not in the fragment exactly once'
  const ends = [
    [fragment.blocks[0] as HalfBlock, side.opening],
    [fragment.blocks.at(-1) as HalfBlock, side.closing],
  ] as const
  for (const [block, certificate] of ends) {
    const { body } = certificate.result
    const hash = blockHash(crypto, block)
    const committed = body.checkpoints.some(
      (entry) => equalBytes(entry.publicKey, block.publicKey) && entry.sequenceNumber === block.sequenceNumber && equalBytes(entry.hash, hash),
    )
    if (!committed) return `checkpoint ${block.sequenceNumber} is not in the result of round ${body.round}`
    const committee = committeeFor(body.group, body.level, body.round)
    if (committee === undefined) return `no trusted committee for round ${body.round} of ${body.group}`
    const invalid = await checkCertificate(crypto, certificate, committee, verifier)
    if (invalid !== undefined) return `the certificate of round ${body.round}: ${invalid}`
  }
  return undefined
}

/** Why `proof` does not prove finality, or undefined when it does. */
export async function checkAgreementProof(crypto: Crypto, proof: AgreementProof, committeeFor: CommitteeLookup, verifier?: BatchVerifier): Promise<string | undefined> {
  const link = linkProblem(crypto, proof.proposal, proof.agreement)
  if (link !== undefined) return link
  const proposal = await sideProblem(crypto, proof.proposalSide, proof.proposal, committeeFor, verifier)
  if (proposal !== undefined) return `proposal side: ${proposal}`
  const agreement = await sideProblem(crypto, proof.agreementSide, proof.agreement, committeeFor, verifier)
  return agreement === undefined ? undefined : `agreement side: ${agreement}`
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

/** Largest encoded proof accepted: two fragments of up to 1,024 blocks and four certificates. */
export const MAX_AGREEMENT_PROOF_BYTES = 8 << 20
const MAX_FRAGMENT_BLOCKS = 1_024

const HalfProofWire = closedRecord('HalfProof', {
  blocks: listUpTo(bytesUpTo(DEFAULT_BLOCK_LIMITS.maxBlockBytes), MAX_FRAGMENT_BLOCKS, 'FragmentBlocks'),
  opening: CheckpointCertificateCodec,
  closing: CheckpointCertificateCodec,
})
const AgreementProofWire = closedRecord('AgreementProof', {
  proposal: bytesUpTo(DEFAULT_BLOCK_LIMITS.maxBlockBytes),
  agreement: bytesUpTo(DEFAULT_BLOCK_LIMITS.maxBlockBytes),
  proposalSide: HalfProofWire,
  agreementSide: HalfProofWire,
})

export function encodeAgreementProof(proof: AgreementProof, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  const side = (s: HalfProof) => ({
    blocks: s.fragment.blocks.map((block) => encodeBlock(block, limits)),
    opening: CheckpointCertificateCodec.encode(s.opening),
    closing: CheckpointCertificateCodec.encode(s.closing),
  })
  return encodeCanonicalProof({
    proposal: encodeBlock(proof.proposal, limits),
    agreement: encodeBlock(proof.agreement, limits),
    proposalSide: side(proof.proposalSide),
    agreementSide: side(proof.agreementSide),
  })
}

function encodeCanonicalProof(value: t.OutputOf<typeof AgreementProofWire>): Uint8Array {
  return encodeCanonical(value)
}

/** Decodes a proof (shapes and sizes; `verifyAgreementProof` checks what it proves). */
export function decodeAgreementProof(crypto: Crypto, bytes: Uint8Array, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): AgreementProof {
  const wire = decodeWith(AgreementProofWire, bytes, MAX_AGREEMENT_PROOF_BYTES, 'agreement proof')
  try {
    const side = (s: t.TypeOf<typeof HalfProofWire>, half: HalfBlock): HalfProof => ({
      fragment: { publicKey: half.publicKey, blocks: s.blocks.map((b) => decodeBlock(crypto, b, limits)) },
      opening: s.opening,
      closing: s.closing,
    })
    const proposal = decodeBlock(crypto, wire.proposal, limits)
    const agreement = decodeBlock(crypto, wire.agreement, limits)
    return { proposal, agreement, proposalSide: side(wire.proposalSide, proposal), agreementSide: side(wire.agreementSide, agreement) }
  } catch (cause) {
    throw new ConsensusError(ConsensusErrorCode.MALFORMED_MESSAGE, 'an agreement proof holds a malformed block', {}, { cause })
  }
}
