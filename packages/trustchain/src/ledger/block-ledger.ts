/**
 * The ledger's ingest pipeline (see `ledger.ts` for what it promises).
 *
 * Ingests run one at a time, each validating against the store as the previous one left it, so two concurrent
 * batches can never both accept conflicting blocks. A batch's signatures are verified as it is validated (part of
 * them by a `BatchVerifier` when one is given, started as soon as the batch arrives); its blocks are validated in
 * passes, blocks waiting for a dependency tried again after each pass that stored something; then its accepted blocks
 * and fraud proofs are written in one store batch. Writes are chained: the next batch is validated while the last one
 * is written (against its blocks, kept pending), and a batch is acknowledged only once its own write and every
 * earlier one are done.
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, isSealedBlock } from '../block/block-encoding.js'
import { type BlockKey, type HalfBlock, HalfBlockCodec } from '../block/half-block.js'
import { PayloadRegistry } from '../block/payloads.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import type { BlockStore } from '../store/block-store.js'
import { positionKey } from '../store/position-key.js'
import type { FraudProof } from '../validation/fraud-proof.js'
import { type ValidationOptions, validateBlock } from '../validation/validate-block.js'
import { ValidationLevel, ValidationReason, type ValidationResult } from '../validation/validation-result.js'
import { BatchView } from './batch-view.js'
import { invalidBlockError } from './invalid-block-error.js'
import type { IngestOutcome, Ledger, LedgerOptions } from './ledger.js'
import { mayMissDependency, missingDependency, missingError, missingRunStart } from './missing-dependency.js'
import { PendingWrites } from './pending-writes.js'
import { SignatureMemo } from './signature-memo.js'
import { type Verdicts, VerifierShare } from './verifier-share.js'

export function createLedger(options: LedgerOptions): Ledger {
  return new BlockLedger(options)
}

class BlockLedger implements Ledger {
  readonly crypto: Crypto
  readonly store: BlockStore
  readonly registry: PayloadRegistry
  readonly limits: BlockLimits
  readonly #options: LedgerOptions
  readonly #signatures: SignatureMemo
  readonly #verifier: VerifierShare | undefined
  readonly #pending = new PendingWrites()
  /** The tail of the ingests, run one at a time. */
  #queue: Promise<unknown> = Promise.resolve()
  /**
   * The tail of the chain of store writes: each waits for the one before and fails if it failed, so no batch is
   * acknowledged while a batch it may have been validated against is not durably stored.
   */
  #writes: Promise<void> = Promise.resolve()

  constructor(options: LedgerOptions) {
    this.#options = options
    this.crypto = options.crypto
    this.store = options.store
    this.registry = options.registry ?? new PayloadRegistry()
    this.limits = options.limits ?? DEFAULT_BLOCK_LIMITS
    this.#signatures = new SignatureMemo(options.crypto)
    this.#verifier = options.verifier === undefined ? undefined : new VerifierShare(options.crypto, options.verifier, options.minVerifyBatch ?? 32)
  }

  /**
   * Validates and stores decoded blocks. A value that is not a half-block (an in-process caller's mistake) gets its
   * own MALFORMED_BLOCK rejection; the rest of the batch goes on.
   */
  async ingest(input: readonly HalfBlock[]): Promise<IngestOutcome[]> {
    // Blocks this package built or decoded were checked when they were made, and are frozen.
    const shaped = input.map((block) => isSealedBlock(block) || HalfBlockCodec.is(block))
    if (shaped.every(Boolean)) return this.#ingestShaped(input)
    const stored = await this.#ingestShaped(input.filter((_, i) => shaped[i]))
    let next = 0
    return input.map((_, i): IngestOutcome => {
      if (shaped[i]) return stored[next++] as IngestOutcome
      const error = new TrustChainError(TrustChainErrorCode.MALFORMED_BLOCK, 'not a half-block', { index: i })
      return { status: 'rejected', block: undefined, error, validation: undefined }
    })
  }

  async ingestWire(wire: readonly Uint8Array[]): Promise<IngestOutcome[]> {
    const decoded: (HalfBlock | TrustChainError)[] = wire.map((bytes) => {
      try {
        return decodeBlock(this.crypto, bytes, this.limits)
      } catch (error) {
        if (error instanceof TrustChainError) return error
        throw error
      }
    })
    const stored = await this.#ingestShaped(decoded.filter((item): item is HalfBlock => !(item instanceof TrustChainError)))
    let next = 0
    return decoded.map((item) =>
      item instanceof TrustChainError ? { status: 'rejected', block: undefined, error: item, validation: undefined } : (stored[next++] as IngestOutcome),
    )
  }

  async validate(block: HalfBlock): Promise<ValidationResult> {
    const view = new BatchView(this.store, this.#pending)
    return validateBlock(this.crypto, this.registry, block, await view.context(block), this.#validationOptions())
  }

  #validationOptions(): ValidationOptions {
    const options = this.#options
    return options.now !== undefined && options.maxClockSkewMs !== undefined ? { now: options.now(), maxClockSkewMs: options.maxClockSkewMs } : {}
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work)
    this.#queue = run.catch(() => undefined)
    return run
  }

  #ingestShaped(blocks: readonly HalfBlock[]): Promise<IngestOutcome[]> {
    // Signatures do not depend on the store: verification starts at once, outside the exclusive section, so it
    // overlaps with the validation of the batch before.
    const verdicts = this.#verifier?.start(blocks)
    return this.#exclusive(() => this.#ingestNow(blocks, verdicts)).then(async ({ outcomes, written }) => {
      await written
      return outcomes
    })
  }

  async #ingestNow(blocks: readonly HalfBlock[], verdicts: Verdicts | undefined): Promise<{ outcomes: IngestOutcome[]; written: Promise<void> }> {
    const { crypto, registry } = this
    const view = new BatchView(this.store, this.#pending)
    await view.prefetch(blocks)
    let verified: readonly boolean[] | undefined
    let verifiedFrom = blocks.length
    const outcomes: IngestOutcome[] = new Array(blocks.length)
    const toWrite: HalfBlock[] = []
    const fraudProofs: FraudProof[] = []
    const settings = this.#validationOptions()
    // Blocks waiting for a dependency are tried again after a pass that stored something, so a batch's order does
    // not matter when it holds the dependency itself (an agreement before the proposal it answers, say).
    let todo = [...blocks.keys()]
    const waitingFor = new Map<number, { missing: BlockKey; validation: ValidationResult }>()
    while (todo.length > 0) {
      const waiting: number[] = []
      let progress = false
      for (const index of todo) {
        const block = blocks[index] as HalfBlock
        waitingFor.delete(index)
        const chain = view.chain(block.publicKey)
        const found = view.quickContext(block, chain) ?? (await view.context(block))
        if (verdicts !== undefined && index >= verdicts.from && verifiedFrom === blocks.length) {
          verified = await (this.#verifier as VerifierShare).reached(verdicts)
          verifiedFrom = verdicts.from
        }
        const signatureValid = (index >= verifiedFrom ? verified?.[index - verifiedFrom] : undefined) ?? this.#signatures.known(block, found.existing)
        const context = signatureValid === undefined ? found : { ...found, signatureValid }
        const validation = validateBlock(crypto, registry, block, context, settings)
        const signed = !validation.reasons.includes(ValidationReason.BAD_SIGNATURE)
        if (validation.level === ValidationLevel.INVALID) {
          if (signed) this.#signatures.remember(block)
          if (validation.fraudProof !== undefined) fraudProofs.push(validation.fraudProof)
          outcomes[index] = { status: 'rejected', block, error: invalidBlockError(block, validation), validation }
          continue
        }
        const missing = mayMissDependency(validation) ? await missingDependency(view, block, validation) : undefined
        if (missing !== undefined) {
          this.#signatures.remember(block)
          // The refusal is written once the passes are over, if the block still waits then.
          waitingFor.set(index, { missing, validation })
          waiting.push(index)
          continue
        }
        if (validation.fraudProof !== undefined) fraudProofs.push(validation.fraudProof)
        const hash = blockHash(crypto, block)
        const existing = context.existing
        if (existing !== undefined && equalBytes(blockHash(crypto, existing), hash)) {
          outcomes[index] = { status: 'duplicate', block, hash, validation }
          continue
        }
        view.accept(block, chain)
        toWrite.push(block)
        progress = true
        outcomes[index] = { status: 'stored', block, hash, validation }
      }
      todo = progress ? waiting : []
    }
    const runStarts = new Map<string, number>()
    for (const [index, { missing, validation }] of waitingFor) {
      const block = blocks[index] as HalfBlock
      const name = positionKey(missing.publicKey, missing.sequenceNumber)
      let from = runStarts.get(name)
      if (from === undefined) {
        from = await missingRunStart(view, missing)
        runStarts.set(name, from)
      }
      outcomes[index] = { status: 'rejected', block, error: missingError(block, missing, from), validation }
    }
    return { outcomes, written: this.#write(toWrite, fraudProofs) }
  }

  /** Writes a batch's blocks and proofs after every earlier batch; they stay pending (visible to later batches) meanwhile. */
  #write(toWrite: HalfBlock[], fraudProofs: FraudProof[]): Promise<void> {
    const previous = this.#writes
    if (toWrite.length === 0 && fraudProofs.length === 0) return previous
    this.#pending.add(toWrite)
    const written = previous.then(() => this.store.write({ blocks: toWrite, fraudProofs }))
    this.#writes = written
    written.then(
      () => this.#pending.remove(toWrite),
      () => {
        this.#pending.remove(toWrite)
        // Once the failure has reached everyone chained to it, later batches start afresh.
        if (this.#writes === written) this.#writes = Promise.resolve()
      },
    )
    return written
  }
}
