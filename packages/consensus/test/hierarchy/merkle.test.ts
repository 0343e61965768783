/**
 * The Merkle commitment of a level-k result to its children, and the signed membership requests, as properties:
 * every leaf of every tree size proves under the root and nothing else does; requests survive the wire and a
 * changed field or signature is refused.
 */
import type { Crypto } from '@constellation/crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { checkMembershipRequest, decodeMembershipRequest, encodeMembershipRequest, signMembershipRequest } from '../../src/index.js'
import { EMPTY_MERKLE_ROOT, merkleProof, merkleRoot, verifyMerkleProof } from '../../src/hierarchy.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const leavesOf = (count: number, salt: number) => Array.from({ length: count }, (_, i) => crypto.sha256(new Uint8Array([salt, i & 0xff, i >> 8])))

describe('Merkle commitments', () => {
  it('every leaf proves under the root, for every tree size; another leaf, position or root does not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (count, pick, salt) => {
        const leaves = leavesOf(count, salt)
        const root = merkleRoot(crypto, leaves)
        const index = pick % count
        const proof = merkleProof(crypto, leaves, index)
        expect(verifyMerkleProof(crypto, leaves[index]!, proof, root)).toBe(true)
        expect(verifyMerkleProof(crypto, crypto.sha256(leaves[index]!), proof, root)).toBe(false)
        if (count > 1) {
          const other = (index + 1) % count
          expect(verifyMerkleProof(crypto, leaves[other]!, proof, root)).toBe(false)
          expect(verifyMerkleProof(crypto, leaves[index]!, { ...proof, index: other }, root)).toBe(false)
        }
        expect(verifyMerkleProof(crypto, leaves[index]!, proof, merkleRoot(crypto, [...leaves, leaves[0]!]))).toBe(false)
      }),
      { numRuns: 150 },
    )
  })

  it('a leaf is never mistaken for an inner node, and no leaves give the zero root', () => {
    const leaves = leavesOf(4, 9)
    const root = merkleRoot(crypto, leaves)
    // The two-leaf root of the first pair, offered as a leaf of the tree of its parents, does not prove.
    const pair = merkleRoot(crypto, leaves.slice(0, 2))
    expect(verifyMerkleProof(crypto, pair, { index: 0, leaves: 2, siblings: [merkleRoot(crypto, leaves.slice(2))] }, root)).toBe(false)
    expect(merkleRoot(crypto, [])).toEqual(EMPTY_MERKLE_ROOT)
  })
})

describe('membership requests', () => {
  it('survive the wire; a changed field or a foreign signature is refused', () => {
    const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(3))
    const other = crypto.keyPairFromSeed(new Uint8Array(32).fill(4))
    const join = signMembershipRequest(crypto, keyPair, { kind: 'join', nonce: 7, validator: true })
    const decoded = decodeMembershipRequest(encodeMembershipRequest(join))
    expect(checkMembershipRequest(crypto, decoded)).toBeUndefined()
    expect(decoded).toEqual(join)
    expect(checkMembershipRequest(crypto, { ...join, nonce: 8 })).toMatch(/signature/)
    expect(checkMembershipRequest(crypto, { ...join, validator: false })).toMatch(/signature/)
    expect(checkMembershipRequest(crypto, { ...join, publicKey: other.publicKey })).toMatch(/signature/)
    expect(checkMembershipRequest(crypto, { ...join, kind: 'leave' })).toMatch(/no role/)
    expect(signMembershipRequest(crypto, keyPair, { kind: 'leave', nonce: 9, validator: true }).validator).toBe(false)
    expect(() => decodeMembershipRequest(new Uint8Array(300))).toThrow(/over the limit/)
  })
})
