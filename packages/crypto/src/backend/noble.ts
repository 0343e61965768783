/**
 * The portable reference backend: pure JavaScript (@noble/curves, @noble/hashes). Runs in browsers and anywhere
 * else; about thirty times slower than libsodium.
 *
 * noble's own `verify` checks the cofactored equation, which accepts some signatures under mixed-order keys that
 * libsodium and OpenSSL reject. To give identical answers this backend checks the cofactorless equation itself
 * with noble's point arithmetic, as libsodium does: compute [S]B - [k]A and compare its encoding with R.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE } from '@noble/curves/utils.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import type { CryptoBackend } from './backend.js'

const Point = ed25519.Point
const ORDER = Point.Fn.ORDER

function verifyCofactorless(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  let A: InstanceType<typeof Point>
  try {
    A = Point.fromBytes(publicKey, false)
  } catch {
    return false // not a point on the curve
  }
  const R = signature.subarray(0, 32)
  const S = bytesToNumberLE(signature.subarray(32, 64))
  const h = sha512.create().update(R).update(publicKey).update(message).digest()
  const k = bytesToNumberLE(h) % ORDER
  const SB = S === 0n ? Point.ZERO : Point.BASE.multiplyUnsafe(S)
  const kA = k === 0n ? Point.ZERO : A.multiplyUnsafe(k)
  const expectedR = SB.subtract(kA).toBytes()
  let diff = 0
  for (let i = 0; i < 32; i++) diff |= (expectedR[i] as number) ^ (R[i] as number)
  return diff === 0
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  publicKeyFromSeed: (seed) => ed25519.getPublicKey(seed),
  createSigner: (seed) => {
    const secret = Uint8Array.from(seed)
    return (message) => ed25519.sign(message, secret)
  },
  verify: verifyCofactorless,
  sha256: (data) => sha256(data),
}
