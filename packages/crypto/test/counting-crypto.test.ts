import { afterAll, describe, expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'
import { countingCrypto, createVerifyPool, CryptoErrorCode, type SignedMessage, type VerifyPool } from '../src/index.js'
import { loadAllBackends } from './helpers.js'

const { sodium: crypto } = await loadAllBackends()
const alice = crypto.keyPairFromSeed(new Uint8Array(32).fill(1))

function signedItems(count: number): SignedMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const message = new TextEncoder().encode(`item ${i}`)
    return { publicKey: alice.publicKey, message, signature: crypto.sign(message, alice) }
  })
}

const pools: VerifyPool[] = []
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()))
})

describe('countingCrypto', () => {
  it('counts each verify, each item of verifyMany and each sign, and answers as the wrapped facade', () => {
    const counting = countingCrypto(crypto)
    const counted = counting.crypto
    expect(counting.counts()).toEqual({ verifies: 0, signs: 0 })
    expect(counted.backend).toBe(crypto.backend)
    const message = Uint8Array.of(1, 2, 3)
    const signature = counted.sign(message, alice)
    expect(signature).toEqual(crypto.sign(message, alice))
    expect(counted.verify(signature, message, alice.publicKey)).toBe(true)
    expect(counted.verify(signature, Uint8Array.of(9), alice.publicKey)).toBe(false) // a failed check is still a check
    const items = signedItems(5)
    items[2] = { ...(items[2] as SignedMessage), message: Uint8Array.of(0) }
    expect(counted.verifyMany(items)).toEqual([true, true, false, true, true])
    expect(counting.counts()).toEqual({ verifies: 7, signs: 1 })
    // Hashing and key derivation are not signature work.
    expect(counted.sha256(message)).toEqual(crypto.sha256(message))
    expect(counted.keyPairFromSeed(alice.seed).publicKey).toEqual(alice.publicKey)
    expect(counted.generateKeyPair().publicKey).toHaveLength(32)
    expect(counting.counts()).toEqual({ verifies: 7, signs: 1 })
  })

  it('counts nothing for a call refused for bad input', () => {
    const counting = countingCrypto(crypto)
    expect(() => counting.crypto.verify(new Uint8Array(63), Uint8Array.of(1), alice.publicKey)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.INVALID_INPUT }),
    )
    expect(() => counting.crypto.sign('text' as never, alice)).toThrow(expect.objectContaining({ code: CryptoErrorCode.INVALID_INPUT }))
    expect(counting.counts()).toEqual({ verifies: 0, signs: 0 })
  })

  it('hands out snapshots and a frozen facade', () => {
    const counting = countingCrypto(crypto)
    const before = counting.counts()
    counting.crypto.sign(Uint8Array.of(1), alice)
    expect(before).toEqual({ verifies: 0, signs: 0 })
    expect(Object.isFrozen(counting.crypto)).toBe(true)
  })

  it('refuses what is not a Crypto or a VerifyPool', () => {
    expect(() => countingCrypto({} as never)).toThrow(expect.objectContaining({ code: CryptoErrorCode.INVALID_INPUT }))
    expect(() => countingCrypto(crypto).countPool({} as never)).toThrow(expect.objectContaining({ code: CryptoErrorCode.INVALID_INPUT }))
  })

  // minBatchSize 0 sends every batch to the workers; a large one keeps them in the calling thread, through the
  // pool's `crypto`: whichever crypto made the pool, each item counts once.
  describe.each([
    { path: 'worker threads', minBatchSize: 0 },
    { path: 'the calling thread', minBatchSize: 1_000 },
  ])('a counted verify pool on $path', ({ minBatchSize }) => {
    it.each(['the wrapped crypto', 'the counting crypto'])('made with %s counts each item of verifyBatch once', async (made) => {
      const counting = countingCrypto(crypto)
      const pool = await createVerifyPool({ crypto: made === 'the wrapped crypto' ? crypto : counting.crypto, workers: 2, minBatchSize })
      pools.push(pool)
      const counted = counting.countPool(pool)
      expect(counted.workers).toBe(2)
      const items = signedItems(20)
      items[3] = { ...(items[3] as SignedMessage), message: Uint8Array.of(0) }
      const results = await counted.verifyBatch(items)
      expect(results.filter((valid) => !valid)).toHaveLength(1)
      expect(results[3]).toBe(false)
      expect(counting.counts()).toEqual({ verifies: 20, signs: 0 })
      // Outside the batch, the counting crypto counts again.
      counting.crypto.verifyMany(items.slice(0, 2))
      expect(counting.counts().verifies).toBe(22)
      await counted.close()
      await expect(counted.verifyBatch(items)).rejects.toMatchObject({ code: CryptoErrorCode.POOL_CLOSED })
      expect(counting.counts().verifies).toBe(22)
    })
  })

  it('runs the README example', () => {
    const here = new URL('..', import.meta.url)
    const example = readmeExamples(here).examples[1]
    expect(example).toContain('countingCrypto')
    const run = runExample(here, example as string, 'counting')
    expect(run.stderr).toBe('')
    expect(run.stdout.trim()).toBe('{ verifies: 3, signs: 1 }')
  })
})
