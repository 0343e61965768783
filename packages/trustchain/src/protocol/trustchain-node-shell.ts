/**
 * The TrustChain node's shell: the imperative part around the pure protocol engine.
 *
 * It owns the engine state and performs the engine's effects: validating and storing through the ledger, sending
 * and answering requests through a `TrustChainMessenger`, calling the `shouldSign` policy, setting the one timer the
 * engine asks for, and settling `propose`, `checkpoint` and `crawl` promises. Everything from the network is decoded
 * here with codecs (sizes first) and bad input is answered with a typed rejection or dropped; it never reaches the
 * engine as bytes and never throws out of a handler. Events are processed one at a time, so the engine's view of the
 * own chain is always the store's.
 */
import { type Crypto, equalBytes, type KeyPair, toHex } from '@constellation/crypto'
import { type Clock, type PeerId, systemClock, type TimerHandle } from '@constellation/interface'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeBlock } from '../block/block-encoding.js'
import type { ChainHead } from '../block/block-builder.js'
import type { HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { createLedger } from '../ledger/block-ledger.js'
import type { IngestOutcome, Ledger } from '../ledger/ledger.js'
import type { BlockStore } from '../store/block-store.js'
import { readChainHead } from '../store/chain-head.js'
import { blockTime, timerAt } from './block-time.js'
import { DEFAULT_RETRY_POLICY, type EngineConfig } from './engine/engine-config.js'
import type { EngineEffect, EngineEvent, ProposalContent } from './engine/engine-events.js'
import { type EngineState, initialEngineState } from './engine/engine-state.js'
import { step } from './engine/step.js'
import { decodeBlocks, decodeResponse, encodeRequest, encodeResponse } from './engine-wire.js'
import { BlocksMessageCodec, decodeMessage, encodeMessage, MAX_BLOCKS_PER_MESSAGE, type Request, RequestCodec, resolveRange } from './messages.js'
import type { TrustChainMessenger } from './messenger.js'
import {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type SigningPolicy,
  signFullyValid,
  type Transaction,
  type TrustChainNode,
  type TrustChainNodeOptions,
} from './trustchain-node.js'

export function createTrustChainNode(options: TrustChainNodeOptions): TrustChainNode {
  return new TrustChainNodeShell(options)
}

interface Waiting<T> {
  readonly resolve: (value: T) => void
  readonly reject: (error: unknown) => void
}

class TrustChainNodeShell implements TrustChainNode {
  readonly publicKey: Uint8Array
  readonly ledger: Ledger
  readonly #options: TrustChainNodeOptions
  readonly #crypto: Crypto
  readonly #keyPair: KeyPair
  readonly #store: BlockStore
  readonly #messenger: TrustChainMessenger
  readonly #clock: Clock
  readonly #limits: BlockLimits
  readonly #maxCrawlBlocks: number
  readonly #shouldSign: SigningPolicy
  readonly #requestTimeoutMs: number
  readonly #config: EngineConfig
  #state: EngineState
  #running = false
  #queue: Promise<void> = Promise.resolve()
  #queued = 0
  #nextId = 1
  /** The one timer the engine asked for: the earliest moment something of its state needs attention. */
  #timer: { readonly at: number; readonly handle: TimerHandle } | undefined
  readonly #replies = new Map<number, (bytes: Uint8Array) => void>()
  readonly #proposals = new Map<number, Waiting<Transaction>>()
  readonly #checkpoints = new Map<number, Waiting<HalfBlock>>()
  readonly #crawls = new Map<number, Waiting<IngestOutcome[]>>()
  readonly #listeners = new Set<(transaction: Transaction) => void>()

  constructor(options: TrustChainNodeOptions) {
    const { crypto, keyPair, store, messenger } = options
    this.#options = options
    this.#crypto = crypto
    this.#keyPair = keyPair
    this.#store = store
    this.#messenger = messenger
    this.publicKey = keyPair.publicKey
    this.#clock = options.clock ?? systemClock
    this.#limits = options.limits ?? DEFAULT_BLOCK_LIMITS
    this.#maxCrawlBlocks = Math.min(options.maxCrawlBlocks ?? 100, MAX_BLOCKS_PER_MESSAGE)
    this.#shouldSign = options.shouldSign ?? signFullyValid
    const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
    if (!(maxClockSkewMs >= 0)) throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `maxClockSkewMs must be >= 0, got ${maxClockSkewMs}`)
    this.ledger = createLedger({
      crypto,
      store,
      limits: this.#limits,
      ...(options.registry === undefined ? {} : { registry: options.registry }),
      ...(options.verifier === undefined ? {} : { verifier: options.verifier }),
      now: () => this.#now(),
      maxClockSkewMs,
    })
    this.#config = {
      crypto,
      keyPair,
      limits: this.#limits,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      maxCrawlBlocks: this.#maxCrawlBlocks,
      registry: this.ledger.registry,
      maxClockSkewMs,
      ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
      ...(options.maxSessionsPerPeer === undefined ? {} : { maxSessionsPerPeer: options.maxSessionsPerPeer }),
    }
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.#state = initialEngineState({
      publicKey: keyPair.publicKey,
      head: { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0, timestamp: 0 },
      seed: options.seed ?? 1,
    })
    messenger.handle((from, bytes) => this.#onRequest(from, bytes))
    messenger.onBroadcast((from, bytes) => this.#onBroadcast(from, bytes))
  }

  async start(): Promise<void> {
    if (this.#running) return
    this.#state = {
      ...this.#state,
      head: await readChainHead(this.#crypto, this.#store, this.#keyPair.publicKey),
      proposals: new Map(),
      sessions: new Map(),
      rangeCrawls: new Map(),
    }
    this.#running = true
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#timer?.handle.cancel()
    this.#timer = undefined
    for (const reply of this.#replies.values()) reply(this.#rejectedBytes(TrustChainErrorCode.NODE_STOPPED, 'node stopped'))
    this.#replies.clear()
    for (const waiting of [...this.#proposals.values(), ...this.#checkpoints.values(), ...this.#crawls.values()]) waiting.reject(this.#stopped())
    this.#proposals.clear()
    this.#checkpoints.clear()
    this.#crawls.clear()
    await this.#queue
    // Sessions, proposals and crawls of before the stop would wait for answers that were dropped while stopped: a
    // restarted node starts without them (their requests were refused, their promises rejected above).
    this.#state = { ...this.#state, proposals: new Map(), sessions: new Map(), rangeCrawls: new Map() }
  }

  propose(counterparty: Uint8Array, content: ProposalContent): Promise<Transaction> {
    if (!this.#running) return Promise.reject(this.#stopped())
    const requestId = this.#nextId++
    const promise = new Promise<Transaction>((resolve, reject) => this.#proposals.set(requestId, { resolve, reject }))
    this.#enqueue({ type: 'propose', now: this.#now(), requestId, counterparty, content })
    return promise
  }

  checkpoint({ consensusResultHash, round }: { readonly consensusResultHash: Uint8Array; readonly round: number }): Promise<HalfBlock> {
    if (!this.#running) return Promise.reject(this.#stopped())
    const requestId = this.#nextId++
    const promise = new Promise<HalfBlock>((resolve, reject) => this.#checkpoints.set(requestId, { resolve, reject }))
    // A copy: the block is signed when the event's turn comes, and the caller may reuse its buffer before then.
    const hash = consensusResultHash instanceof Uint8Array ? new Uint8Array(consensusResultHash) : consensusResultHash
    this.#enqueue({ type: 'checkpoint', now: this.#now(), requestId, consensusResultHash: hash, round })
    return promise
  }

  async crawl(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<IngestOutcome[]> {
    if (!this.#running) throw this.#stopped()
    const requestId = this.#nextId++
    const promise = new Promise<IngestOutcome[]>((resolve, reject) => this.#crawls.set(requestId, { resolve, reject }))
    // A copy, as for a checkpoint: the request is sent when the event's turn comes.
    const chain = publicKey instanceof Uint8Array ? new Uint8Array(publicKey) : publicKey
    this.#enqueue({ type: 'crawl', now: this.#now(), requestId, peer: toHex(peer), publicKey: chain, from, to })
    return promise
  }

  head(): ChainHead {
    return this.#state.head
  }

  onTransaction(listener: (transaction: Transaction) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  idle(): boolean {
    return this.#queued === 0
  }

  // ---- the event queue ---------------------------------------------------------------------------------

  #enqueue(event: EngineEvent): void {
    this.#queued++
    this.#queue = this.#queue
      .then(() => (this.#running ? this.#dispatch(event) : undefined))
      .catch((error: unknown) => this.#fail(error))
      .finally(() => {
        this.#queued--
      })
  }

  async #dispatch(event: EngineEvent): Promise<void> {
    const result = step(this.#config, this.#state, event)
    this.#state = result.state
    for (const effect of result.effects) await this.#perform(effect)
  }

  /** A failure of the node itself (a store error, say): reported, and the node stops. */
  #fail(error: unknown): void {
    this.#options.onError?.(error)
    void this.stop()
  }

  async #perform(effect: EngineEffect): Promise<void> {
    switch (effect.type) {
      case 'ingest': {
        const outcomes = effect.blocks.length === 0 ? [] : await this.ledger.ingest(effect.blocks)
        let found: { ownAgreement: HalfBlock; ownAgreementTo: string } | undefined
        if (effect.findOwnAgreement !== undefined) {
          const { publicKey, sequenceNumber } = effect.findOwnAgreement
          // An agreement links by position only: say which proposal is stored there, so the engine never hands
          // our agreement to one block out as the answer to another at the same position.
          const [stored, linked] = await Promise.all([this.#store.get(publicKey, sequenceNumber), this.#store.getLinked(publicKey, sequenceNumber)])
          const ownAgreement = linked.find((block) => equalBytes(block.publicKey, this.#keyPair.publicKey))
          if (stored !== undefined && ownAgreement !== undefined) found = { ownAgreement, ownAgreementTo: toHex(blockHash(this.#crypto, stored)) }
        }
        await this.#dispatch({ type: 'ingested', now: this.#now(), purpose: effect.purpose, outcomes, ...found })
        return
      }
      case 'request': {
        const correlation = effect.correlation
        // Not awaited: the answer comes back as a later event, so a slow peer never blocks this node.
        this.#requestPeer(effect.peer, encodeRequest(effect.request, this.#limits))
          .then(
            (bytes) => ({ response: decodeResponse(this.#crypto, bytes, this.#limits) }),
            (error: unknown) => ({ response: undefined, error }),
          )
          .then(({ response, ...failure }) => this.#enqueue({ type: 'response', now: this.#now(), correlation, response, ...failure }))
        return
      }
      case 'reply': {
        const reply = this.#replies.get(effect.replyId)
        this.#replies.delete(effect.replyId)
        reply?.(encodeResponse(effect.response, this.#limits))
        return
      }
      case 'serve-range': {
        const latest = await this.#store.latest(effect.publicKey)
        const range = resolveRange(effect.from, effect.to, latest?.sequenceNumber ?? 0, this.#maxCrawlBlocks)
        const blocks = range === undefined ? [] : await this.#store.range(effect.publicKey, range.from, range.to)
        const reply = this.#replies.get(effect.replyId)
        this.#replies.delete(effect.replyId)
        reply?.(encodeResponse({ type: 'blocks', blocks }, this.#limits))
        return
      }
      case 'broadcast':
        this.#messenger.broadcast(
          encodeMessage(BlocksMessageCodec, { type: 'blocks' as const, blocks: effect.blocks.map((block) => encodeBlock(block, this.#limits)) }),
        )
        return
      case 'decide': {
        let accept = false
        try {
          accept = await this.#shouldSign(effect.proposal, { from: effect.from, validation: effect.validation })
        } catch {
          accept = false // a policy that fails says no
        }
        await this.#dispatch({ type: 'decided', now: this.#now(), id: effect.id, accept: accept === true })
        return
      }
      case 'wake': {
        if (this.#timer !== undefined && this.#timer.at <= effect.at) return
        this.#timer?.handle.cancel()
        const at = effect.at
        this.#timer = {
          at,
          handle: timerAt(this.#clock, at, () => {
            this.#timer = undefined
            this.#enqueue({ type: 'tick', now: this.#now() })
          }),
        }
        return
      }
      case 'settle':
        settle(
          this.#proposals,
          effect.requestId,
          effect.settlement.ok ? { ok: true, value: { proposal: effect.settlement.proposal, agreement: effect.settlement.agreement } } : effect.settlement,
        )
        return
      case 'settle-checkpoint':
        settle(this.#checkpoints, effect.requestId, effect.settlement.ok ? { ok: true, value: effect.settlement.checkpoint } : effect.settlement)
        return
      case 'settle-crawl':
        settle(this.#crawls, effect.requestId, effect.settlement.ok ? { ok: true, value: effect.settlement.outcomes } : effect.settlement)
        return
      case 'delivered':
        for (const listener of this.#listeners) listener({ proposal: effect.proposal, agreement: effect.agreement })
        return
    }
  }

  // ---- the network -------------------------------------------------------------------------------------

  /** A request to a peer, failed after `requestTimeoutMs`: a peer that never answers must not hold a session. */
  #requestPeer(peer: PeerId, bytes: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const timer = timerAt(this.#clock, this.#now() + this.#requestTimeoutMs, () =>
        reject(new TrustChainError(TrustChainErrorCode.PROPOSAL_TIMEOUT, `no answer from the peer within ${this.#requestTimeoutMs} ms`, { peer })),
      )
      this.#messenger.request(peer, bytes).then(
        (answer) => {
          timer.cancel()
          resolve(answer)
        },
        (error: unknown) => {
          timer.cancel()
          reject(error)
        },
      )
    })
  }

  async #onRequest(from: PeerId, bytes: Uint8Array): Promise<Uint8Array> {
    if (!this.#running) return this.#rejectedBytes(TrustChainErrorCode.NODE_STOPPED, 'node stopped')
    let request: Request
    try {
      request = decodeMessage(RequestCodec, bytes)
    } catch (error) {
      return this.#rejectedBytes(TrustChainErrorCode.MALFORMED_MESSAGE, error instanceof Error ? error.message : 'malformed')
    }
    const replyId = this.#nextId++
    const answer = new Promise<Uint8Array>((resolve) => this.#replies.set(replyId, resolve))
    if (request.type === 'crawl') {
      this.#enqueue({ type: 'crawl-request', now: this.#now(), from, replyId, request })
      return answer
    }
    let proposal: HalfBlock
    try {
      proposal = decodeBlock(this.#crypto, request.block, this.#limits)
    } catch (error) {
      this.#replies.delete(replyId)
      const code = error instanceof TrustChainError ? error.code : TrustChainErrorCode.MALFORMED_BLOCK
      return this.#rejectedBytes(code, error instanceof Error ? error.message : 'malformed block')
    }
    this.#enqueue({ type: 'proposal-request', now: this.#now(), from, replyId, proposal })
    return answer
  }

  #onBroadcast(from: PeerId, bytes: Uint8Array): void {
    if (!this.#running) return
    try {
      const message = decodeMessage(BlocksMessageCodec, bytes)
      const blocks = decodeBlocks(this.#crypto, message.blocks, this.#limits)
      if (blocks.length > 0) this.#enqueue({ type: 'broadcast', now: this.#now(), from, blocks })
    } catch {
      // A malformed broadcast is dropped: nobody is waiting for an answer.
    }
  }

  // ---- small helpers -----------------------------------------------------------------------------------

  /** Whole milliseconds, as the blocks the engine stamps with the events' time. */
  #now(): number {
    return blockTime(this.#clock)
  }

  #rejectedBytes(code: string, reason: string): Uint8Array {
    return encodeResponse({ type: 'rejected', code, reasons: [reason] }, this.#limits)
  }

  #stopped(): TrustChainError {
    return new TrustChainError(TrustChainErrorCode.NODE_STOPPED, 'the TrustChain node is stopped')
  }
}

/** Settles and forgets the promise waiting for request `requestId`, if it still waits. */
function settle<T>(
  waiting: Map<number, Waiting<T>>,
  requestId: number,
  outcome: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown },
): void {
  const entry = waiting.get(requestId)
  waiting.delete(requestId)
  if (outcome.ok) entry?.resolve(outcome.value)
  else entry?.reject(outcome.error)
}
