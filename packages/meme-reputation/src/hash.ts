/**
 * The only source of randomness in the package: SHA-256 (from @noble/hashes, so it runs in browsers too) of
 * public inputs. Sort keys are `H(h_{r-1} || utf8(memeId))` exactly as the election's fourth step defines them;
 * the other draws (bracket tie-breaks, the seat-rounding offset) are domain-separated so that they never equal a
 * sort key of another round.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { assertHash, assertMemeId, MAX_MEME_ID_LENGTH } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'

export const HASH_LENGTH = 32

const encoder = new TextEncoder()

const TIE_TAG = encoder.encode('meme-reputation/bracket-tie/v1')
const SEAT_TAG = encoder.encode('meme-reputation/seat-offset/v1')

/** The longest prefix hashed before an id: the tie-break's tag and `h_r`. */
const MAX_PREFIX_LENGTH = TIE_TAG.length + HASH_LENGTH
// One UTF-16 code unit encodes to at most 3 UTF-8 bytes, so every accepted id fits after the longest prefix.
const scratch = new Uint8Array(MAX_PREFIX_LENGTH + 3 * MAX_MEME_ID_LENGTH)

/** Writes `prefix || utf8(id)` into the scratch buffer and hashes it; no allocation besides the digest. */
function hashPrefixed(prefix: Uint8Array, id: string): Uint8Array {
  scratch.set(prefix, 0)
  const { read, written } = encoder.encodeInto(id, scratch.subarray(prefix.length))
  // encodeInto stops silently when the buffer is full; hashing a truncated id would give two ids one key.
  if (read !== id.length) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `meme id of ${id.length} code units does not fit the hash buffer`, {
      length: id.length,
      read,
    })
  }
  return sha256(scratch.subarray(0, prefix.length + written))
}

/** The election's sort key of a meme: `H(h_{r-1} || memeId)`, the id as UTF-8. Smaller keys rank first. */
export function sortKeyOf(previousHash: Uint8Array, memeId: string): Uint8Array {
  assertHash(previousHash, 'previousHash')
  assertMemeId(memeId)
  return hashPrefixed(previousHash, memeId)
}

/** Unchecked variant for the election's inner loop, whose caller has checked the hash and the ids. */
export function sortKeyUnchecked(previousHash: Uint8Array, memeId: string): Uint8Array {
  return hashPrefixed(previousHash, memeId)
}

/** One bit from `h_r` and the id: true puts a meme whose score sits exactly on a bracket boundary above it. */
export function tieGoesUp(resultHash: Uint8Array, memeId: string): boolean {
  const prefix = new Uint8Array(TIE_TAG.length + HASH_LENGTH)
  prefix.set(TIE_TAG, 0)
  prefix.set(resultHash, TIE_TAG.length)
  return ((hashPrefixed(prefix, memeId)[0] as number) & 1) === 1
}

/** A number in [0, 1) from `h_r`: the offset of the systematic sample that rounds seat quotas to integers. */
export function seatOffset(resultHash: Uint8Array): number {
  const input = new Uint8Array(SEAT_TAG.length + HASH_LENGTH)
  input.set(SEAT_TAG, 0)
  input.set(resultHash, SEAT_TAG.length)
  const digest = sha256(input)
  // 53 bits so that every offset is an exact double and the draw is the same on every machine.
  const high = ((digest[0] as number) << 13) | ((digest[1] as number) << 5) | ((digest[2] as number) >>> 3)
  const low = (((digest[3] as number) << 24) >>> 0) + ((digest[4] as number) << 16) + ((digest[5] as number) << 8) + (digest[6] as number)
  return (high * 2 ** 32 + low) / 2 ** 53
}

/** The first 8 bytes of a key as two unsigned 32-bit words: enough to order all but ~n²/2^65 pairs. */
export function keyHigh(key: Uint8Array): number {
  return (((key[0] as number) << 24) | ((key[1] as number) << 16) | ((key[2] as number) << 8) | (key[3] as number)) >>> 0
}

export function keyLow(key: Uint8Array): number {
  return (((key[4] as number) << 24) | ((key[5] as number) << 16) | ((key[6] as number) << 8) | (key[7] as number)) >>> 0
}

export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] as number).toString(16).padStart(2, '0')
  return out
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}
