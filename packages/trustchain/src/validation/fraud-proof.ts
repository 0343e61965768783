/**
 * Fraud proofs: two signed half-blocks by one author that cannot both be honest.
 *
 * - double sign: two different blocks at the same `(publicKey, sequenceNumber)` (a forked chain);
 * - double countersign: two different agreements by one counterparty to the same proposal.
 *
 * A proof is self-contained: anyone can check it with `verifyFraudProof` from the two blocks alone, without any
 * store or network. The two blocks are kept in hash order so that one fraud has exactly one proof.
 */
import { type Crypto, type CborValue, compareBytes, concatBytes, decodeCanonical, encodeCanonical, equalBytes } from '@constellation/crypto'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeBlock } from '../block/block-encoding.js'
import { type HalfBlock, isAgreement } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'

export type FraudKind = 'double-sign' | 'double-countersign'

export interface FraudProof {
  readonly kind: FraudKind
  /** The author who signed both blocks. */
  readonly publicKey: Uint8Array
  readonly first: HalfBlock
  readonly second: HalfBlock
}

/** A proof from two conflicting blocks, ordered canonically. */
export function createFraudProof(crypto: Crypto, kind: FraudKind, a: HalfBlock, b: HalfBlock): FraudProof {
  const [first, second] = compareBytes(blockHash(crypto, a), blockHash(crypto, b)) <= 0 ? [a, b] : [b, a]
  return Object.freeze({ kind, publicKey: a.publicKey, first, second })
}

/** A stable identifier of a proof: SHA-256 of its two block hashes in order. */
export function fraudProofId(crypto: Crypto, proof: FraudProof): Uint8Array {
  return crypto.sha256(concatBytes(blockHash(crypto, proof.first), blockHash(crypto, proof.second)))
}

/** Why the proof does not hold, or undefined when it proves fraud. */
export function checkFraudProof(crypto: Crypto, proof: FraudProof): string | undefined {
  const { first, second } = proof
  if (!equalBytes(first.publicKey, second.publicKey) || !equalBytes(first.publicKey, proof.publicKey)) {
    return 'the two blocks have different authors'
  }
  const firstHash = blockHash(crypto, first)
  const secondHash = blockHash(crypto, second)
  if (equalBytes(firstHash, secondHash)) return 'the two blocks are the same block'
  if (!crypto.verify(first.signature, firstHash, first.publicKey)) return 'the first block is not signed by its author'
  if (!crypto.verify(second.signature, secondHash, second.publicKey)) return 'the second block is not signed by its author'
  if (proof.kind === 'double-sign') {
    return first.sequenceNumber === second.sequenceNumber ? undefined : 'the blocks are at different sequence numbers'
  }
  if (!isAgreement(first) || !isAgreement(second)) return 'both blocks must be agreements'
  if (!equalBytes(first.linkPublicKey, second.linkPublicKey) || first.linkSequenceNumber !== second.linkSequenceNumber) {
    return 'the agreements answer different proposals'
  }
  return undefined
}

export function verifyFraudProof(crypto: Crypto, proof: FraudProof): boolean {
  return checkFraudProof(crypto, proof) === undefined
}

/** Canonical CBOR of a proof: its kind and the two blocks in wire form. */
export function encodeFraudProof(proof: FraudProof, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  const value: CborValue = { kind: proof.kind, blocks: [encodeBlock(proof.first, limits), encodeBlock(proof.second, limits)] }
  return encodeCanonical(value)
}

/** Decodes a proof and checks it; throws INVALID_FRAUD_PROOF or MALFORMED_BLOCK. */
export function decodeFraudProof(crypto: Crypto, bytes: Uint8Array, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): FraudProof {
  let value: CborValue
  try {
    value = decodeCanonical(bytes, { maxBytes: 2 * limits.maxBlockBytes + 64, maxDepth: 2 })
  } catch (cause) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_FRAUD_PROOF, 'fraud proof is not canonical CBOR', {}, { cause })
  }
  const record = value as { kind?: unknown; blocks?: unknown }
  if (
    typeof value !== 'object' ||
    value === null ||
    (record.kind !== 'double-sign' && record.kind !== 'double-countersign') ||
    !Array.isArray(record.blocks) ||
    record.blocks.length !== 2 ||
    Object.keys(value).length !== 2
  ) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_FRAUD_PROOF, 'fraud proof must be { kind, blocks: [a, b] }')
  }
  const [a, b] = record.blocks.map((item: unknown) => decodeBlock(crypto, item, limits)) as [HalfBlock, HalfBlock]
  const proof = createFraudProof(crypto, record.kind, a, b)
  const why = checkFraudProof(crypto, proof)
  if (why !== undefined) throw new TrustChainError(TrustChainErrorCode.INVALID_FRAUD_PROOF, `not a fraud proof: ${why}`)
  return proof
}
