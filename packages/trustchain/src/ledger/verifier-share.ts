/**
 * The part of each batch's signatures a `BatchVerifier` (a worker pool) checks, and how that part adapts.
 *
 * Of a batch of at least `minBatch` blocks, the verifier gets the last part as soon as the batch arrives (so it works
 * while the ledger validates the batch before); the ledger verifies the first part itself as it validates it, then
 * takes the verifier's answers. The share grows while the answers are ready when validation reaches them and shrinks
 * while validation has to wait, so a verifier on busy cores never makes the ledger slower than verifying everything
 * in its own thread.
 */
import type { Crypto } from '@constellation/crypto'
import { blockHash } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import type { BatchVerifier } from './ledger.js'

/** The verifier's answers for the blocks of a batch from index `from` on. */
export interface Verdicts {
  readonly from: number
  readonly answers: Promise<boolean[] | undefined>
  /** Whether `answers` has settled. */
  settled: boolean
}

const SHARE_STEP = 0.05
const MIN_SHARE = 0.05

export class VerifierShare {
  readonly #crypto: Crypto
  readonly #verifier: BatchVerifier
  readonly #minBatch: number
  #share = 0.5

  constructor(crypto: Crypto, verifier: BatchVerifier, minBatch: number) {
    this.#crypto = crypto
    this.#verifier = verifier
    this.#minBatch = minBatch
  }

  /** Hands the verifier its part of `blocks`, if the batch is large enough. */
  start(blocks: readonly HalfBlock[]): Verdicts | undefined {
    if (blocks.length < this.#minBatch) return undefined
    const from = Math.min(blocks.length - 1, Math.round(blocks.length * (1 - this.#share)))
    const items = blocks.slice(from).map((block) => ({ publicKey: block.publicKey, message: blockHash(this.#crypto, block), signature: block.signature }))
    const pooled: Verdicts = {
      from,
      // A failed pool is not a failed batch: validation then verifies in this thread.
      answers: this.#verifier.verifyBatch(items).catch(() => undefined),
      settled: false,
    }
    void pooled.answers.then(() => (pooled.settled = true))
    return pooled
  }

  /** The verifier's answers, now that validation has reached its part: were they ready in time? The share follows. */
  reached(verdicts: Verdicts): Promise<boolean[] | undefined> {
    this.#share = verdicts.settled ? Math.min(1, this.#share + SHARE_STEP) : Math.max(MIN_SHARE, this.#share - SHARE_STEP)
    return verdicts.answers
  }
}
