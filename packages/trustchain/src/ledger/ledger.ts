/**
 * The ledger: validate-and-store, the one path by which blocks enter a node's `BlockStore`.
 *
 * For a batch of blocks it looks up everything validation needs in as few store round trips as possible (one
 * `getMany` for all neighbours and linked proposals, one `getLinked` per proposal involved), validates the blocks
 * in order against the store plus the blocks accepted earlier in the same batch, and writes the accepted blocks
 * and any fraud proofs in one atomic batch. Invalid, malformed and oversized input gets a typed rejection and
 * never changes the store; a block already stored is reported as a duplicate and not written again. A block whose
 * value cannot be checked yet is refused with the retriable MISSING_DEPENDENCY, naming what to fetch, so that
 * nothing stored is ever found invalid later.
 *
 * This file holds what the ledger offers; `createLedger` (`block-ledger.ts`) builds one.
 */
import type { Crypto, SignedMessage } from '@constellation/crypto'
import type { BlockLimits } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import type { PayloadRegistry } from '../block/payloads.js'
import type { TrustChainError } from '../errors.js'
import type { BlockStore } from '../store/block-store.js'
import type { ValidationResult } from '../validation/validation-result.js'

export type IngestOutcome =
  | {
      readonly status: 'stored' | 'duplicate'
      readonly block: HalfBlock
      readonly hash: Uint8Array
      readonly validation: ValidationResult
    }
  | {
      readonly status: 'rejected'
      readonly block: HalfBlock | undefined
      /** INVALID_BLOCK (with `detail.reasons`), MISSING_DEPENDENCY (with `detail.missing`), MALFORMED_BLOCK, BLOCK_TOO_LARGE or PAYLOAD_TOO_LARGE. */
      readonly error: TrustChainError
      readonly validation: ValidationResult | undefined
    }

export interface LedgerOptions {
  readonly crypto: Crypto
  readonly store: BlockStore
  readonly registry?: PayloadRegistry
  readonly limits?: BlockLimits
  /** Milliseconds since the epoch; with `maxClockSkewMs`, blocks from too far in the future are invalid. */
  readonly now?: () => number
  readonly maxClockSkewMs?: number
  /**
   * Verifies the signatures of a batch elsewhere, e.g. a `VerifyPool` of @constellation/crypto on worker threads.
   * Of a batch of at least `minVerifyBatch` blocks (default 32), the verifier gets the last part, as soon as the
   * batch arrives (so it works while this thread validates the batch before); this thread verifies the first part
   * itself as it validates it, then takes the verifier's answers. The verifier's share adapts from batch to batch:
   * it grows while its answers are ready when validation reaches them and shrinks while validation has to wait, so
   * a verifier on busy cores never makes the ledger slower than verifying everything in this thread.
   */
  readonly verifier?: BatchVerifier
  readonly minVerifyBatch?: number
}

/** The one thing the ledger needs from a verification pool. */
export interface BatchVerifier {
  verifyBatch(items: readonly SignedMessage[]): Promise<boolean[]>
}

export interface Ledger {
  readonly crypto: Crypto
  readonly store: BlockStore
  readonly registry: PayloadRegistry
  readonly limits: BlockLimits
  /** Validates and stores decoded blocks; one outcome per block, in order. */
  ingest(blocks: readonly HalfBlock[]): Promise<IngestOutcome[]>
  /** Decodes (sizes first) then ingests blocks in wire form. */
  ingestWire(blocks: readonly Uint8Array[]): Promise<IngestOutcome[]>
  /** Validates one block against the store without storing it. */
  validate(block: HalfBlock): Promise<ValidationResult>
}
