/**
 * `countingCrypto(crypto)`: the same `Crypto`, counting the signature work done through it, so that a node can
 * report what a transaction costs in signatures (e.g. verifications per finalised transfer).
 *
 * Every `verify` counts one verification and every `verifyMany` one per item; a `VerifyPool` passed through
 * `countPool` counts one per item of each `verifyBatch`, at the call, whatever thread does the work. Answers are
 * the wrapped facade's, unchanged; a call refused for bad input counts nothing.
 */
import type { Crypto, KeyPair, SignedMessage } from './crypto.js'
import type { VerifyBatchOptions, VerifyPool } from './batch/verify-pool.js'
import { CryptoError, CryptoErrorCode } from './errors.js'

/** Signature work done so far; both only ever grow. */
export interface CryptoCounts {
  /** Signatures checked: each `verify`, each item of `verifyMany` and of a counted pool's `verifyBatch`. */
  readonly verifies: number
  /** Signatures made (`sign`). */
  readonly signs: number
}

export interface CountingCrypto {
  /** Use this in place of the wrapped `Crypto`: same backend, same answers, each operation counted. */
  readonly crypto: Crypto
  counts(): CryptoCounts
  /**
   * The pool with each `verifyBatch` counted by its number of items. Each signature counts once, whether the pool
   * was made with the counting `crypto` or the one it wraps (the pool's small batches run through its `crypto`).
   */
  countPool(pool: VerifyPool): VerifyPool
}

const CRYPTO_METHODS = ['generateKeyPair', 'keyPairFromSeed', 'sign', 'verify', 'verifyMany', 'sha256'] as const

export function countingCrypto(crypto: Crypto): CountingCrypto {
  if (typeof crypto !== 'object' || crypto === null || !CRYPTO_METHODS.every((name) => typeof crypto[name] === 'function')) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'crypto must be a Crypto (see loadCrypto)')
  }
  let verifies = 0
  let signs = 0
  // Above zero while a counted pool's verifyBatch call runs: the pool's in-thread path for small batches calls its
  // `crypto.verify` synchronously inside that call, and those items are already counted by the batch.
  let inBatch = 0

  const counted: Crypto = Object.freeze({
    backend: crypto.backend,
    generateKeyPair: () => crypto.generateKeyPair(),
    keyPairFromSeed: (seed: Uint8Array) => crypto.keyPairFromSeed(seed),
    sign: (message: Uint8Array, keyPair: KeyPair) => {
      const signature = crypto.sign(message, keyPair)
      signs++
      return signature
    },
    verify: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => {
      const valid = crypto.verify(signature, message, publicKey)
      if (inBatch === 0) verifies++
      return valid
    },
    verifyMany: (items: readonly SignedMessage[]) => {
      const results = crypto.verifyMany(items)
      if (inBatch === 0) verifies += results.length
      return results
    },
    sha256: (data: Uint8Array) => crypto.sha256(data),
  })

  const countPool = (pool: VerifyPool): VerifyPool => {
    if (typeof pool !== 'object' || pool === null || typeof pool.verifyBatch !== 'function' || typeof pool.close !== 'function') {
      throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'pool must be a VerifyPool (see createVerifyPool)')
    }
    const verifyBatch = async (items: readonly SignedMessage[], options?: VerifyBatchOptions): Promise<boolean[]> => {
      let pending: Promise<boolean[]>
      inBatch++
      try {
        pending = pool.verifyBatch(items, options)
      } finally {
        inBatch--
      }
      const results = await pending
      verifies += results.length
      return results
    }
    return Object.freeze({ workers: pool.workers, backend: pool.backend, verifyBatch, close: () => pool.close() })
  }

  return Object.freeze({ crypto: counted, counts: (): CryptoCounts => ({ verifies, signs }), countPool })
}
