/**
 * The baseline the TrustChain benchmarks divide by: raw Ed25519 verifications per second in this thread, measured
 * in the same run (the machine is shared, so a figure from another run says little).
 */
import type { Crypto } from '@constellation/crypto'

/** Verifies 2,000 distinct signatures over and over for `durationMs`; verifications per second. */
export function rawVerifyRate(crypto: Crypto, durationMs = 500): number {
  const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(7))
  const messages = Array.from({ length: 2_000 }, (_, i) => crypto.sha256(new Uint8Array([i & 0xff, i >> 8])))
  const signatures = messages.map((message) => crypto.sign(message, keyPair))
  const start = performance.now()
  let rounds = 0
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < messages.length; i++) if (!crypto.verify(signatures[i]!, messages[i]!, keyPair.publicKey)) throw new Error('bad signature')
    rounds++
  }
  return (rounds * messages.length) / ((performance.now() - start) / 1_000)
}
