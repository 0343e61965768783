/**
 * What the parts of one anchored node share: its identity and settings, its lifetime, its own chain and how own
 * blocks are stored, how signature batches are verified, the node's time, and its counters. The parts (proposer,
 * outboxes, book of outstanding proposals, frame answerer) each take this core and nothing else of one another.
 */
import { type Crypto, equalBytes, type SignedMessage } from '@constellation/crypto'
import { type Clock, systemClock, type TimerHandle } from '@constellation/interface'
import type { BlockAuthor, ChainHead } from '../block/block-builder.js'
import { type BlockLimits, blockHash, DEFAULT_BLOCK_LIMITS } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import { PayloadRegistry } from '../block/payloads.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { blockTime, timerAt } from '../protocol/block-time.js'
import type { AnchoredNodeOptions, AnchoredNodeStats } from './anchored-node.js'
import type { OwnChain } from './own-chain.js'

const DEFAULT_ANSWER_TIMEOUT_MS = 5_000
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
const DEFAULT_MAX_STRETCH = 2_048
const DEFAULT_MAX_OUTSTANDING = 4_096
const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000

export class AnchoredCore {
  readonly options: AnchoredNodeOptions
  readonly crypto: Crypto
  readonly publicKey: Uint8Array
  readonly limits: BlockLimits
  readonly registry: PayloadRegistry
  readonly author: BlockAuthor
  readonly answerTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly maxStretch: number
  readonly maxOutstanding: number
  readonly maxClockSkewMs: number
  readonly stats: { -readonly [K in keyof AnchoredNodeStats]: number } = {
    framesSent: 0,
    framesReceived: 0,
    resends: 0,
    proposalsSigned: 0,
    agreementsSigned: 0,
    refusalsSigned: 0,
    voids: 0,
  }
  readonly #clock: Clock
  readonly #stop: () => Promise<void>
  readonly #grownListeners = new Set<(head: ChainHead) => void>()
  #chain: OwnChain | undefined
  #running = false

  /** `stop` stops the node: a store that cannot write stops it. */
  constructor(options: AnchoredNodeOptions, stop: () => Promise<void>) {
    this.options = options
    this.crypto = options.crypto
    this.publicKey = options.keyPair.publicKey
    this.limits = options.limits ?? DEFAULT_BLOCK_LIMITS
    this.registry = options.registry ?? new PayloadRegistry()
    this.author = { crypto: options.crypto, keyPair: options.keyPair, limits: this.limits }
    this.answerTimeoutMs = options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.maxStretch = options.maxStretchBlocks ?? DEFAULT_MAX_STRETCH
    this.maxOutstanding = options.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING
    this.maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
    this.#clock = options.clock ?? systemClock
    this.#stop = stop
  }

  get running(): boolean {
    return this.#running
  }

  /** The node runs from now on, on `chain`, opened from the store. */
  begin(chain: OwnChain): void {
    this.#chain = chain
    this.#running = true
  }

  /** The node stops running. */
  halt(): void {
    this.#running = false
  }

  /** Resolves once every block handed to the own chain so far is written (or failed). */
  settled(): Promise<void> {
    return this.#chain?.settled() ?? Promise.resolve()
  }

  /** The own chain; NODE_STOPPED before the node first started. */
  chain(): OwnChain {
    if (this.#chain === undefined) throw this.stopped()
    return this.#chain
  }

  /** Whole milliseconds, as blocks are stamped. */
  now(): number {
    return blockTime(this.#clock)
  }

  /** A timer `delayMs` after `now()`. */
  after(delayMs: number, callback: () => void): TimerHandle {
    return timerAt(this.#clock, this.now() + delayMs, callback)
  }

  /** Verifies a batch of signatures: on the verifier (a worker pool) when it is large enough, else in this thread. */
  async verify(blocks: readonly HalfBlock[]): Promise<boolean[]> {
    if (blocks.length === 0) return []
    const items: SignedMessage[] = blocks.map((block) => ({ publicKey: block.publicKey, message: blockHash(this.crypto, block), signature: block.signature }))
    if (this.options.verifier !== undefined && items.length >= 32) {
      const verdicts = await this.options.verifier.verifyBatch(items).catch(() => undefined)
      if (verdicts !== undefined) return verdicts
    }
    return this.crypto.verifyMany(items)
  }

  /**
   * Stores blocks through the own chain (own blocks just appended, and the counterparties' blocks that go with them),
   * then tells the `onGrown` listeners the new head. A store that cannot write stops the node.
   */
  async persist(blocks: readonly HalfBlock[]): Promise<void> {
    try {
      await this.chain().persist(blocks)
    } catch (error) {
      this.report(error)
      void this.#stop()
      throw error
    }
    if (this.#grownListeners.size === 0 || !blocks.some((block) => equalBytes(block.publicKey, this.publicKey))) return
    const head = this.chain().head
    for (const listener of this.#grownListeners) {
      try {
        listener(head)
      } catch (error) {
        this.report(error)
      }
    }
  }

  onGrown(listener: (head: ChainHead) => void): () => void {
    this.#grownListeners.add(listener)
    return () => this.#grownListeners.delete(listener)
  }

  /** A failure of the node itself, or of a listener: for `onError`. */
  report(error: unknown): void {
    this.options.onError?.(error)
  }

  stopped(): TrustChainError {
    return new TrustChainError(TrustChainErrorCode.NODE_STOPPED, 'the node is stopped')
  }
}
