/**
 * The Merkle tree a level-k result commits to its children with: leaves are the certificate digests of the child
 * results it certifies, the root goes into the result body's `children` field, and a proof (the sibling hashes on
 * the way up) shows one child certificate is committed without carrying the others.
 *
 * Leaves and inner nodes are hashed under different prefixes, so an inner node can never pass as a leaf; an odd
 * node at the end of a layer is promoted unchanged (no duplication, so no two leaf lists share a root that way).
 * The root of no leaves is all zero, what level 0 results carry.
 */
import { type Crypto, encodeCanonical, equalBytes, HASH_LENGTH } from '@constellation/crypto'
import type * as t from 'io-ts'
import { bytesOfLength, closedRecord, integerIn, listUpTo } from '../codec/fields.js'

/** Leaves of one tree at most: bounds a proof's length to 32 hashes. */
export const MAX_MERKLE_LEAVES = 2 ** 32

export const EMPTY_MERKLE_ROOT: Uint8Array = new Uint8Array(HASH_LENGTH)

const Hash = bytesOfLength(HASH_LENGTH, 'Hash')

export const MerkleProofCodec = closedRecord('MerkleProof', {
  /** Position of the leaf, from 0. */
  index: integerIn(0, MAX_MERKLE_LEAVES - 1, 'LeafIndex'),
  /** Leaves in the tree: fixes which nodes are promoted without a sibling. */
  leaves: integerIn(1, MAX_MERKLE_LEAVES, 'LeafCount'),
  /** Sibling hashes from the leaf's layer up (promoted layers have none). */
  siblings: listUpTo(Hash, 32, 'Siblings'),
})
export type MerkleProof = t.TypeOf<typeof MerkleProofCodec>

function leafHash(crypto: Crypto, leaf: Uint8Array): Uint8Array {
  return crypto.sha256(encodeCanonical(['constellation/merkle-leaf/1', leaf]))
}

function nodeHash(crypto: Crypto, left: Uint8Array, right: Uint8Array): Uint8Array {
  return crypto.sha256(encodeCanonical(['constellation/merkle-node/1', left, right]))
}

function layers(crypto: Crypto, leaves: readonly Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = [leaves.map((leaf) => leafHash(crypto, leaf))]
  for (let layer = out[0] as Uint8Array[]; layer.length > 1; ) {
    const next: Uint8Array[] = []
    for (let i = 0; i < layer.length; i += 2) {
      const right = layer[i + 1]
      next.push(right === undefined ? (layer[i] as Uint8Array) : nodeHash(crypto, layer[i] as Uint8Array, right))
    }
    out.push(next)
    layer = next
  }
  return out
}

export function merkleRoot(crypto: Crypto, leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_MERKLE_ROOT
  return (layers(crypto, leaves).at(-1) as Uint8Array[])[0] as Uint8Array
}

/** The proof that `leaves[index]` is under `merkleRoot(leaves)`. */
export function merkleProof(crypto: Crypto, leaves: readonly Uint8Array[], index: number): MerkleProof {
  if (!(Number.isSafeInteger(index) && index >= 0 && index < leaves.length)) throw new RangeError(`leaf ${index} is not among ${leaves.length} leaves`)
  const siblings: Uint8Array[] = []
  let position = index
  for (const layer of layers(crypto, leaves).slice(0, -1)) {
    const sibling = layer[position ^ 1]
    if (sibling !== undefined) siblings.push(sibling)
    position >>= 1
  }
  return { index, leaves: leaves.length, siblings }
}

/** Whether `proof` shows `leaf` under `root`. */
export function verifyMerkleProof(crypto: Crypto, leaf: Uint8Array, proof: MerkleProof, root: Uint8Array): boolean {
  if (!(proof.index >= 0 && proof.index < proof.leaves)) return false
  let hash = leafHash(crypto, leaf)
  let position = proof.index
  let width = proof.leaves
  let used = 0
  while (width > 1) {
    const hasSibling = (position ^ 1) < width
    if (hasSibling) {
      const sibling = proof.siblings[used++]
      if (sibling === undefined) return false
      hash = position % 2 === 0 ? nodeHash(crypto, hash, sibling) : nodeHash(crypto, sibling, hash)
    }
    position >>= 1
    width = Math.ceil(width / 2)
  }
  return used === proof.siblings.length && equalBytes(hash, root)
}
