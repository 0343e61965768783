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
 */
import { type Crypto, equalBytes, HASH_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, type SignedMessage, toHex } from '@constellation/crypto'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS } from '../block/block-encoding.js'
import { type BlockKey, type HalfBlock, HalfBlockCodec, isAgreement, isProposal, isVoid } from '../block/half-block.js'
import { PayloadRegistry, statedBalance } from '../block/payloads.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import type { BlockStore } from '../store/block-store.js'
import { chainKey, positionKey } from '../store/position-key.js'
import type { FraudProof } from '../validation/fraud-proof.js'
import { type ValidationOptions, validateBlock, type ValidationContext } from '../validation/validate-block.js'
import { INFORMATIONAL_REASONS, ValidationLevel, ValidationReason, type ValidationResult } from '../validation/validation-result.js'

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
   * Verifies the signatures of a batch elsewhere, e.g. a `VerifyPool` of @constellation/crypto on worker threads;
   * batches of at least `minVerifyBatch` blocks (default 32) go there, while this thread validates the batch before.
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

/**
 * Blocks accepted by earlier batches whose store write has not completed yet. Later batches validate against them,
 * so validating batch k+1 overlaps with writing batch k; a batch is acknowledged only once its own write and every
 * earlier one are done.
 */
class PendingWrites {
  readonly blocks = new Map<string, HalfBlock>()
  readonly links = new Map<string, HalfBlock[]>()
  readonly chains = new Map<string, number>()

  add(blocks: readonly HalfBlock[]): void {
    for (const block of blocks) {
      this.blocks.set(positionKey(block.publicKey, block.sequenceNumber), block)
      const chain = chainKey(block.publicKey)
      this.chains.set(chain, (this.chains.get(chain) ?? 0) + 1)
      if (block.linkSequenceNumber > 0) {
        const target = positionKey(block.linkPublicKey, block.linkSequenceNumber)
        this.links.set(target, [...(this.links.get(target) ?? []), block])
      }
    }
  }

  /**
   * A copy for one batch's view: an earlier write may complete (and `remove` its blocks) while the batch is being
   * validated, after the view has already read those positions from the store as absent.
   */
  snapshot(): PendingWrites {
    const copy = new PendingWrites()
    for (const [key, block] of this.blocks) copy.blocks.set(key, block)
    for (const [key, list] of this.links) copy.links.set(key, list)
    for (const [key, count] of this.chains) copy.chains.set(key, count)
    return copy
  }

  remove(blocks: readonly HalfBlock[]): void {
    for (const block of blocks) {
      this.blocks.delete(positionKey(block.publicKey, block.sequenceNumber))
      const chain = chainKey(block.publicKey)
      const count = (this.chains.get(chain) ?? 1) - 1
      if (count === 0) this.chains.delete(chain)
      else this.chains.set(chain, count)
      if (block.linkSequenceNumber > 0) {
        const target = positionKey(block.linkPublicKey, block.linkSequenceNumber)
        const rest = (this.links.get(target) ?? []).filter((other) => other !== block)
        if (rest.length === 0) this.links.delete(target)
        else this.links.set(target, rest)
      }
    }
  }
}

/** Agreements from two sources without repeating a block (a write may land between two lookups). */
function mergeLinks(first: readonly HalfBlock[], second: readonly HalfBlock[] | undefined): readonly HalfBlock[] {
  if (second === undefined || second.length === 0) return first
  return [...first, ...second.filter((block) => !first.includes(block))]
}

/** The blocks known to one ingest call: the store's answers overlaid with blocks accepted earlier in the batch. */
class BatchView {
  /** Store answers by position; `null` = known to be absent. */
  readonly fetched = new Map<string, HalfBlock | null>()
  readonly accepted = new Map<string, HalfBlock>()
  readonly storedLinks = new Map<string, HalfBlock[]>()
  readonly acceptedLinks = new Map<string, HalfBlock[]>()
  readonly chainsTouched = new Set<string>()

  readonly pending: PendingWrites

  constructor(
    readonly store: BlockStore,
    pending: PendingWrites,
  ) {
    this.pending = pending.snapshot()
  }

  /** Looks up, in one `getMany` and one `getLinkedMany`, everything the batch's validation will ask for. */
  async prefetch(blocks: readonly HalfBlock[]): Promise<void> {
    const wanted = new Map<string, BlockKey>()
    const linkTargets = new Map<string, BlockKey>()
    const want = (publicKey: Uint8Array, sequenceNumber: number, into: Map<string, BlockKey>) => {
      if (sequenceNumber >= 1) into.set(positionKey(publicKey, sequenceNumber), { publicKey, sequenceNumber })
    }
    for (const block of blocks) {
      want(block.publicKey, block.sequenceNumber, wanted)
      want(block.publicKey, block.sequenceNumber - 1, wanted)
      want(block.publicKey, block.sequenceNumber + 1, wanted)
      if (isAgreement(block) || isVoid(block)) {
        want(block.linkPublicKey, block.linkSequenceNumber, wanted)
        want(block.linkPublicKey, block.linkSequenceNumber, linkTargets)
      } else if (isProposal(block)) {
        want(block.publicKey, block.sequenceNumber, linkTargets)
      }
    }
    const keys = [...wanted.entries()]
    const targets = [...linkTargets.entries()]
    const [found, links] = await Promise.all([
      this.store.getMany(keys.map(([, key]) => key)),
      this.store.getLinkedMany(targets.map(([, key]) => key)),
    ])
    keys.forEach(([name], i) => this.fetched.set(name, found[i] ?? null))
    targets.forEach(([name], i) => this.storedLinks.set(name, links[i] ?? []))
  }

  /** The block at a position if the view knows (`undefined` = absent), or `unknown` if the store must be asked. */
  known(name: string): HalfBlock | undefined | 'unknown' {
    const accepted = this.accepted.get(name) ?? this.pending.blocks.get(name)
    if (accepted !== undefined) return accepted
    const fetched = this.fetched.get(name)
    return fetched === undefined ? 'unknown' : (fetched ?? undefined)
  }

  async block(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock | undefined> {
    const name = positionKey(publicKey, sequenceNumber)
    const known = this.known(name)
    if (known !== 'unknown') return known
    const block = await this.store.get(publicKey, sequenceNumber)
    this.fetched.set(name, block ?? null)
    return block
  }

  async linked(publicKey: Uint8Array, sequenceNumber: number): Promise<readonly HalfBlock[]> {
    const name = positionKey(publicKey, sequenceNumber)
    let stored = this.storedLinks.get(name)
    if (stored === undefined) {
      stored = await this.store.getLinked(publicKey, sequenceNumber)
      this.storedLinks.set(name, stored)
    }
    return mergeLinks(mergeLinks(stored, this.pending.links.get(name)), this.acceptedLinks.get(name))
  }

  /** Blocks of a chain between `from` and `to` known to the view, by sequence number. */
  async held(publicKey: Uint8Array, from: number, to: number): Promise<Map<number, HalfBlock>> {
    const found = new Map<number, HalfBlock>()
    if (to < from) return found
    for (const block of await this.store.range(publicKey, from, to)) found.set(block.sequenceNumber, block)
    const chain = chainKey(publicKey)
    if (this.chainsTouched.has(chain) || this.pending.chains.has(chain)) {
      for (let seq = from; seq <= to; seq++) {
        const block = this.accepted.get(chain + seq) ?? this.pending.blocks.get(chain + seq)
        if (block !== undefined) found.set(seq, block)
      }
    }
    return found
  }

  accept(block: HalfBlock): void {
    this.accepted.set(positionKey(block.publicKey, block.sequenceNumber), block)
    this.chainsTouched.add(chainKey(block.publicKey))
    if (block.linkSequenceNumber > 0) {
      const name = positionKey(block.linkPublicKey, block.linkSequenceNumber)
      this.acceptedLinks.set(name, [...(this.acceptedLinks.get(name) ?? []), block])
    }
  }

  /**
   * The balance a block states (genesis, transfer, void, checkpoint). The ledger stores a block that states one only
   * once it has checked it, so a stored block's balance is a base later blocks may be checked against.
   */
  static statedBalance(block: HalfBlock): number | undefined {
    return statedBalance(block.type, block.payload)
  }

  /** Running balance of a chain after block `sequenceNumber` (0 before the first), if the blocks are known. */
  async balanceAfter(publicKey: Uint8Array, sequenceNumber: number): Promise<number | undefined> {
    for (let seq = sequenceNumber; seq >= 1; seq--) {
      const block = await this.block(publicKey, seq)
      if (block === undefined) return undefined
      const balance = BatchView.statedBalance(block)
      if (balance !== undefined) return balance
    }
    return 0
  }

  /**
   * The context from what was prefetched, without waiting: the common case of a batch. Undefined when something
   * must still be read from the store (a walk back for a balance, whether an unconnected chain is known).
   */
  quickContext(block: HalfBlock): ValidationContext | undefined {
    const existing = this.known(positionKey(block.publicKey, block.sequenceNumber))
    const previous = block.sequenceNumber > 1 ? this.known(positionKey(block.publicKey, block.sequenceNumber - 1)) : undefined
    const next = this.known(positionKey(block.publicKey, block.sequenceNumber + 1))
    if (existing === 'unknown' || previous === 'unknown' || next === 'unknown') return undefined
    const answer = isAgreement(block) || isVoid(block)
    const linkedProposal = answer ? this.known(positionKey(block.linkPublicKey, block.linkSequenceNumber)) : undefined
    if (linkedProposal === 'unknown') return undefined
    const target = answer ? positionKey(block.linkPublicKey, block.linkSequenceNumber) : isProposal(block) ? positionKey(block.publicKey, block.sequenceNumber) : undefined
    let agreements: readonly HalfBlock[] = []
    if (target !== undefined) {
      const stored = this.storedLinks.get(target)
      if (stored === undefined) return undefined
      agreements = mergeLinks(mergeLinks(stored, this.pending.links.get(target)), this.acceptedLinks.get(target))
    }
    const chainKnown =
      existing !== undefined ||
      previous !== undefined ||
      next !== undefined ||
      this.chainsTouched.has(chainKey(block.publicKey)) ||
      this.pending.chains.has(chainKey(block.publicKey))
    if (!chainKnown) return undefined
    let previousBalance: number | undefined
    if (statedBalance(block.type, block.payload) !== undefined) {
      if (block.sequenceNumber === 1) previousBalance = 0
      else if (previous !== undefined) {
        previousBalance = BatchView.statedBalance(previous)
        if (previousBalance === undefined) return undefined
      }
    }
    return { existing, previous, next, chainKnown, linkedProposal, agreements, previousBalance }
  }

  async context(block: HalfBlock): Promise<ValidationContext> {
    const quick = this.quickContext(block)
    if (quick !== undefined) return quick
    const existing = await this.block(block.publicKey, block.sequenceNumber)
    const previous = block.sequenceNumber > 1 ? await this.block(block.publicKey, block.sequenceNumber - 1) : undefined
    const next = await this.block(block.publicKey, block.sequenceNumber + 1)
    const answer = isAgreement(block) || isVoid(block)
    const linkedProposal = answer ? await this.block(block.linkPublicKey, block.linkSequenceNumber) : undefined
    const agreements = answer
      ? await this.linked(block.linkPublicKey, block.linkSequenceNumber)
      : isProposal(block)
        ? await this.linked(block.publicKey, block.sequenceNumber)
        : []
    const chainKnown =
      existing !== undefined ||
      previous !== undefined ||
      next !== undefined ||
      this.chainsTouched.has(chainKey(block.publicKey)) ||
      this.pending.chains.has(chainKey(block.publicKey)) ||
      (await this.store.latest(block.publicKey)) !== undefined
    const previousBalance =
      statedBalance(block.type, block.payload) === undefined ? undefined : await this.balanceAfter(block.publicKey, block.sequenceNumber - 1)
    return { existing, previous, next, chainKnown, linkedProposal, agreements, previousBalance }
  }
}

function rejection(block: HalfBlock, validation: ValidationResult): TrustChainError {
  // Only the broken rules; what was merely unknown stays in `validation.reasons`.
  const reasons = validation.reasons.filter((reason) => !INFORMATIONAL_REASONS.has(reason))
  return new TrustChainError(TrustChainErrorCode.INVALID_BLOCK, `invalid block: ${reasons.join(', ')}`, {
    reasons,
    publicKey: toHex(block.publicKey),
    sequenceNumber: block.sequenceNumber,
    ...(validation.payloadErrors === undefined ? {} : { payloadErrors: validation.payloadErrors }),
  })
}

/**
 * Why a block that broke no rule still may not be stored: it carries value that nothing known can check yet. Stored
 * anyway, it could be found invalid once the gap fills (an overspend, a minted amount) and would then make the
 * honest block that fills the gap look wrong. Blocks without value (notes, checkpoints) are stored as partial: their
 * rules are re-checked against their neighbours by whichever block arrives later.
 */
async function missingDependency(view: BatchView, block: HalfBlock, validation: ValidationResult): Promise<BlockKey | undefined> {
  if ((isAgreement(block) || isVoid(block)) && validation.reasons.includes(ValidationReason.LINK_UNKNOWN)) {
    return { publicKey: block.linkPublicKey, sequenceNumber: block.linkSequenceNumber }
  }
  if (!validation.reasons.includes(ValidationReason.BALANCE_UNCHECKED)) return undefined
  // The nearest unknown block below this one: the balance walk stopped there.
  for (let seq = block.sequenceNumber - 1; seq >= 1; seq--) {
    const below = await view.block(block.publicKey, seq)
    if (below === undefined) return { publicKey: block.publicKey, sequenceNumber: seq }
    if (BatchView.statedBalance(below) !== undefined) return undefined
  }
  return undefined
}

/** How far below a missing block the ledger looks for the start of the run to fetch with it (a crawl's largest answer). */
const MISSING_RUN_LOOKBACK = 256

/**
 * The lowest block to fetch together with `missing` so that, once they are stored, the balance before `missing`
 * is known: going down from it, every block not held until a held one that states a balance (blocks held without
 * one, checkpoints, are passed). A crawler asks for this run and nothing it already holds below it.
 */
async function missingRunStart(view: BatchView, missing: BlockKey): Promise<number> {
  const lowest = Math.max(1, missing.sequenceNumber - MISSING_RUN_LOOKBACK + 1)
  const held = await view.held(missing.publicKey, lowest, missing.sequenceNumber - 1)
  let from = missing.sequenceNumber
  for (let seq = missing.sequenceNumber - 1; seq >= lowest; seq--) {
    const block = held.get(seq)
    if (block === undefined) from = seq
    else if (BatchView.statedBalance(block) !== undefined) break
  }
  return from
}

/** The retriable refusal of `block`, naming the block to fetch first and where the run to fetch with it starts. */
function missingError(block: HalfBlock, missing: BlockKey, from: number): TrustChainError {
  const name = { publicKey: toHex(missing.publicKey), sequenceNumber: missing.sequenceNumber, from }
  return new TrustChainError(TrustChainErrorCode.MISSING_DEPENDENCY, `block ${name.sequenceNumber} of ${name.publicKey} is needed first`, {
    reasons: [TrustChainErrorCode.MISSING_DEPENDENCY],
    publicKey: toHex(block.publicKey),
    sequenceNumber: block.sequenceNumber,
    missing: name,
  })
}

export function createLedger(options: LedgerOptions): Ledger {
  const { crypto, store } = options
  const registry = options.registry ?? new PayloadRegistry()
  const limits = options.limits ?? DEFAULT_BLOCK_LIMITS
  const validationOptions = (): ValidationOptions =>
    options.now !== undefined && options.maxClockSkewMs !== undefined ? { now: options.now(), maxClockSkewMs: options.maxClockSkewMs } : {}

  // Ingests run one at a time: each validates against the store as the previous one left it, so two concurrent
  // batches can never both accept conflicting blocks.
  let queue: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work)
    queue = run.catch(() => undefined)
    return run
  }

  const minVerifyBatch = options.minVerifyBatch ?? 32

  /**
   * Signatures this ledger has verified, by block object, with the bytes they were verified over. A block refused
   * for a missing dependency comes back once the dependency is fetched (often several times while a crawl walks a
   * chain's history), and a batch retries its waiting blocks after each pass: verifying the same signature again
   * each time was most of a crawling node's work. The copy guards against a caller reusing a block's buffers.
   */
  const verifiedSignatures = new WeakMap<HalfBlock, Uint8Array>()
  const signedBytes = (block: HalfBlock): Uint8Array => {
    const bytes = new Uint8Array(PUBLIC_KEY_LENGTH + HASH_LENGTH + SIGNATURE_LENGTH)
    bytes.set(block.publicKey, 0)
    bytes.set(blockHash(crypto, block), PUBLIC_KEY_LENGTH)
    bytes.set(block.signature, PUBLIC_KEY_LENGTH + HASH_LENGTH)
    return bytes
  }
  const rememberSignature = (block: HalfBlock): void => {
    if (!verifiedSignatures.has(block)) verifiedSignatures.set(block, signedBytes(block))
  }
  /**
   * True when the block's signature needs no verifying: this ledger verified it before, or the block is byte for
   * byte the one already stored at its position (same hash and same signature), which was verified when it was
   * stored. Otherwise undefined and validation verifies it; a different block at the position (double-sign fraud)
   * is always verified before it is compared with the stored one.
   */
  const knownSignature = (block: HalfBlock, existing: HalfBlock | undefined): true | undefined => {
    const remembered = verifiedSignatures.get(block)
    if (remembered !== undefined && equalBytes(remembered, signedBytes(block))) return true
    if (existing !== undefined && equalBytes(existing.signature, block.signature) && equalBytes(blockHash(crypto, existing), blockHash(crypto, block))) {
      return true
    }
    return undefined
  }
  /**
   * Validates and stores decoded blocks. A value that is not a half-block (an in-process caller's mistake) gets its
   * own MALFORMED_BLOCK rejection; the rest of the batch goes on.
   */
  const ingest = async (input: readonly HalfBlock[]): Promise<IngestOutcome[]> => {
    const shaped = input.map((block) => HalfBlockCodec.is(block))
    if (shaped.every(Boolean)) return ingestShaped(input)
    const stored = await ingestShaped(input.filter((_, i) => shaped[i]))
    let next = 0
    return input.map((_, i): IngestOutcome => {
      if (shaped[i]) return stored[next++] as IngestOutcome
      const error = new TrustChainError(TrustChainErrorCode.MALFORMED_BLOCK, 'not a half-block', { index: i })
      return { status: 'rejected', block: undefined, error, validation: undefined }
    })
  }

  const ingestShaped = (blocks: readonly HalfBlock[]): Promise<IngestOutcome[]> => {
    // Signatures do not depend on the store: verification starts at once, outside the exclusive section, so it
    // overlaps with the validation of the batch before.
    let verdicts: Promise<boolean[] | undefined> | undefined
    if (options.verifier !== undefined && blocks.length >= minVerifyBatch) {
      const items = blocks.map((block) => ({ publicKey: block.publicKey, message: blockHash(crypto, block), signature: block.signature }))
      // A failed pool is not a failed batch: validation then verifies in this thread.
      verdicts = options.verifier.verifyBatch(items).catch(() => undefined)
    }
    return exclusive(() => ingestNow(blocks, verdicts)).then(async ({ outcomes, written }) => {
      await written
      return outcomes
    })
  }

  const pending = new PendingWrites()
  // The tail of the chain of store writes: each waits for the one before and fails if it failed, so no batch is
  // acknowledged while a batch it may have been validated against is not durably stored.
  let writes: Promise<void> = Promise.resolve()

  const ingestNow = async (
    blocks: readonly HalfBlock[],
    verdicts: Promise<boolean[] | undefined> | undefined,
  ): Promise<{ outcomes: IngestOutcome[]; written: Promise<void> }> => {
    const view = new BatchView(store, pending)
    await view.prefetch(blocks)
    const verified = verdicts === undefined ? undefined : await verdicts
    const outcomes: IngestOutcome[] = new Array(blocks.length)
    const toWrite: HalfBlock[] = []
    const fraudProofs: FraudProof[] = []
    const settings = validationOptions()
    // Blocks waiting for a dependency are tried again after a pass that stored something, so a batch's order does
    // not matter when it holds the dependency itself (an agreement before the proposal it answers, say).
    let todo = [...blocks.keys()]
    const waitingFor = new Map<number, { missing: BlockKey; validation: ValidationResult }>()
    for (let pass = 0; todo.length > 0; pass++) {
      const waiting: number[] = []
      let progress = false
      for (const index of todo) {
        const block = blocks[index] as HalfBlock
        waitingFor.delete(index)
        const found = view.quickContext(block) ?? (await view.context(block))
        const signatureValid = verified?.[index] ?? knownSignature(block, found.existing)
        const context = signatureValid === undefined ? found : { ...found, signatureValid }
        const validation = validateBlock(crypto, registry, block, context, settings)
        if (!validation.reasons.includes(ValidationReason.BAD_SIGNATURE)) rememberSignature(block)
        if (validation.level === ValidationLevel.INVALID) {
          if (validation.fraudProof !== undefined) fraudProofs.push(validation.fraudProof)
          outcomes[index] = { status: 'rejected', block, error: rejection(block, validation), validation }
          continue
        }
        const missing = await missingDependency(view, block, validation)
        if (missing !== undefined) {
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
        view.accept(block)
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
    const previous = writes
    if (toWrite.length === 0 && fraudProofs.length === 0) return { outcomes, written: previous }
    pending.add(toWrite)
    const written = previous.then(() => store.write({ blocks: toWrite, fraudProofs }))
    writes = written
    written.then(
      () => pending.remove(toWrite),
      () => {
        pending.remove(toWrite)
        // Once the failure has reached everyone chained to it, later batches start afresh.
        if (writes === written) writes = Promise.resolve()
      },
    )
    return { outcomes, written }
  }

  return {
    crypto,
    store,
    registry,
    limits,
    ingest,
    async ingestWire(wire) {
      const decoded: (HalfBlock | TrustChainError)[] = wire.map((bytes) => {
        try {
          return decodeBlock(crypto, bytes, limits)
        } catch (error) {
          if (error instanceof TrustChainError) return error
          throw error
        }
      })
      const stored = await ingestShaped(decoded.filter((item): item is HalfBlock => !(item instanceof TrustChainError)))
      let next = 0
      return decoded.map((item) =>
        item instanceof TrustChainError ? { status: 'rejected', block: undefined, error: item, validation: undefined } : (stored[next++] as IngestOutcome),
      )
    },
    async validate(block) {
      const view = new BatchView(store, pending)
      return validateBlock(crypto, registry, block, await view.context(block), validationOptions())
    },
  }
}
