import type { Crypto, KeyPair } from '@constellation/crypto'

/** Member `i`'s key pair in a benchmark named `label`: fixed, so runs are comparable, and distinct per member. */
export function benchKeyPair(crypto: Crypto, label: string, i: number): KeyPair {
  const seed = new Uint8Array(32)
  seed.set(new TextEncoder().encode(`${label}/${i}`).subarray(0, 31))
  seed[31] = i
  return crypto.keyPairFromSeed(seed)
}
