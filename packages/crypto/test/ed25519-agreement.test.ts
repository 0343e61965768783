/**
 * The three backends must agree on every signature, valid or crafted, because a signature one node accepts and
 * another rejects would split consensus. Ordinary signatures are covered by properties; the known divergences
 * between Ed25519 libraries (small-order keys, mixed-order keys, torsion in R, unreduced S) by crafted cases.
 */
import { createRequire } from 'node:module'
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkStrictEncoding, isCanonicalPointEncoding, isSmallOrderEncoding, SMALL_ORDER_ENCODINGS } from '../src/backend/strict-ed25519.js'
import { BACKENDS, loadAllBackends, propertyOptions } from './helpers.js'

const cryptos = await loadAllBackends()
const all = BACKENDS.map((name) => cryptos[name])
const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

const Point = ed25519.Point
type EdPoint = InstanceType<typeof Point>
const L = Point.Fn.ORDER

function verdicts(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean[] {
  return all.map((crypto) => crypto.verify(signature, message, publicKey))
}

function challenge(R: Uint8Array, A: Uint8Array, message: Uint8Array): bigint {
  return bytesToNumberLE(sha512.create().update(R).update(A).update(message).digest()) % L
}

/** A signature by scalar `a` under an arbitrary encoded key `A` and nonce point `R = rB + extra`. */
function craft(a: bigint, A: Uint8Array, r: bigint, extra: EdPoint, message: Uint8Array): Uint8Array {
  const R = Point.BASE.multiply(r).add(extra).toBytes()
  const k = challenge(R, A, message)
  const S = (r + k * a) % L
  return Uint8Array.from([...R, ...numberToBytesLE(S, 32)])
}

const order8 = Point.fromBytes(SMALL_ORDER_ENCODINGS[2] as Uint8Array)
const torsion: EdPoint[] = [Point.ZERO]
for (let i = 1; i < 8; i++) torsion.push((torsion[i - 1] as EdPoint).add(order8))

describe('ordinary signatures', () => {
  it('sign with any backend, verify with every backend; all sign the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, message) => {
        const signatures = all.map((crypto) => crypto.sign(message, crypto.keyPairFromSeed(seed)))
        for (const signature of signatures) expect(signature).toEqual(signatures[0])
        const publicKey = cryptos.noble.keyPairFromSeed(seed).publicKey
        expect(verdicts(signatures[0] as Uint8Array, message, publicKey)).toEqual([true, true, true])
      }),
      propertyOptions(40),
    )
  })

  it('any flipped bit of key, message or signature makes every backend reject', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.constantFrom('publicKey', 'message', 'signature'),
        fc.nat(),
        (seed, message, target, position) => {
          const keyPair = cryptos.sodium.keyPairFromSeed(seed)
          const parts = {
            publicKey: Uint8Array.from(keyPair.publicKey),
            message: Uint8Array.from(message),
            signature: cryptos.sodium.sign(message, keyPair),
          }
          const bytes = parts[target]
          const bit = position % (bytes.length * 8)
          bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7))
          expect(verdicts(parts.signature, parts.message, parts.publicKey)).toEqual([false, false, false])
        },
      ),
      propertyOptions(60),
    )
  })
})

describe('crafted edge cases', () => {
  const message = new TextEncoder().encode('edge case')

  it('the small-order blocklist is exactly the eight torsion points plus their non-canonical spellings', () => {
    for (const point of torsion) {
      expect(isSmallOrderEncoding(point.toBytes())).toBe(true)
      const flipped = point.toBytes()
      flipped[31] = (flipped[31] as number) ^ 0x80
      expect(isSmallOrderEncoding(flipped)).toBe(true)
    }
    for (const encoding of SMALL_ORDER_ENCODINGS) {
      expect(Point.fromBytes(encoding, true).isSmallOrder()).toBe(true)
    }
    const honest = cryptos.noble.keyPairFromSeed(new Uint8Array(32).fill(7)).publicKey
    expect(isSmallOrderEncoding(honest)).toBe(false)
  })

  it('rejects small-order public keys everywhere, though OpenSSL alone would accept this one', async () => {
    // A = identity, R = identity, S = 0 satisfies [S]B = R + [k]A for every message.
    const identity = Point.ZERO.toBytes()
    const signature = Uint8Array.from([...identity, ...new Uint8Array(32)])
    const nodeCrypto = await import('node:crypto')
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), identity])
    const raw = nodeCrypto.verify(null, message, nodeCrypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature)
    expect(raw).toBe(true) // the divergence the strict rules remove
    expect(sodium.crypto_sign_verify_detached(signature, message, identity)).toBe(false)
    expect(verdicts(signature, message, identity)).toEqual([false, false, false])
  })

  it('mixed-order keys: cofactorless everywhere, matching raw libsodium, where noble alone is cofactored', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, L - 1n), fc.bigInt(1n, L - 1n), fc.integer({ min: 1, max: 7 }), (a, r, t) => {
        const A = Point.BASE.multiply(a)
          .add(torsion[t] as EdPoint)
          .toBytes()
        const signature = craft(a, A, r, Point.ZERO, message)
        const expected = sodium.crypto_sign_verify_detached(signature, message, A)
        expect(verdicts(signature, message, A)).toEqual([expected, expected, expected])
        // noble's own verify (cofactored) accepts every one of these.
        expect(ed25519.verify(signature, message, A, { zip215: false })).toBe(true)
      }),
      propertyOptions(25),
    )
  })

  it('torsion in R is rejected by every backend', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, L - 1n), fc.bigInt(1n, L - 1n), fc.integer({ min: 1, max: 7 }), (a, r, t) => {
        const A = Point.BASE.multiply(a).toBytes()
        const signature = craft(a, A, r, torsion[t] as EdPoint, message)
        expect(sodium.crypto_sign_verify_detached(signature, message, A)).toBe(false)
        expect(verdicts(signature, message, A)).toEqual([false, false, false])
      }),
      propertyOptions(25),
    )
  })

  it('an unreduced scalar S + L is rejected by every backend', () => {
    const keyPair = cryptos.sodium.keyPairFromSeed(new Uint8Array(32).fill(3))
    const signature = cryptos.sodium.sign(message, keyPair)
    const S = bytesToNumberLE(signature.subarray(32))
    const unreduced = Uint8Array.from([...signature.subarray(0, 32), ...numberToBytesLE(S + L, 32)])
    expect(checkStrictEncoding(unreduced, keyPair.publicKey)).toBe(false)
    expect(verdicts(unreduced, message, keyPair.publicKey)).toEqual([false, false, false])
  })

  it('recognises non-canonical point encodings (y >= p)', () => {
    const p = 2n ** 255n - 19n
    for (const y of [p, p + 1n, p + 2n, 2n ** 255n - 1n]) expect(isCanonicalPointEncoding(numberToBytesLE(y, 32))).toBe(false)
    for (const y of [0n, 1n, p - 1n]) expect(isCanonicalPointEncoding(numberToBytesLE(y, 32))).toBe(true)
    const withSign = numberToBytesLE(p + 3n, 32)
    withSign[31] = (withSign[31] as number) | 0x80
    expect(isCanonicalPointEncoding(withSign)).toBe(false)
  })

  it('public keys that are not curve points are rejected by every backend', () => {
    // Find a y with no x on the curve.
    let y = 2n
    while (true) {
      try {
        Point.fromBytes(numberToBytesLE(y, 32))
        y++
      } catch {
        break
      }
    }
    const publicKey = numberToBytesLE(y, 32)
    const signature = cryptos.sodium.sign(message, cryptos.sodium.keyPairFromSeed(new Uint8Array(32)))
    expect(verdicts(signature, message, publicKey)).toEqual([false, false, false])
  })
})
