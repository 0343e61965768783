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
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, isSealedBlock } from '../block/block-encoding.js'
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

/** The verifier's answers for the blocks of a batch from index `from` on. */
interface Verdicts {
  readonly from: number
  readonly answers: Promise<boolean[] | undefined>
  /** Whether `answers` has settled. */
  settled: boolean
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

/** The blocks of one chain that earlier batches accepted and whose write has not completed yet. */
interface PendingChain {
  /** Pending blocks of this chain, by sequence number. */
  readonly blocks: Map<number, HalfBlock>
  /** Pending blocks linking to positions of this chain (agreements, voids), by the target's sequence number. */
  readonly links: Map<number, readonly HalfBlock[]>
}

/**
 * Blocks accepted by earlier batches whose store write has not completed yet. Later batches validate against them,
 * so validating batch k+1 overlaps with writing batch k; a batch is acknowledged only once its own write and every
 * earlier one are done. Kept as the list of batches, and indexed (by chain, then sequence number) only when a batch
 * is validated while writes are pending — a node ingesting one batch at a time never pays for the index.
 */
class PendingWrites {
  readonly #batches = new Set<readonly HalfBlock[]>()

  get empty(): boolean {
    return this.#batches.size === 0
  }

  add(blocks: readonly HalfBlock[]): void {
    this.#batches.add(blocks)
  }

  remove(blocks: readonly HalfBlock[]): void {
    this.#batches.delete(blocks)
  }

  /**
   * The pending blocks as one batch's view sees them: a copy, since an earlier write may complete (and `remove` its
   * blocks) while the batch is being validated, after the view has already read those positions from the store as
   * absent.
   */
  index(): Map<string, PendingChain> {
    const chains = new Map<string, PendingChain>()
    const chainOf = (publicKey: Uint8Array): PendingChain => {
      const key = chainKey(publicKey)
      let chain = chains.get(key)
      if (chain === undefined) {
        chain = { blocks: new Map(), links: new Map() }
        chains.set(key, chain)
      }
      return chain
    }
    for (const batch of this.#batches) {
      for (const block of batch) {
        chainOf(block.publicKey).blocks.set(block.sequenceNumber, block)
        if (block.linkSequenceNumber > 0) {
          const links = chainOf(block.linkPublicKey).links as Map<number, HalfBlock[]>
          const list = links.get(block.linkSequenceNumber)
          if (list === undefined) links.set(block.linkSequenceNumber, [block])
          else list.push(block)
        }
      }
    }
    return chains
  }
}

/** Agreements from two sources without repeating a block (a write may land between two lookups). */
function mergeLinks(first: readonly HalfBlock[], second: readonly HalfBlock[] | undefined): readonly HalfBlock[] {
  if (second === undefined || second.length === 0) return first
  if (first.length === 0) return second
  return [...first, ...second.filter((block) => !first.includes(block))]
}

const NO_BLOCKS: readonly HalfBlock[] = Object.freeze([])
const NO_PENDING: ReadonlyMap<string, PendingChain> = new Map()

/** What one batch knows of one chain: the store's answers, overlaid with pending blocks and the batch's own. */
interface ChainView {
  readonly publicKey: Uint8Array
  /** Store answers by sequence number; `null` = known to be absent. */
  readonly fetched: Map<number, HalfBlock | null>
  /** Blocks accepted earlier in this batch. */
  readonly accepted: Map<number, HalfBlock>
  /** The store's blocks linking to positions of this chain, by the target's sequence number. */
  readonly storedLinks: Map<number, readonly HalfBlock[]>
  /** This batch's accepted blocks linking to positions of this chain. */
  readonly acceptedLinks: Map<number, HalfBlock[]>
  /** Pending writes of earlier batches touching this chain. */
  readonly pending: PendingChain | undefined
}

/** The blocks known to one ingest call: the store's answers overlaid with blocks accepted earlier in the batch. */
class BatchView {
  readonly #chains = new Map<string, ChainView>()
  readonly #pending: ReadonlyMap<string, PendingChain>

  constructor(
    readonly store: BlockStore,
    pending: PendingWrites,
  ) {
    this.#pending = pending.empty ? NO_PENDING : pending.index()
  }

  /** The view of the chain of `publicKey`. */
  chain(publicKey: Uint8Array): ChainView {
    const key = chainKey(publicKey)
    let chain = this.#chains.get(key)
    if (chain === undefined) {
      chain = {
        publicKey,
        fetched: new Map(),
        accepted: new Map(),
        storedLinks: new Map(),
        acceptedLinks: new Map(),
        pending: this.#pending.get(key),
      }
      this.#chains.set(key, chain)
    }
    return chain
  }

  /** Looks up, in one `getMany` and one `getLinkedMany`, everything the batch's validation will ask for. */
  async prefetch(blocks: readonly HalfBlock[]): Promise<void> {
    const keys: BlockKey[] = []
    const keyChains: ChainView[] = []
    const targets: BlockKey[] = []
    const targetChains: ChainView[] = []
    // Placeholders mark what is asked for already; the answers replace them below.
    const want = (chain: ChainView, sequenceNumber: number) => {
      if (sequenceNumber < 1 || chain.fetched.has(sequenceNumber)) return
      chain.fetched.set(sequenceNumber, null)
      keys.push({ publicKey: chain.publicKey, sequenceNumber })
      keyChains.push(chain)
    }
    const wantLinks = (chain: ChainView, sequenceNumber: number) => {
      if (chain.storedLinks.has(sequenceNumber)) return
      chain.storedLinks.set(sequenceNumber, NO_BLOCKS)
      targets.push({ publicKey: chain.publicKey, sequenceNumber })
      targetChains.push(chain)
    }
    for (const block of blocks) {
      const chain = this.chain(block.publicKey)
      want(chain, block.sequenceNumber)
      want(chain, block.sequenceNumber - 1)
      want(chain, block.sequenceNumber + 1)
      if (isAgreement(block) || isVoid(block)) {
        const linked = this.chain(block.linkPublicKey)
        want(linked, block.linkSequenceNumber)
        if (block.linkSequenceNumber >= 1) wantLinks(linked, block.linkSequenceNumber)
      } else if (isProposal(block)) {
        wantLinks(chain, block.sequenceNumber)
      }
    }
    const [found, links] = await Promise.all([keys.length === 0 ? [] : this.store.getMany(keys), targets.length === 0 ? [] : this.store.getLinkedMany(targets)])
    for (let i = 0; i < keys.length; i++) (keyChains[i] as ChainView).fetched.set((keys[i] as BlockKey).sequenceNumber, found[i] ?? null)
    for (let i = 0; i < targets.length; i++) (targetChains[i] as ChainView).storedLinks.set((targets[i] as BlockKey).sequenceNumber, links[i] ?? NO_BLOCKS)
  }

  /** The block at a position if the view knows (`undefined` = absent), or `unknown` if the store must be asked. */
  known(chain: ChainView, sequenceNumber: number): HalfBlock | undefined | 'unknown' {
    const accepted = chain.accepted.get(sequenceNumber) ?? chain.pending?.blocks.get(sequenceNumber)
    if (accepted !== undefined) return accepted
    const fetched = chain.fetched.get(sequenceNumber)
    return fetched === undefined ? 'unknown' : (fetched ?? undefined)
  }

  async block(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock | undefined> {
    const chain = this.chain(publicKey)
    const known = this.known(chain, sequenceNumber)
    if (known !== 'unknown') return known
    const block = await this.store.get(publicKey, sequenceNumber)
    chain.fetched.set(sequenceNumber, block ?? null)
    return block
  }

  /** Blocks linking to a position: the store's, then pending ones, then this batch's. */
  #links(chain: ChainView, sequenceNumber: number, stored: readonly HalfBlock[]): readonly HalfBlock[] {
    return mergeLinks(mergeLinks(stored, chain.pending?.links.get(sequenceNumber)), chain.acceptedLinks.get(sequenceNumber))
  }

  async linked(publicKey: Uint8Array, sequenceNumber: number): Promise<readonly HalfBlock[]> {
    const chain = this.chain(publicKey)
    let stored = chain.storedLinks.get(sequenceNumber)
    if (stored === undefined) {
      stored = await this.store.getLinked(publicKey, sequenceNumber)
      chain.storedLinks.set(sequenceNumber, stored)
    }
    return this.#links(chain, sequenceNumber, stored)
  }

  /** Whether the view holds blocks of the chain of its own (accepted in this batch, or pending). */
  static touched(chain: ChainView): boolean {
    return chain.accepted.size > 0 || (chain.pending !== undefined && chain.pending.blocks.size > 0)
  }

  /** Blocks of a chain between `from` and `to` known to the view, by sequence number. */
  async held(publicKey: Uint8Array, from: number, to: number): Promise<Map<number, HalfBlock>> {
    const found = new Map<number, HalfBlock>()
    if (to < from) return found
    for (const block of await this.store.range(publicKey, from, to)) found.set(block.sequenceNumber, block)
    const chain = this.chain(publicKey)
    if (BatchView.touched(chain)) {
      for (let seq = from; seq <= to; seq++) {
        const block = chain.accepted.get(seq) ?? chain.pending?.blocks.get(seq)
        if (block !== undefined) found.set(seq, block)
      }
    }
    return found
  }

  accept(block: HalfBlock, chain: ChainView): void {
    chain.accepted.set(block.sequenceNumber, block)
    if (block.linkSequenceNumber > 0) {
      const target = this.chain(block.linkPublicKey)
      const list = target.acceptedLinks.get(block.linkSequenceNumber)
      if (list === undefined) target.acceptedLinks.set(block.linkSequenceNumber, [block])
      else list.push(block)
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
  quickContext(block: HalfBlock, chain: ChainView): ValidationContext | undefined {
    const existing = this.known(chain, block.sequenceNumber)
    const previous = block.sequenceNumber > 1 ? this.known(chain, block.sequenceNumber - 1) : undefined
    const next = this.known(chain, block.sequenceNumber + 1)
    if (existing === 'unknown' || previous === 'unknown' || next === 'unknown') return undefined
    const answer = isAgreement(block) || isVoid(block)
    let linkedProposal: HalfBlock | undefined
    let agreements: readonly HalfBlock[] = NO_BLOCKS
    if (answer || isProposal(block)) {
      const target = answer ? this.chain(block.linkPublicKey) : chain
      const targetSequence = answer ? block.linkSequenceNumber : block.sequenceNumber
      if (answer) {
        const known = this.known(target, targetSequence)
        if (known === 'unknown') return undefined
        linkedProposal = known
      }
      const stored = target.storedLinks.get(targetSequence)
      if (stored === undefined) return undefined
      agreements = this.#links(target, targetSequence, stored)
    }
    const chainKnown = existing !== undefined || previous !== undefined || next !== undefined || BatchView.touched(chain)
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
    const quick = this.quickContext(block, this.chain(block.publicKey))
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
      BatchView.touched(this.chain(block.publicKey)) ||
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
/** Whether `missingDependency` has anything to look for: most blocks are checked in full and need no await. */
function mayMissDependency(validation: ValidationResult): boolean {
  return validation.reasons.includes(ValidationReason.LINK_UNKNOWN) || validation.reasons.includes(ValidationReason.BALANCE_UNCHECKED)
}

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
  // Remembered only for blocks that are not stored (refused, or waiting for a dependency): a stored block is known
  // by the store itself, and a memo per stored block would cost more than the rest of its bookkeeping.
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
    // Blocks this package built or decoded were checked when they were made, and are frozen.
    const shaped = input.map((block) => isSealedBlock(block) || HalfBlockCodec.is(block))
    if (shaped.every(Boolean)) return ingestShaped(input)
    const stored = await ingestShaped(input.filter((_, i) => shaped[i]))
    let next = 0
    return input.map((_, i): IngestOutcome => {
      if (shaped[i]) return stored[next++] as IngestOutcome
      const error = new TrustChainError(TrustChainErrorCode.MALFORMED_BLOCK, 'not a half-block', { index: i })
      return { status: 'rejected', block: undefined, error, validation: undefined }
    })
  }

  /** The verifier's share of each batch's signatures (see `LedgerOptions.verifier`), and how it moves. */
  let verifierShare = 0.5
  const SHARE_STEP = 0.05
  const MIN_SHARE = 0.05

  const ingestShaped = (blocks: readonly HalfBlock[]): Promise<IngestOutcome[]> => {
    // Signatures do not depend on the store: verification starts at once, outside the exclusive section, so it
    // overlaps with the validation of the batch before.
    let verdicts: Verdicts | undefined
    if (options.verifier !== undefined && blocks.length >= minVerifyBatch) {
      const from = Math.min(blocks.length - 1, Math.round(blocks.length * (1 - verifierShare)))
      const items = blocks.slice(from).map((block) => ({ publicKey: block.publicKey, message: blockHash(crypto, block), signature: block.signature }))
      const pooled: Verdicts = {
        from,
        // A failed pool is not a failed batch: validation then verifies in this thread.
        answers: options.verifier.verifyBatch(items).catch(() => undefined),
        settled: false,
      }
      void pooled.answers.then(() => (pooled.settled = true))
      verdicts = pooled
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

  const ingestNow = async (blocks: readonly HalfBlock[], verdicts: Verdicts | undefined): Promise<{ outcomes: IngestOutcome[]; written: Promise<void> }> => {
    const view = new BatchView(store, pending)
    await view.prefetch(blocks)
    let verified: readonly boolean[] | undefined
    let verifiedFrom = blocks.length
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
        const chain = view.chain(block.publicKey)
        const found = view.quickContext(block, chain) ?? (await view.context(block))
        if (verdicts !== undefined && index >= verdicts.from && verifiedFrom === blocks.length) {
          // The verifier's part begins: were its answers ready in time? Its share follows.
          verifierShare = verdicts.settled ? Math.min(1, verifierShare + SHARE_STEP) : Math.max(MIN_SHARE, verifierShare - SHARE_STEP)
          verified = await verdicts.answers
          verifiedFrom = verdicts.from
        }
        const signatureValid = (index >= verifiedFrom ? verified?.[index - verifiedFrom] : undefined) ?? knownSignature(block, found.existing)
        const context = signatureValid === undefined ? found : { ...found, signatureValid }
        const validation = validateBlock(crypto, registry, block, context, settings)
        const signed = !validation.reasons.includes(ValidationReason.BAD_SIGNATURE)
        if (validation.level === ValidationLevel.INVALID) {
          if (signed) rememberSignature(block)
          if (validation.fraudProof !== undefined) fraudProofs.push(validation.fraudProof)
          outcomes[index] = { status: 'rejected', block, error: rejection(block, validation), validation }
          continue
        }
        const missing = mayMissDependency(validation) ? await missingDependency(view, block, validation) : undefined
        if (missing !== undefined) {
          rememberSignature(block)
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
