import { expect, it, vi } from 'vitest'

// Record every worker the pool starts, so the test can kill one the way a crash would.
const started = vi.hoisted(() => [] as import('node:worker_threads').Worker[])
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>()
  class RecordedWorker extends real.Worker {
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args)
      started.push(this)
    }
  }
  return { ...real, Worker: RecordedWorker }
})

const { createVerifyPool, CryptoErrorCode, loadCrypto } = await import('../src/index.js')

it('a worker that dies fails its batch with WORKER_FAILED, and a replacement serves the next one', async () => {
  const crypto = await loadCrypto()
  const pool = await createVerifyPool({ crypto, workers: 1, minBatchSize: 1 })
  try {
    const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(1))
    const items = Array.from({ length: 4000 }, (_, i) => {
      const message = Uint8Array.of(i & 255, i >> 8)
      return { publicKey: keyPair.publicKey, message, signature: crypto.sign(message, keyPair) }
    })
    expect(started).toHaveLength(1)
    const doomed = expect(pool.verifyBatch(items)).rejects.toMatchObject({ code: CryptoErrorCode.WORKER_FAILED })
    await started[0]!.terminate()
    await doomed
    expect(started).toHaveLength(2)
    const results = await pool.verifyBatch(items.slice(0, 100))
    expect(results.every(Boolean)).toBe(true)
  } finally {
    await pool.close()
  }
})
