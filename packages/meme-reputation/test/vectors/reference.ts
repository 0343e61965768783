/**
 * An independent reading of the election's hash definitions, on node:crypto's SHA-256 and Buffer's UTF-8
 * encoder, sharing no code with src/hash.ts: the known-answer vectors are made with it, and the naive
 * reference election uses it for the boundary tie-break.
 */
import { createHash } from 'node:crypto'

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

/** Step 4's sort key: `H(h_{r-1} || utf8(memeId))`. */
export function referenceSortKey(previousHash: Uint8Array, memeId: string): Buffer {
  return sha256(previousHash, Buffer.from(memeId, 'utf8'))
}

/** Step 3's tie bit: the low bit of the first byte of `H('meme-reputation/bracket-tie/v1' || h_r || utf8(memeId))`. */
export function referenceTieGoesUp(resultHash: Uint8Array, memeId: string): boolean {
  return (sha256(Buffer.from('meme-reputation/bracket-tie/v1', 'utf8'), resultHash, Buffer.from(memeId, 'utf8'))[0]! & 1) === 1
}

/** Hashes standing in for consensus results: SHA-256 of a label. */
export function referenceHash(label: string): Buffer {
  return sha256(Buffer.from(label, 'utf8'))
}

/**
 * The ids the vectors cover: short ASCII ids, and 256-character ids of 3-byte UTF-8 characters (768 bytes, the
 * longest an id can encode to), some differing only in their last characters.
 */
export function vectorIds(): string[] {
  const long = ['€'.repeat(256), '中'.repeat(256), `${'€'.repeat(255)}中`, `${'中'.repeat(255)}€`]
  for (let k = 0; k < 12; k++) long.push(`${'€'.repeat(250)}${'中€'.repeat(3).slice(0, 6 - (k % 6))}${'€'.repeat(k % 6)}`.slice(0, 256))
  for (let k = 0; k < 8; k++) long.push(`${'€'.repeat(256 - 1 - k)}中${'€'.repeat(k)}`)
  return ['a', 'node-1', 'api.example.com:443', 'm0', 'm1', 'm2', 'm3', 'sybil-17', ...new Set(long)]
}

export interface HashVector {
  readonly previousHash: string
  readonly resultHash: string
  readonly memeId: string
  readonly sortKey: string
  readonly tieGoesUp: boolean
}

export function makeVectors(): HashVector[] {
  const vectors: HashVector[] = []
  for (const label of ['round/41', 'round/42']) {
    const previousHash = referenceHash(`${label}/previous`)
    const resultHash = referenceHash(`${label}/result`)
    for (const memeId of vectorIds()) {
      vectors.push({
        previousHash: previousHash.toString('hex'),
        resultHash: resultHash.toString('hex'),
        memeId,
        sortKey: referenceSortKey(previousHash, memeId).toString('hex'),
        tieGoesUp: referenceTieGoesUp(resultHash, memeId),
      })
    }
  }
  return vectors
}
