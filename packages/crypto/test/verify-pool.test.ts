import { afterAll, describe, expect, it } from 'vitest'
import { createVerifyPool, CryptoErrorCode, type SignedMessage, type VerifyPool } from '../src/index.js'
import { SMALL_ORDER_ENCODINGS } from '../src/backend/strict-ed25519.js'
import { loadAllBackends } from './helpers.js'

const cryptos = await loadAllBackends()
const crypto = cryptos.sodium

/** A mixed batch: valid signatures, tampered messages and signatures, and a small-order key. */
function makeBatch(size: number): SignedMessage[] {
  const keyPairs = Array.from({ length: 8 }, (_, i) => crypto.keyPairFromSeed(new Uint8Array(32).fill(i + 1)))
  return Array.from({ length: size }, (_, i) => {
    const keyPair = keyPairs[i % keyPairs.length]!
    const message = new TextEncoder().encode(`message ${i} `.repeat(1 + (i % 7)))
    const signature = crypto.sign(message, keyPair)
    switch (i % 5) {
      case 1:
        return { publicKey: keyPair.publicKey, message: Uint8Array.from([...message, 0]), signature }
      case 3: {
        const broken = Uint8Array.from(signature)
        broken[40] = (broken[40] as number) ^ 1
        return { publicKey: keyPair.publicKey, message, signature: broken }
      }
      case 4:
        if (i % 20 === 4) return { publicKey: SMALL_ORDER_ENCODINGS[1]!, message, signature }
        return { publicKey: keyPair.publicKey, message, signature }
      default:
        return { publicKey: keyPair.publicKey, message, signature }
    }
  })
}

const pools: VerifyPool[] = []
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()))
})

async function pool(options: Partial<Parameters<typeof createVerifyPool>[0]> = {}): Promise<VerifyPool> {
  const created = await createVerifyPool({ crypto, workers: 2, ...options })
  pools.push(created)
  return created
}

describe.each(['sodium', 'node'] as const)('verify pool with %s workers', (backend) => {
  it('gives exactly the answers of crypto.verify, in order', async () => {
    const verifier = await pool({ backend })
    expect(verifier.backend).toBe(backend)
    const batch = makeBatch(1000)
    const expected = cryptos.noble.verifyMany(batch.slice(0, 200))
    const results = await verifier.verifyBatch(batch)
    expect(results.slice(0, 200)).toEqual(expected)
    expect(results).toEqual(crypto.verifyMany(batch))
    expect(results.filter(Boolean).length).toBeGreaterThan(300)
    expect(results.filter((ok) => !ok).length).toBeGreaterThan(300)
  })

  it('handles many concurrent batches', async () => {
    const verifier = await pool({ backend, minBatchSize: 1 })
    const batches = Array.from({ length: 10 }, (_, i) => makeBatch(50 + i * 13))
    const results = await Promise.all(batches.map((batch) => verifier.verifyBatch(batch)))
    results.forEach((result, i) => expect(result).toEqual(crypto.verifyMany(batches[i]!)))
  })
})

describe('verify pool behaviour', () => {
  it('verifies small batches in the calling thread and empty batches trivially', async () => {
    const verifier = await pool({ minBatchSize: 64 })
    const batch = makeBatch(10)
    expect(await verifier.verifyBatch(batch)).toEqual(crypto.verifyMany(batch))
    expect(await verifier.verifyBatch([])).toEqual([])
  })

  it('rejects malformed items with a typed error naming the item', async () => {
    const verifier = await pool()
    const batch = makeBatch(3)
    const bad = [...batch, { ...batch[0]!, signature: new Uint8Array(10) }]
    await expect(verifier.verifyBatch(bad)).rejects.toMatchObject({
      code: CryptoErrorCode.INVALID_INPUT,
      message: 'items[3].signature must be 64 bytes, got 10',
    })
  })

  it('honours an abort signal', async () => {
    const verifier = await pool({ minBatchSize: 1 })
    const controller = new AbortController()
    const pending = expect(verifier.verifyBatch(makeBatch(2000), { signal: controller.signal })).rejects.toThrow('stop')
    controller.abort(new Error('stop'))
    await pending
    await expect(verifier.verifyBatch(makeBatch(5), { signal: controller.signal })).rejects.toThrow('stop')
  })

  it('fails pending and later batches with POOL_CLOSED once closed', async () => {
    const verifier = await createVerifyPool({ crypto, workers: 1, minBatchSize: 1 })
    const pending = expect(verifier.verifyBatch(makeBatch(2000))).rejects.toMatchObject({
      code: CryptoErrorCode.POOL_CLOSED,
    })
    await verifier.close()
    await pending
    await expect(verifier.verifyBatch(makeBatch(5))).rejects.toMatchObject({ code: CryptoErrorCode.POOL_CLOSED })
    await verifier.close() // idempotent
  })

  it('validates its options', async () => {
    await expect(createVerifyPool({ crypto, workers: 0 })).rejects.toMatchObject({ code: CryptoErrorCode.INVALID_INPUT })
    await expect(createVerifyPool({ crypto, minBatchSize: -1 })).rejects.toMatchObject({
      code: CryptoErrorCode.INVALID_INPUT,
    })
  })
})
