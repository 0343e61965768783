/**
 * The TrustChain node: the thin imperative shell around the pure protocol engine.
 *
 * It owns the engine state and performs the engine's effects: validating and storing through the ledger, sending
 * and answering requests through a `TrustChainMessenger`, calling the `shouldSign` policy, setting the one timer the
 * engine asks for, and settling `propose` and `checkpoint` promises. Everything from the network is decoded here with codecs (sizes
 * first) and bad input is answered with a typed rejection or dropped; it never reaches the engine as bytes and never
 * throws out of a handler. Events are processed one at a time, so the engine's view of the own chain is always the
 * store's.
 */
import { type Crypto, equalBytes, type KeyPair, toHex } from '@constellation/crypto'
import type { ChainHead } from '../block/block-builder.js'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeBlock } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import type { PayloadRegistry } from '../block/payloads.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { type BatchVerifier, createLedger, type IngestOutcome, type Ledger } from '../ledger/ledger.js'
import type { BlockStore } from '../store/block-store.js'
import { readChainHead } from '../store/chain-head.js'
import { positionKey } from '../store/position-key.js'
import { ValidationLevel, ValidationReason, type ValidationResult } from '../validation/validation-result.js'
import { type Clock, systemClock } from './clock.js'
import { crawlRange, crawlTargets, DEFAULT_MAX_CRAWL_CHAINS, DEFAULT_MAX_CRAWL_ROUNDS, heldOf } from './crawl-plan.js'
import {
  DEFAULT_RETRY_POLICY,
  type DecodedResponse,
  type EngineConfig,
  type EngineEffect,
  type EngineEvent,
  type EngineState,
  initialEngineState,
  type OutgoingRequest,
  type ProposalContent,
  type RetryPolicy,
  step,
} from './engine.js'
import {
  BlocksMessageCodec,
  decodeMessage,
  encodeMessage,
  MAX_BLOCKS_PER_MESSAGE,
  type Request,
  RequestCodec,
  resolveRange,
  ResponseCodec,
} from './messages.js'
import type { PeerId, TrustChainMessenger } from './messenger.js'

/** Decides whether to countersign a validated proposal addressed to this node. */
export type SigningPolicy = (proposal: HalfBlock, context: { readonly from: PeerId; readonly validation: ValidationResult }) => boolean | Promise<boolean>

export interface Transaction {
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
}

export interface TrustChainNodeOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly store: BlockStore
  readonly messenger: TrustChainMessenger
  /** Default: `signFullyValid`, countersign only what could be checked in full. */
  readonly shouldSign?: SigningPolicy
  readonly clock?: Clock
  /** Seed of the retry jitter. */
  readonly seed?: number
  readonly registry?: PayloadRegistry
  readonly limits?: BlockLimits
  readonly retry?: Partial<RetryPolicy>
  readonly maxCrawlBlocks?: number
  /** Verifies signatures of large batches (crawls, gossip) elsewhere, e.g. a `VerifyPool`; see `createLedger`. */
  readonly verifier?: BatchVerifier
  /**
   * Refuse blocks stamped more than this far ahead of the node's clock (default 60 s). Without a limit, a proposer
   * could stamp its proposal far in the future and so push our chain's timestamps there (agreements never go back
   * in time); `Number.POSITIVE_INFINITY` turns the check off.
   */
  readonly maxClockSkewMs?: number
  /** A request to a peer that has not been answered after this long counts as failed (default 10 s). */
  readonly requestTimeoutMs?: number
  /** How long a proposal to this node may take to decide before its requests are refused (default: the retry deadline). */
  readonly sessionTimeoutMs?: number
  /** Proposals from one peer being decided at once; more are refused (default 16). */
  readonly maxSessionsPerPeer?: number
  /** Called with failures of the node itself (a store error, say); the node stops after one. */
  readonly onError?: (error: unknown) => void
}

/**
 * The default signing policy: countersign only a proposal whose rules were all checked — its chain known up to it
 * (`valid`, or `partial-next` for a chain's newest block), its balance checked, its links known. Signing a
 * proposal from an unknown stretch of chain would vouch for what nobody checked (an overspend, say).
 */
export const signFullyValid: SigningPolicy = (_proposal, { validation }) =>
  (validation.level === ValidationLevel.VALID || validation.level === ValidationLevel.PARTIAL_NEXT) &&
  !validation.reasons.includes(ValidationReason.BALANCE_UNCHECKED) &&
  !validation.reasons.includes(ValidationReason.LINK_UNKNOWN)

/** How far ahead of a node's clock a block may be stamped, by default. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000

/** How long the node waits for a peer's answer, by default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

export interface TrustChainNode {
  readonly publicKey: Uint8Array
  readonly ledger: Ledger
  /** Reads the own chain head from the store and starts answering the network. */
  start(): Promise<void>
  /** Stops: pending proposals fail with NODE_STOPPED, waiting requests are refused. The store stays open. */
  stop(): Promise<void>
  /** Proposes a transaction; resolves with both halves once the counterparty's agreement is validated and stored. */
  propose(counterparty: Uint8Array, content: ProposalContent): Promise<Transaction>
  /**
   * Appends a checkpoint block committing to a consensus result (its 32-byte hash and its round) to the own chain,
   * in turn with proposals and agreements; resolves with the block once stored (then broadcast).
   */
  checkpoint(options: { readonly consensusResultHash: Uint8Array; readonly round: number }): Promise<HalfBlock>
  /**
   * Fetches blocks of a chain from a peer (`from`/`to` negative = from the end) and ingests them; blocks the ledger
   * refuses for want of others (an agreement to a proposal from a chain never seen here) bring those others from
   * the same peer, for up to `DEFAULT_MAX_CRAWL_ROUNDS` (8) rounds. One outcome per block of the range asked for.
   */
  crawl(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<IngestOutcome[]>
  /** The own chain's head as the engine knows it. */
  head(): ChainHead
  /** Listens to completed transactions this node is part of. */
  onTransaction(listener: (transaction: Transaction) => void): () => void
  /** True when no event is being processed or waiting (used by simulations to detect quiescence). */
  idle(): boolean
}

export function createTrustChainNode(options: TrustChainNodeOptions): TrustChainNode {
  const { crypto, keyPair, store, messenger } = options
  const clock = options.clock ?? systemClock
  const limits = options.limits ?? DEFAULT_BLOCK_LIMITS
  const maxCrawlBlocks = Math.min(options.maxCrawlBlocks ?? 100, MAX_BLOCKS_PER_MESSAGE)
  const shouldSign: SigningPolicy = options.shouldSign ?? signFullyValid
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
  if (!(maxClockSkewMs >= 0)) throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `maxClockSkewMs must be >= 0, got ${maxClockSkewMs}`)
  const ledger = createLedger({
    crypto,
    store,
    limits,
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.verifier === undefined ? {} : { verifier: options.verifier }),
    now: () => clock.now(),
    maxClockSkewMs,
  })
  const config: EngineConfig = {
    crypto,
    keyPair,
    limits,
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    maxCrawlBlocks,
    registry: ledger.registry,
    maxClockSkewMs,
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
    ...(options.maxSessionsPerPeer === undefined ? {} : { maxSessionsPerPeer: options.maxSessionsPerPeer }),
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS

  /** A request to a peer, failed after `requestTimeoutMs`: a peer that never answers must not hold a session. */
  const requestPeer = (peer: PeerId, bytes: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const cancel = clock.setTimer(clock.now() + requestTimeoutMs, () =>
        reject(new TrustChainError(TrustChainErrorCode.PROPOSAL_TIMEOUT, `no answer from the peer within ${requestTimeoutMs} ms`, { peer })),
      )
      messenger.request(peer, bytes).then(
        (answer) => {
          cancel()
          resolve(answer)
        },
        (error: unknown) => {
          cancel()
          reject(error)
        },
      )
    })

  let state: EngineState = initialEngineState({
    publicKey: keyPair.publicKey,
    head: { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0, timestamp: 0 },
    seed: options.seed ?? 1,
  })
  let running = false
  let queue: Promise<void> = Promise.resolve()
  let queued = 0
  let nextId = 1
  let timer: { at: number; cancel: () => void } | undefined
  const replies = new Map<number, (bytes: Uint8Array) => void>()
  const proposals = new Map<number, { resolve: (t: Transaction) => void; reject: (e: unknown) => void }>()
  const checkpoints = new Map<number, { resolve: (block: HalfBlock) => void; reject: (e: unknown) => void }>()
  const listeners = new Set<(transaction: Transaction) => void>()

  const stopped = (): TrustChainError => new TrustChainError(TrustChainErrorCode.NODE_STOPPED, 'the TrustChain node is stopped')

  const encodeResponse = (response: DecodedResponse): Uint8Array => {
    switch (response.type) {
      case 'agreement':
        return encodeMessage(ResponseCodec, {
          type: 'agreement',
          proposal: encodeBlock(response.proposal, limits),
          agreement: encodeBlock(response.agreement, limits),
        })
      case 'rejected':
        return encodeMessage(ResponseCodec, { type: 'rejected', code: response.code, reasons: [...response.reasons] })
      case 'blocks':
        return encodeMessage(ResponseCodec, { type: 'blocks', blocks: response.blocks.map((block) => encodeBlock(block, limits)) })
    }
  }
  const encodeRequest = (request: OutgoingRequest): Uint8Array =>
    request.type === 'proposal'
      ? encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(request.block, limits) })
      : encodeMessage(RequestCodec, { type: 'crawl', publicKey: request.publicKey, from: request.from, to: request.to })

  /** Decodes the blocks a peer sent, dropping the ones that fail (each is someone else's bad input, not ours). */
  const decodeBlocks = (blocks: readonly Uint8Array[]): HalfBlock[] =>
    blocks.flatMap((bytes) => {
      try {
        return [decodeBlock(crypto, bytes, limits)]
      } catch {
        return []
      }
    })

  const decodeResponse = (bytes: Uint8Array): DecodedResponse | undefined => {
    try {
      const response = decodeMessage(ResponseCodec, bytes)
      if (response.type === 'rejected') return response
      if (response.type === 'blocks') return { type: 'blocks', blocks: decodeBlocks(response.blocks) }
      return { type: 'agreement', proposal: decodeBlock(crypto, response.proposal, limits), agreement: decodeBlock(crypto, response.agreement, limits) }
    } catch {
      return undefined
    }
  }

  const fail = (error: unknown): void => {
    options.onError?.(error)
    void stop()
  }

  const enqueue = (event: EngineEvent): void => {
    queued++
    queue = queue
      .then(() => (running ? dispatch(event) : undefined))
      .catch(fail)
      .finally(() => {
        queued--
      })
  }

  const dispatch = async (event: EngineEvent): Promise<void> => {
    const result = step(config, state, event)
    state = result.state
    for (const effect of result.effects) await perform(effect)
  }

  const perform = async (effect: EngineEffect): Promise<void> => {
    switch (effect.type) {
      case 'ingest': {
        const outcomes = effect.blocks.length === 0 ? [] : await ledger.ingest(effect.blocks)
        let found: { ownAgreement: HalfBlock; ownAgreementTo: string } | undefined
        if (effect.findOwnAgreement !== undefined) {
          const { publicKey, sequenceNumber } = effect.findOwnAgreement
          // An agreement links by position only: say which proposal is stored there, so the engine never hands
          // our agreement to one block out as the answer to another at the same position.
          const [stored, linked] = await Promise.all([store.get(publicKey, sequenceNumber), store.getLinked(publicKey, sequenceNumber)])
          const ownAgreement = linked.find((block) => equalBytes(block.publicKey, keyPair.publicKey))
          if (stored !== undefined && ownAgreement !== undefined) found = { ownAgreement, ownAgreementTo: toHex(blockHash(crypto, stored)) }
        }
        await dispatch({ type: 'ingested', now: clock.now(), purpose: effect.purpose, outcomes, ...found })
        return
      }
      case 'request': {
        const correlation = effect.correlation
        // Not awaited: the answer comes back as a later event, so a slow peer never blocks this node.
        requestPeer(effect.peer, encodeRequest(effect.request))
          .then(
            (bytes) => decodeResponse(bytes),
            () => undefined,
          )
          .then((response) => enqueue({ type: 'response', now: clock.now(), correlation, response }))
        return
      }
      case 'reply': {
        const reply = replies.get(effect.replyId)
        replies.delete(effect.replyId)
        reply?.(encodeResponse(effect.response))
        return
      }
      case 'serve-range': {
        const latest = await store.latest(effect.publicKey)
        const range = resolveRange(effect.from, effect.to, latest?.sequenceNumber ?? 0, maxCrawlBlocks)
        const blocks = range === undefined ? [] : await store.range(effect.publicKey, range.from, range.to)
        const reply = replies.get(effect.replyId)
        replies.delete(effect.replyId)
        reply?.(encodeResponse({ type: 'blocks', blocks }))
        return
      }
      case 'broadcast':
        messenger.broadcast(encodeMessage(BlocksMessageCodec, { type: 'blocks' as const, blocks: effect.blocks.map((block) => encodeBlock(block, limits)) }))
        return
      case 'decide': {
        let accept = false
        try {
          accept = await shouldSign(effect.proposal, { from: effect.from, validation: effect.validation })
        } catch {
          accept = false // a policy that fails says no
        }
        await dispatch({ type: 'decided', now: clock.now(), id: effect.id, accept: accept === true })
        return
      }
      case 'wake': {
        if (timer !== undefined && timer.at <= effect.at) return
        timer?.cancel()
        const at = effect.at
        timer = {
          at,
          cancel: clock.setTimer(at, () => {
            timer = undefined
            enqueue({ type: 'tick', now: clock.now() })
          }),
        }
        return
      }
      case 'settle': {
        const waiting = proposals.get(effect.requestId)
        proposals.delete(effect.requestId)
        if (effect.settlement.ok) waiting?.resolve({ proposal: effect.settlement.proposal, agreement: effect.settlement.agreement })
        else waiting?.reject(effect.settlement.error)
        return
      }
      case 'settle-checkpoint': {
        const waiting = checkpoints.get(effect.requestId)
        checkpoints.delete(effect.requestId)
        if (effect.settlement.ok) waiting?.resolve(effect.settlement.checkpoint)
        else waiting?.reject(effect.settlement.error)
        return
      }
      case 'delivered':
        for (const listener of listeners) listener({ proposal: effect.proposal, agreement: effect.agreement })
        return
    }
  }

  const rejectedBytes = (code: string, reason: string): Uint8Array => encodeResponse({ type: 'rejected', code, reasons: [reason] })

  messenger.handle(async (from, bytes) => {
    if (!running) return rejectedBytes(TrustChainErrorCode.NODE_STOPPED, 'node stopped')
    let request: Request
    try {
      request = decodeMessage(RequestCodec, bytes)
    } catch (error) {
      return rejectedBytes(TrustChainErrorCode.MALFORMED_MESSAGE, error instanceof Error ? error.message : 'malformed')
    }
    const replyId = nextId++
    const answer = new Promise<Uint8Array>((resolve) => replies.set(replyId, resolve))
    if (request.type === 'crawl') {
      enqueue({ type: 'crawl-request', now: clock.now(), from, replyId, request })
      return answer
    }
    let proposal: HalfBlock
    try {
      proposal = decodeBlock(crypto, request.block, limits)
    } catch (error) {
      replies.delete(replyId)
      const code = error instanceof TrustChainError ? error.code : TrustChainErrorCode.MALFORMED_BLOCK
      return rejectedBytes(code, error instanceof Error ? error.message : 'malformed block')
    }
    enqueue({ type: 'proposal-request', now: clock.now(), from, replyId, proposal })
    return answer
  })

  messenger.onBroadcast((from, bytes) => {
    if (!running) return
    try {
      const message = decodeMessage(BlocksMessageCodec, bytes)
      const blocks = decodeBlocks(message.blocks)
      if (blocks.length > 0) enqueue({ type: 'broadcast', now: clock.now(), from, blocks })
    } catch {
      // A malformed broadcast is dropped: nobody is waiting for an answer.
    }
  })

  const stop = async (): Promise<void> => {
    if (!running) return
    running = false
    timer?.cancel()
    timer = undefined
    for (const reply of replies.values()) reply(rejectedBytes(TrustChainErrorCode.NODE_STOPPED, 'node stopped'))
    replies.clear()
    for (const waiting of [...proposals.values(), ...checkpoints.values()]) waiting.reject(stopped())
    proposals.clear()
    checkpoints.clear()
    await queue
    // Sessions and proposals of before the stop would wait for answers that were dropped while stopped: a restarted
    // node starts without them (their requests were refused, their promises rejected above).
    state = { ...state, proposals: new Map(), sessions: new Map() }
  }

  return {
    publicKey: keyPair.publicKey,
    ledger,
    async start() {
      if (running) return
      state = { ...state, head: await readChainHead(crypto, store, keyPair.publicKey), proposals: new Map(), sessions: new Map() }
      running = true
    },
    stop,
    propose(counterparty, content) {
      if (!running) return Promise.reject(stopped())
      const requestId = nextId++
      const promise = new Promise<Transaction>((resolve, reject) => proposals.set(requestId, { resolve, reject }))
      enqueue({ type: 'propose', now: clock.now(), requestId, counterparty, content })
      return promise
    },
    checkpoint({ consensusResultHash, round }) {
      if (!running) return Promise.reject(stopped())
      const requestId = nextId++
      const promise = new Promise<HalfBlock>((resolve, reject) => checkpoints.set(requestId, { resolve, reject }))
      // A copy: the block is signed when the event's turn comes, and the caller may reuse its buffer before then.
      const hash = consensusResultHash instanceof Uint8Array ? new Uint8Array(consensusResultHash) : consensusResultHash
      enqueue({ type: 'checkpoint', now: clock.now(), requestId, consensusResultHash: hash, round })
      return promise
    },
    async crawl(peer, publicKey, from, to) {
      if (!running) throw stopped()
      const fetchRange = async (chain: Uint8Array, range: { readonly from: number; readonly to: number }): Promise<readonly HalfBlock[]> => {
        const response = decodeResponse(await requestPeer(toHex(peer), encodeRequest({ type: 'crawl', publicKey: chain, ...range })))
        if (response === undefined || response.type !== 'blocks') {
          throw new TrustChainError(TrustChainErrorCode.MALFORMED_MESSAGE, 'the peer did not answer the crawl with blocks')
        }
        return response.blocks
      }
      // The outcome of each block asked for, by position, updated when a later round lets a refused block in.
      const asked = await ledger.ingest(await fetchRange(publicKey, { from, to }))
      const slotOf = new Map(
        asked.flatMap((outcome, slot) =>
          outcome.block === undefined ? [] : [[positionKey(outcome.block.publicKey, outcome.block.sequenceNumber), slot] as const],
        ),
      )
      // A fragment often holds an agreement to a proposal from a chain this node has never seen: the peer holds that
      // proposal (it checked it before signing), so it is asked for what the ledger names missing, as the engine
      // does before it signs, until every block is in or the rounds run out.
      let outcomes = asked
      for (let round = 0; round < (config.maxCrawlRounds ?? DEFAULT_MAX_CRAWL_ROUNDS) && running; round++) {
        const targets = crawlTargets(config.maxCrawlChains ?? DEFAULT_MAX_CRAWL_CHAINS, outcomes)
        if (targets.length === 0) break
        const fetched = await Promise.all(targets.map((missing) => fetchRange(missing.publicKey, crawlRange(missing, maxCrawlBlocks))))
        outcomes = await ledger.ingest([...fetched.flat(), ...heldOf(outcomes)])
        for (const outcome of outcomes) {
          const slot = outcome.block === undefined ? undefined : slotOf.get(positionKey(outcome.block.publicKey, outcome.block.sequenceNumber))
          if (slot !== undefined) asked[slot] = outcome
        }
      }
      return asked
    },
    head: () => state.head,
    onTransaction(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    idle: () => queued === 0,
  }
}
