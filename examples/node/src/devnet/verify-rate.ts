/**
 * The machine's raw Ed25519 verify rate, on one core, with the backend the nodes use (@constellation/crypto's
 * `auto`): the physical bound the devnet's throughput is read against. A transaction is two half-blocks, each
 * signed, so one core verifying everything could finalise about half this many transactions per second.
 */
import type { Crypto } from '@constellation/crypto'

/** Distinct signed messages cycled through, so no backend can answer from a cache. */
const MESSAGES = 64

export function measureVerifyRate(crypto: Crypto, durationMs = 1_000): number {
  const keyPair = crypto.generateKeyPair()
  const signed = Array.from({ length: MESSAGES }, (_, i) => {
    const message = crypto.sha256(Uint8Array.of(i, i >> 8, 7))
    return { message, signature: crypto.sign(message, keyPair) }
  })
  const verifyOne = (i: number) => {
    const item = signed[i % MESSAGES] as (typeof signed)[number]
    if (!crypto.verify(item.signature, item.message, keyPair.publicKey)) throw new Error('a valid signature did not verify')
  }
  // Warm-up, so the measured loop runs compiled code.
  for (let i = 0; i < 200; i++) verifyOne(i)
  let count = 0
  const start = performance.now()
  let now = start
  while (now - start < durationMs) {
    for (let i = 0; i < 100; i++) verifyOne(count + i)
    count += 100
    now = performance.now()
  }
  return (count * 1_000) / (now - start)
}
