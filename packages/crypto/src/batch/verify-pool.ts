/**
 * Batch signature verification over a pool of worker threads, for bulk work such as chain sync and checkpoint
 * certificates.
 *
 * Each batch is checked in the calling thread for sizes and the strict encoding rules (cheap), then the remaining
 * items are packed into one buffer per worker and transferred, so a batch costs one message each way per worker.
 * Batches smaller than `minBatchSize` are verified in the calling thread, where the hand-off would cost more than
 * it saves. Idle workers do not keep the process alive.
 */
import type { Worker as NodeWorker } from 'node:worker_threads'
import type { Crypto, SignedMessage } from '../crypto.js'
import { checkStrictEncoding } from '../backend/strict-ed25519.js'
import { assertBytes } from '../bytes.js'
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '../constants.js'
import { CryptoError, CryptoErrorCode } from '../errors.js'
import { VERIFY_WORKER_SOURCE } from './verify-worker-source.js'

export type WorkerBackendName = 'sodium' | 'node'

export interface VerifyPoolOptions {
  /** Used for batches below `minBatchSize`. */
  readonly crypto: Crypto
  /** Worker threads (default: the number of cores). */
  readonly workers?: number
  /** The library the workers call: libsodium when it can be loaded (`auto`, the default), else node:crypto. */
  readonly backend?: WorkerBackendName | 'auto'
  /** Batches with fewer checkable items than this run in the calling thread (default 64). */
  readonly minBatchSize?: number
}

export interface VerifyBatchOptions {
  readonly signal?: AbortSignal
}

export interface VerifyPool {
  readonly workers: number
  readonly backend: WorkerBackendName
  /** One boolean per item, in order; the same answers as `crypto.verify` on each. */
  verifyBatch(items: readonly SignedMessage[], options?: VerifyBatchOptions): Promise<boolean[]>
  /** Stops the workers; pending and later batches fail with `POOL_CLOSED`. */
  close(): Promise<void>
}

interface PendingJob {
  readonly resolve: (results: Uint8Array) => void
  readonly reject: (error: Error) => void
}

interface PoolWorker {
  worker: NodeWorker
  readonly pending: Map<number, PendingJob>
}

async function resolveSodiumPath(): Promise<string | undefined> {
  try {
    const { createRequire } = await import('node:module')
    return createRequire(import.meta.url).resolve('sodium-native')
  } catch {
    return undefined
  }
}

function pack(items: readonly SignedMessage[], indices: readonly number[]): ArrayBuffer {
  const count = indices.length
  let messageBytes = 0
  for (const i of indices) messageBytes += (items[i] as SignedMessage).message.length
  const keysAt = 4 + 4 * (count + 1)
  const signaturesAt = keysAt + PUBLIC_KEY_LENGTH * count
  const messagesAt = signaturesAt + SIGNATURE_LENGTH * count
  const buffer = new ArrayBuffer(messagesAt + messageBytes)
  const bytes = new Uint8Array(buffer)
  const words = new DataView(buffer)
  words.setUint32(0, count, true)
  let offset = 0
  for (let j = 0; j < count; j++) {
    const item = items[indices[j] as number] as SignedMessage
    words.setUint32(4 + 4 * j, offset, true)
    bytes.set(item.publicKey, keysAt + PUBLIC_KEY_LENGTH * j)
    bytes.set(item.signature, signaturesAt + SIGNATURE_LENGTH * j)
    bytes.set(item.message, messagesAt + offset)
    offset += item.message.length
  }
  words.setUint32(4 + 4 * count, offset, true)
  return buffer
}

export async function createVerifyPool(options: VerifyPoolOptions): Promise<VerifyPool> {
  const { Worker } = await import('node:worker_threads')
  const { availableParallelism } = await import('node:os')
  const crypto = options.crypto
  const size = options.workers ?? Math.max(1, availableParallelism())
  const minBatchSize = options.minBatchSize ?? 64
  if (!Number.isSafeInteger(size) || size < 1 || size > 256) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `workers must be an integer in [1, 256], got ${size}`)
  }
  if (!Number.isSafeInteger(minBatchSize) || minBatchSize < 0) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `minBatchSize must be a non-negative integer`)
  }
  const preference = options.backend ?? 'auto'
  let sodiumPath: string | undefined
  if (preference !== 'node') {
    sodiumPath = await resolveSodiumPath()
    if (sodiumPath === undefined && preference === 'sodium') {
      throw new CryptoError(CryptoErrorCode.BACKEND_UNAVAILABLE, 'sodium-native cannot be loaded for the workers')
    }
  }
  const backend: WorkerBackendName = sodiumPath === undefined ? 'node' : 'sodium'

  let closed = false
  let started = false // a worker that fails to start is an error for the caller, not something to respawn
  let nextJobId = 0
  const pool: PoolWorker[] = []

  const failAll = (entry: PoolWorker, error: Error) => {
    for (const job of entry.pending.values()) job.reject(error)
    entry.pending.clear()
  }

  const spawn = (entry?: PoolWorker): PoolWorker => {
    const worker = new Worker(VERIFY_WORKER_SOURCE, {
      eval: true,
      workerData: { sodiumPath },
      // The script needs no loaders or flags of the parent (tsx, vitest, --input-type...).
      execArgv: [],
    })
    worker.unref()
    const self: PoolWorker = entry ?? { worker, pending: new Map() }
    self.worker = worker
    worker.on('message', (reply: { id: number; results: Uint8Array }) => {
      const job = self.pending.get(reply.id)
      if (job === undefined) return
      self.pending.delete(reply.id)
      if (self.pending.size === 0) worker.unref()
      job.resolve(reply.results)
    })
    const onFailure = (cause: unknown) => {
      if (self.worker !== worker) return // already replaced
      failAll(self, new CryptoError(CryptoErrorCode.WORKER_FAILED, 'a verification worker failed', {}, { cause }))
      if (started && !closed) spawn(self)
    }
    worker.on('error', onFailure)
    worker.on('exit', (code) => {
      if (!closed) onFailure(new Error(`worker exited with code ${code}`))
    })
    return self
  }

  for (let i = 0; i < size; i++) pool.push(spawn())
  await Promise.all(
    pool.map(
      ({ worker }) =>
        new Promise<void>((resolve, reject) => {
          worker.once('online', resolve)
          worker.once('error', reject)
        }),
    ),
  ).catch(async (cause: unknown) => {
    closed = true
    await Promise.all(pool.map(({ worker }) => worker.terminate()))
    throw new CryptoError(CryptoErrorCode.WORKER_FAILED, 'verification workers failed to start', {}, { cause })
  })
  started = true

  const run = (entry: PoolWorker, buffer: ArrayBuffer): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const id = nextJobId++
      if (entry.pending.size === 0) entry.worker.ref()
      entry.pending.set(id, { resolve, reject })
      entry.worker.postMessage({ id, buffer }, [buffer])
    })

  const verifyBatch = async (items: readonly SignedMessage[], batchOptions: VerifyBatchOptions = {}): Promise<boolean[]> => {
    if (closed) throw new CryptoError(CryptoErrorCode.POOL_CLOSED, 'the verification pool is closed')
    if (!Array.isArray(items)) throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'items must be an array')
    batchOptions.signal?.throwIfAborted()
    const results = new Array<boolean>(items.length).fill(false)
    const checkable: number[] = []
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as SignedMessage
      assertBytes(item.signature, `items[${i}].signature`, SIGNATURE_LENGTH)
      assertBytes(item.message, `items[${i}].message`)
      assertBytes(item.publicKey, `items[${i}].publicKey`, PUBLIC_KEY_LENGTH)
      if (checkStrictEncoding(item.signature, item.publicKey)) checkable.push(i)
    }
    if (checkable.length < minBatchSize) {
      for (const i of checkable) {
        const item = items[i] as SignedMessage
        results[i] = crypto.verify(item.signature, item.message, item.publicKey)
      }
      return results
    }
    // One contiguous slice per worker, least busy workers first.
    const workers = [...pool].sort((a, b) => a.pending.size - b.pending.size)
    const slices = Math.min(workers.length, checkable.length)
    const per = Math.ceil(checkable.length / slices)
    const jobs: Promise<void>[] = []
    for (let s = 0; s < slices; s++) {
      const indices = checkable.slice(s * per, (s + 1) * per)
      if (indices.length === 0) continue
      const entry = workers[s] as PoolWorker
      jobs.push(
        run(entry, pack(items, indices)).then((bits) => {
          for (let j = 0; j < indices.length; j++) results[indices[j] as number] = bits[j] === 1
        }),
      )
    }
    const all = Promise.all(jobs)
    const signal = batchOptions.signal
    if (signal === undefined) {
      await all
    } else {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
        all.then(() => resolve(), reject).finally(() => signal.removeEventListener('abort', onAbort))
      })
    }
    return results
  }

  return {
    workers: size,
    backend,
    verifyBatch,
    close: async () => {
      if (closed) return
      closed = true
      const error = new CryptoError(CryptoErrorCode.POOL_CLOSED, 'the verification pool was closed')
      for (const entry of pool) failAll(entry, error)
      await Promise.all(pool.map(({ worker }) => worker.terminate()))
    },
  }
}
