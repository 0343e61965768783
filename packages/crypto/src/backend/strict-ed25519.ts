/**
 * The encoding rules every backend enforces alike, checked before any curve arithmetic.
 *
 * Ed25519 libraries disagree on edge cases (small-order keys, non-canonical points, S >= L, cofactored or
 * cofactorless equations). A signature that one node accepts and another rejects splits consensus, so this
 * package fixes one rule set — libsodium's — and applies it in front of every backend:
 *   - S must be a canonical scalar (S < L);
 *   - the public key must be a canonical encoding (y < p);
 *   - neither the public key nor R may be a point of small order.
 * With those out of the way the three backends' cofactorless checks agree on every input.
 */

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
])

/**
 * Encodings (sign bit ignored) of the points of order 1, 2, 4 and 8, including the non-canonical spellings
 * y = p and y = p + 1: the same list libsodium rejects.
 */
export const SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = [
  // 0 (order 4)
  new Uint8Array(32),
  // 1 (order 1)
  Uint8Array.from([1, ...new Array<number>(31).fill(0)]),
  // order 8
  Uint8Array.from([
    0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38,
    0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
  ]),
  // order 8
  Uint8Array.from([
    0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7,
    0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
  ]),
  // p - 1 (order 2)
  Uint8Array.from([0xec, ...new Array<number>(30).fill(0xff), 0x7f]),
  // p, non-canonical 0 (order 4)
  Uint8Array.from([0xed, ...new Array<number>(30).fill(0xff), 0x7f]),
  // p + 1, non-canonical 1 (order 1)
  Uint8Array.from([0xee, ...new Array<number>(30).fill(0xff), 0x7f]),
]

const SMALL_ORDER_FIRST_BYTES = new Set(SMALL_ORDER_ENCODINGS.map((e) => e[0] as number))

/** True when the 32 bytes at `offset` encode a small-order point, whatever the sign bit. */
export function isSmallOrderEncoding(bytes: Uint8Array, offset = 0): boolean {
  // Almost every real key fails the first-byte test, which keeps this off the verify hot path.
  if (!SMALL_ORDER_FIRST_BYTES.has(bytes[offset] as number)) return false
  for (const candidate of SMALL_ORDER_ENCODINGS) {
    let diff = 0
    for (let i = 0; i < 31; i++) diff |= (bytes[offset + i] as number) ^ (candidate[i] as number)
    diff |= ((bytes[offset + 31] as number) & 0x7f) ^ (candidate[31] as number)
    if (diff === 0) return true
  }
  return false
}

/** True when the little-endian scalar at signature[32..64) is below L. */
export function isCanonicalScalar(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i] as number
    const l = L[i] as number
    if (s < l) return true
    if (s > l) return false
  }
  return false // S == L
}

/** True when the y coordinate of the encoded point is below p = 2^255 - 19. */
export function isCanonicalPointEncoding(point: Uint8Array): boolean {
  // y >= p only when bytes 1..30 are 0xff, the top byte (without the sign bit) is 0x7f and byte 0 >= 0xed.
  if (((point[31] as number) & 0x7f) !== 0x7f) return true
  for (let i = 30; i >= 1; i--) if (point[i] !== 0xff) return true
  return (point[0] as number) < 0xed
}

/** The rule set in one call: false means "invalid signature" on every backend. */
export function checkStrictEncoding(signature: Uint8Array, publicKey: Uint8Array): boolean {
  return isCanonicalScalar(signature) && isCanonicalPointEncoding(publicKey) && !isSmallOrderEncoding(publicKey) && !isSmallOrderEncoding(signature, 0)
}
