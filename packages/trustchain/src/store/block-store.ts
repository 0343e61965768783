/**
 * The `BlockStore` interface: where a node keeps every half-block it has accepted, its own and other nodes'.
 *
 * Data flow: the ledger validates blocks and hands the accepted ones, with any fraud proofs they revealed, to
 * `write` as one atomic batch; the protocol engine and the validator read through the lookups below. A store does
 * not validate — it only refuses to overwrite a position with a different block, so that a bug upstream can never
 * silently fork a chain on disk. Two implementations: `createMemoryBlockStore` and `openLevelBlockStore`; one
 * conformance suite (test/store-conformance.ts) runs against both.
 */
import type { HalfBlock } from '../block/half-block.js'
import type { FraudProof } from '../validation/fraud-proof.js'

export interface BlockBatch {
  readonly blocks: readonly HalfBlock[]
  readonly fraudProofs?: readonly FraudProof[]
}

export interface BlockStore {
  /**
   * Writes all blocks and proofs, or none. Blocks already stored (same hash) are skipped; a different block at an
   * occupied `(publicKey, sequenceNumber)`, in the store or twice in the batch, fails the whole batch with
   * INVALID_INPUT; a fraud proof that does not verify fails it with INVALID_FRAUD_PROOF. Resolves once the batch is
   * durable against a crash of this process; after `close()` it rejects with STORE_CLOSED.
   */
  write(batch: BlockBatch): Promise<void>
  /** The block at `(publicKey, sequenceNumber)`. */
  get(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock | undefined>
  /** Several positions in one round trip, answers in the order asked. */
  getMany(keys: readonly { readonly publicKey: Uint8Array; readonly sequenceNumber: number }[]): Promise<(HalfBlock | undefined)[]>
  getByHash(hash: Uint8Array): Promise<HalfBlock | undefined>
  /** Blocks whose link points at `(publicKey, sequenceNumber)`: the agreements to that proposal. */
  getLinked(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock[]>
  /** `getLinked` for several proposals in one round trip, answers in the order asked. */
  getLinkedMany(targets: readonly { readonly publicKey: Uint8Array; readonly sequenceNumber: number }[]): Promise<HalfBlock[][]>
  /** The block with the highest sequence number of a chain. */
  latest(publicKey: Uint8Array): Promise<HalfBlock | undefined>
  /** Stored blocks of a chain with `from <= sequenceNumber <= to`, ascending (gaps are simply absent). */
  range(publicKey: Uint8Array, from: number, to: number): Promise<HalfBlock[]>
  /** Stored fraud proofs, all or against one author. */
  fraudProofs(publicKey?: Uint8Array): Promise<FraudProof[]>
  close(): Promise<void>
}
