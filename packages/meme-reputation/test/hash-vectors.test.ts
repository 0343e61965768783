import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sortKeyOf, tieGoesUp, toHex } from '../src/hash.js'
import { type HashVector, makeVectors } from './vectors/reference.js'

const vectors = JSON.parse(readFileSync(new URL('vectors/hash-vectors.json', import.meta.url), 'utf8')) as HashVector[]
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))

describe('known-answer vectors for the election’s hashes', () => {
  it('are what the independent node:crypto reference computes', () => {
    expect(makeVectors()).toEqual(vectors)
    // Short ASCII ids and 256-character ids of 3-byte characters (768 UTF-8 bytes), with both tie bits.
    expect(vectors.some((v) => v.memeId.length === 256 && Buffer.byteLength(v.memeId) === 768)).toBe(true)
    expect(new Set(vectors.map((v) => v.tieGoesUp))).toEqual(new Set([true, false]))
  })

  it('are matched by the package’s sort keys and tie bits, for ids of any accepted length', () => {
    for (const v of vectors) {
      expect({ memeId: v.memeId, sortKey: toHex(sortKeyOf(bytes(v.previousHash), v.memeId)) }).toEqual({ memeId: v.memeId, sortKey: v.sortKey })
      expect({ memeId: v.memeId, tieGoesUp: tieGoesUp(bytes(v.resultHash), v.memeId) }).toEqual({ memeId: v.memeId, tieGoesUp: v.tieGoesUp })
    }
  })
})
