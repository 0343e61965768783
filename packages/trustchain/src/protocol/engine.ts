/**
 * The TrustChain protocol engine: a pure state machine, `step(config, state, event) -> { state, effects }`.
 *
 * It never touches the clock, randomness, the store or the network: time arrives in events, randomness is a
 * seeded generator held in the state, and everything else is an effect for the shell (`TrustChainNode`) to perform,
 * whose outcome comes back as a later event. So the same engine runs under a real network and under a seeded
 * in-memory one, and a run replays exactly.
 *
 * Initiator: `propose` appends a proposal to the own chain (persisted before it is sent), requests an agreement
 *   from the counterparty and retries with exponential backoff and jitter until an agreement, a rejection or the
 *   deadline. An agreement from any path (response or broadcast) completes the proposal once.
 * Counterparty: a proposal request is validated (ingested); if blocks before it are missing, the proposer's chain
 *   is crawled once; then the `shouldSign` policy decides; on yes the agreement is appended, persisted, returned to
 *   every copy of the request, and both halves are broadcast. Duplicates of a proposal in progress join its session;
 *   duplicates of an answered one get the stored agreement again, so a proposal is never countersigned twice.
 * Checkpoint: `checkpoint` appends a checkpoint block (a consensus result's hash and round) at the head, like a
 *   proposal: one event at a time, so it never shares a sequence number with a proposal or an agreement; it is
 *   broadcast once the ledger has stored it.
 */
import { type CborValue, type Crypto, equalBytes, HASH_LENGTH, type KeyPair, PUBLIC_KEY_LENGTH, toHex } from '@constellation/crypto'
import { advanceHead, type ChainHead, createAgreement, createCheckpoint, createProposal, transferPayload } from '../block/block-builder.js'
import { blockHash, type BlockLimits, DEFAULT_BLOCK_LIMITS } from '../block/block-encoding.js'
import { type HalfBlock, isAgreement, isProposal } from '../block/half-block.js'
import { PayloadRegistry, transferOf } from '../block/payloads.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import type { IngestOutcome } from '../ledger/ledger.js'
import { ValidationLevel, ValidationReason, type ValidationResult } from '../validation/validation-result.js'
import { crawlRange, crawlTargets, DEFAULT_MAX_CRAWL_CHAINS, DEFAULT_MAX_CRAWL_ROUNDS, heldOf, type MissingRun, missingOf } from './crawl-plan.js'
import type { PeerId } from './messenger.js'
import type { Request } from './messages.js'

export interface RetryPolicy {
  /** Delay before the first retry. */
  readonly initialDelayMs: number
  /** Ceiling of the exponential backoff. */
  readonly maxDelayMs: number
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter], so peers do not retry in lockstep. */
  readonly jitter: number
  /** Time from proposing to giving up. */
  readonly deadlineMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ initialDelayMs: 500, maxDelayMs: 8_000, jitter: 0.25, deadlineMs: 30_000 })

export interface EngineConfig {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly limits?: BlockLimits
  readonly retry: RetryPolicy
  /** How far back a counterparty crawls a proposer's chain before deciding. */
  readonly maxCrawlBlocks: number
  /**
   * How many crawl rounds one incoming proposal may cause while the ledger names missing dependencies (the
   * proposer's earlier blocks, the proposals its agreements answer); default 8. A round asks for every chain the
   * ledger named at once, up to `maxCrawlChains` of them.
   */
  readonly maxCrawlRounds?: number
  /** Chains one crawl round asks for at most (one request each, in parallel); default 8. */
  readonly maxCrawlChains?: number
  /** Payload kinds own proposals are checked against before they are signed (default: transfers only). */
  readonly registry?: PayloadRegistry
  /**
   * Proposals stamped more than this far ahead of the event's time are refused, never countersigned: our agreement
   * takes the proposal's timestamp when it is later than ours, and every later block of our chain must follow it.
   */
  readonly maxClockSkewMs?: number
  /** How long a proposal to us may take to decide (crawls, policy) before its requests are refused; default `retry.deadlineMs`. */
  readonly sessionTimeoutMs?: number
  /** Proposals from one peer being decided at once; more are refused at once (default 16). */
  readonly maxSessionsPerPeer?: number
}

/** What a proposal carries: a value transfer of `amount` (balance filled in), or any registered payload. */
export type ProposalContent = { readonly transfer: number } | { readonly payload: CborValue }

interface PendingProposal {
  readonly requestId: number
  readonly proposal: HalfBlock
  readonly counterparty: PeerId
  readonly attempts: number
  readonly nextAttemptAt: number
  readonly deadline: number
  /** Crawl rounds made to check the counterparty's agreement (bounded by `maxCrawlRounds`). */
  readonly crawls: number
  /** An agreement (and what came with it) the ledger could not check yet, tried again after the crawl. */
  readonly held: readonly HalfBlock[]
  /** The crawl round under way, if any. */
  readonly round?: CrawlRound
}

/** One round of crawling: a request per chain named missing, all sent at once, ingested together once all are answered. */
interface CrawlRound {
  /** Answers still to come. */
  readonly awaiting: number
  /** Blocks the answers so far brought. */
  readonly fetched: readonly HalfBlock[]
}

interface SigningSession {
  readonly proposal: HalfBlock
  readonly from: PeerId
  /** Every copy of the request waiting for the answer. */
  readonly replyIds: readonly number[]
  /** Crawl rounds made for this proposal so far (bounded by `maxCrawlRounds`). */
  readonly crawls: number
  /** Crawled blocks the ledger refused for a missing dependency, tried again once that dependency is fetched. */
  readonly held: readonly HalfBlock[]
  /** The crawl round under way, if any. */
  readonly round?: CrawlRound
  /** Our agreement, signed and being stored; answered once the ledger has stored it. */
  readonly agreement?: HalfBlock
  /** When the session gives up: a proposer that never answers our crawl must not hold it (and its replies) forever. */
  readonly deadline: number
}

export interface EngineState {
  readonly self: PeerId
  readonly head: ChainHead
  /** Our proposals awaiting an agreement, by proposal hash (hex). */
  readonly proposals: ReadonlyMap<string, PendingProposal>
  /** Proposals to us being decided, by proposal hash (hex). */
  readonly sessions: ReadonlyMap<string, SigningSession>
  /** State of the seeded generator (mulberry32). */
  readonly random: number
}

export function initialEngineState(options: { publicKey: Uint8Array; head: ChainHead; seed: number }): EngineState {
  return { self: toHex(options.publicKey), head: options.head, proposals: new Map(), sessions: new Map(), random: options.seed >>> 0 }
}

/** Where the outcome of an effect goes back to. */
export type IngestPurpose =
  /**
   * A block of our own chain; `previousHead` is the head before it, restored if the ledger refuses the block. The
   * block completes our proposal `proposal`, answers the session `session`, or settles the checkpoint request
   * `checkpoint` once stored.
   */
  | { readonly kind: 'own'; readonly previousHead: ChainHead; readonly proposal?: string; readonly session?: string; readonly checkpoint?: number }
  | { readonly kind: 'gossip' }
  | { readonly kind: 'incoming-proposal'; readonly id: string }
  | { readonly kind: 'crawled'; readonly id: string }
  | { readonly kind: 'agreement'; readonly id: string }

export type Correlation =
  | { readonly kind: 'proposal'; readonly id: string }
  /** A crawl of round `round` (1, 2, ...) for an incoming proposal's session. */
  | { readonly kind: 'crawl'; readonly id: string; readonly round: number }
  /** A crawl of round `round` for the dependencies of an agreement to our proposal. */
  | { readonly kind: 'agreement-crawl'; readonly id: string; readonly round: number }

export type Settlement =
  | { readonly ok: true; readonly proposal: HalfBlock; readonly agreement: HalfBlock }
  | { readonly ok: false; readonly error: TrustChainError }

/** How a checkpoint request ends: its block, stored, or why not. */
export type CheckpointSettlement = { readonly ok: true; readonly checkpoint: HalfBlock } | { readonly ok: false; readonly error: TrustChainError }

export type EngineEvent =
  | { readonly type: 'propose'; readonly now: number; readonly requestId: number; readonly counterparty: Uint8Array; readonly content: ProposalContent }
  /** Append a checkpoint committing to the consensus result `consensusResultHash` of `round`. */
  | { readonly type: 'checkpoint'; readonly now: number; readonly requestId: number; readonly consensusResultHash: Uint8Array; readonly round: number }
  | { readonly type: 'tick'; readonly now: number }
  /** An incoming request, already decoded; blocks in it are decoded by the shell (bad ones never get here). */
  | { readonly type: 'proposal-request'; readonly now: number; readonly from: PeerId; readonly replyId: number; readonly proposal: HalfBlock }
  | {
      readonly type: 'crawl-request'
      readonly now: number
      readonly from: PeerId
      readonly replyId: number
      readonly request: Extract<Request, { type: 'crawl' }>
    }
  | { readonly type: 'broadcast'; readonly now: number; readonly from: PeerId; readonly blocks: readonly HalfBlock[] }
  /** The response to a request effect; `response` undefined when the request failed or was malformed. */
  | { readonly type: 'response'; readonly now: number; readonly correlation: Correlation; readonly response: DecodedResponse | undefined }
  /**
   * The outcome of an ingest effect. With `findOwnAgreement`: `ownAgreement` is this node's stored agreement at that
   * proposal's position and `ownAgreementTo` the hash (hex) of the proposal stored there, which it answers.
   */
  | {
      readonly type: 'ingested'
      readonly now: number
      readonly purpose: IngestPurpose
      readonly outcomes: readonly IngestOutcome[]
      readonly ownAgreement?: HalfBlock
      readonly ownAgreementTo?: string
    }
  | { readonly type: 'decided'; readonly now: number; readonly id: string; readonly accept: boolean }

/** A response with its blocks decoded. */
export type DecodedResponse =
  | { readonly type: 'agreement'; readonly proposal: HalfBlock; readonly agreement: HalfBlock }
  | { readonly type: 'rejected'; readonly code: string; readonly reasons: readonly string[] }
  | { readonly type: 'blocks'; readonly blocks: readonly HalfBlock[] }

/** A request to send, blocks still decoded (the shell encodes them). */
export type OutgoingRequest =
  | { readonly type: 'proposal'; readonly block: HalfBlock }
  | { readonly type: 'crawl'; readonly publicKey: Uint8Array; readonly from: number; readonly to: number }

export type EngineEffect =
  /** Validate and store; `findOwnAgreement` also asks for this node's stored agreement to that proposal. */
  | { readonly type: 'ingest'; readonly blocks: readonly HalfBlock[]; readonly purpose: IngestPurpose; readonly findOwnAgreement?: HalfBlock }
  | { readonly type: 'request'; readonly peer: PeerId; readonly request: OutgoingRequest; readonly correlation: Correlation }
  | { readonly type: 'reply'; readonly replyId: number; readonly response: DecodedResponse }
  | { readonly type: 'serve-range'; readonly replyId: number; readonly publicKey: Uint8Array; readonly from: number; readonly to: number }
  | { readonly type: 'broadcast'; readonly blocks: readonly HalfBlock[] }
  | { readonly type: 'decide'; readonly id: string; readonly from: PeerId; readonly proposal: HalfBlock; readonly validation: ValidationResult }
  | { readonly type: 'wake'; readonly at: number }
  | { readonly type: 'settle'; readonly requestId: number; readonly settlement: Settlement }
  | { readonly type: 'settle-checkpoint'; readonly requestId: number; readonly settlement: CheckpointSettlement }
  | { readonly type: 'delivered'; readonly proposal: HalfBlock; readonly agreement: HalfBlock }

export interface StepResult {
  readonly state: EngineState
  readonly effects: readonly EngineEffect[]
}

/** mulberry32: a tiny seeded generator, enough for jitter. Returns [value in [0, 1), next state]. */
function nextRandom(state: number): [number, number] {
  const next = (state + 0x6d2b79f5) >>> 0
  let z = next
  z = Math.imul(z ^ (z >>> 15), z | 1)
  z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
  return [((z ^ (z >>> 14)) >>> 0) / 4294967296, next]
}

function backoff(config: EngineConfig, attempts: number, random: number): number {
  const base = Math.min(config.retry.maxDelayMs, config.retry.initialDelayMs * 2 ** (attempts - 1))
  return Math.max(1, Math.round(base * (1 - config.retry.jitter + 2 * config.retry.jitter * random)))
}

const DEFAULT_REGISTRY = new PayloadRegistry()
const DEFAULT_MAX_SESSIONS_PER_PEER = 16

/** The requests of one crawl round to `peer`, each ending at the highest block needed, at most `maxCrawlBlocks` long. */
function crawlRequests(
  config: EngineConfig,
  peer: PeerId,
  targets: readonly MissingRun[],
  correlation: Extract<Correlation, { kind: 'crawl' | 'agreement-crawl' }>,
): EngineEffect[] {
  return targets.map((missing) => ({
    type: 'request',
    peer,
    request: { type: 'crawl', publicKey: missing.publicKey, ...crawlRange(missing, config.maxCrawlBlocks) },
    correlation,
  }))
}

const idOf = (config: EngineConfig, block: HalfBlock): string => toHex(blockHash(config.crypto, block))

function withMap<K, V>(map: ReadonlyMap<K, V>, key: K, value: V | undefined): ReadonlyMap<K, V> {
  const copy = new Map(map)
  if (value === undefined) copy.delete(key)
  else copy.set(key, value)
  return copy
}

const rejected = (code: string, reasons: readonly string[]): DecodedResponse => ({ type: 'rejected', code, reasons: [...reasons] })

/** The earliest moment a pending proposal needs attention, as a wake effect. */
function wakeEffects(state: EngineState): EngineEffect[] {
  let at = Number.POSITIVE_INFINITY
  for (const pending of state.proposals.values()) at = Math.min(at, pending.nextAttemptAt, pending.deadline)
  for (const session of state.sessions.values()) at = Math.min(at, session.deadline)
  return Number.isFinite(at) ? [{ type: 'wake', at }] : []
}

function propose(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'propose' }>): StepResult {
  const fail = (error: TrustChainError): StepResult => ({
    state,
    effects: [{ type: 'settle', requestId: event.requestId, settlement: { ok: false, error } }],
  })
  if (!(event.counterparty instanceof Uint8Array) || event.counterparty.length !== PUBLIC_KEY_LENGTH) {
    return fail(new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `the counterparty must be a ${PUBLIC_KEY_LENGTH}-byte public key`))
  }
  const counterparty = toHex(event.counterparty)
  if (counterparty === state.self) return fail(new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'a node cannot transact with itself'))
  let proposal: HalfBlock
  try {
    const payload = 'transfer' in event.content ? transferPayload(state.head, event.content.transfer) : event.content.payload
    // Our own ledger would refuse a block whose payload does not fit its kind; refuse it here, before signing.
    const check = (config.registry ?? DEFAULT_REGISTRY).check('tx', payload)
    if (!check.ok) {
      return fail(
        new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `the payload does not fit its kind: ${check.errors.join('; ')}`, { errors: check.errors }),
      )
    }
    // A transfer written by hand must state the balance our chain will have after it, as `{ transfer }` would.
    const transfer = transferOf('tx', payload)
    if (transfer !== undefined) {
      const expected = transferPayload(state.head, transfer.amount)
      if (expected.balance !== transfer.balance) {
        return fail(
          new TrustChainError(
            TrustChainErrorCode.INVALID_INPUT,
            `a transfer of ${transfer.amount} leaves a balance of ${expected.balance}, not ${transfer.balance}`,
            {
              expected: expected.balance,
            },
          ),
        )
      }
    }
    proposal = createProposal({ crypto: config.crypto, keyPair: config.keyPair, limits: config.limits ?? DEFAULT_BLOCK_LIMITS }, state.head, {
      counterparty: event.counterparty,
      payload,
      timestamp: event.now,
    })
  } catch (error) {
    if (error instanceof TrustChainError) return fail(error)
    throw error
  }
  const id = idOf(config, proposal)
  const [random, nextState] = nextRandom(state.random)
  const pending: PendingProposal = {
    requestId: event.requestId,
    proposal,
    counterparty,
    attempts: 1,
    nextAttemptAt: event.now + backoff(config, 1, random),
    deadline: event.now + config.retry.deadlineMs,
    crawls: 0,
    held: [],
  }
  const next: EngineState = {
    ...state,
    head: advanceHead(config.crypto, state.head, proposal),
    proposals: withMap(state.proposals, id, pending),
    random: nextState,
  }
  return {
    state: next,
    effects: [
      { type: 'ingest', blocks: [proposal], purpose: { kind: 'own', previousHead: state.head, proposal: id } },
      { type: 'request', peer: counterparty, request: { type: 'proposal', block: proposal }, correlation: { kind: 'proposal', id } },
      ...wakeEffects(next),
    ],
  }
}

function checkpoint(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'checkpoint' }>): StepResult {
  const fail = (message: string): StepResult => ({
    state,
    effects: [
      {
        type: 'settle-checkpoint',
        requestId: event.requestId,
        settlement: { ok: false, error: new TrustChainError(TrustChainErrorCode.INVALID_INPUT, message) },
      },
    ],
  })
  if (!(event.consensusResultHash instanceof Uint8Array) || event.consensusResultHash.length !== HASH_LENGTH) {
    return fail(`the consensus result hash must be ${HASH_LENGTH} bytes`)
  }
  if (!Number.isSafeInteger(event.round) || event.round < 0) return fail(`the round must be a non-negative safe integer, got ${event.round}`)
  const block = createCheckpoint({ crypto: config.crypto, keyPair: config.keyPair, limits: config.limits ?? DEFAULT_BLOCK_LIMITS }, state.head, {
    consensusResultHash: event.consensusResultHash,
    round: event.round,
    timestamp: event.now,
  })
  // Persisted before anyone hears of it, as every own block; settled and broadcast once stored (see onOwnIngested).
  return {
    state: { ...state, head: advanceHead(config.crypto, state.head, block) },
    effects: [{ type: 'ingest', blocks: [block], purpose: { kind: 'own', previousHead: state.head, checkpoint: event.requestId } }],
  }
}

function tick(config: EngineConfig, state: EngineState, now: number): StepResult {
  const effects: EngineEffect[] = []
  let proposals = state.proposals
  let random = state.random
  for (const [id, pending] of state.proposals) {
    if (now >= pending.deadline) {
      proposals = withMap(proposals, id, undefined)
      const error = new TrustChainError(TrustChainErrorCode.PROPOSAL_TIMEOUT, `no agreement within ${config.retry.deadlineMs} ms`, {
        counterparty: pending.counterparty,
        attempts: pending.attempts,
      })
      effects.push({ type: 'settle', requestId: pending.requestId, settlement: { ok: false, error } })
    } else if (now >= pending.nextAttemptAt) {
      const [r, nextState] = nextRandom(random)
      random = nextState
      const attempts = pending.attempts + 1
      proposals = withMap(proposals, id, { ...pending, attempts, nextAttemptAt: now + backoff(config, attempts, r) })
      effects.push({
        type: 'request',
        peer: pending.counterparty,
        request: { type: 'proposal', block: pending.proposal },
        correlation: { kind: 'proposal', id },
      })
    }
  }
  let next: EngineState = { ...state, proposals, random }
  for (const [id, session] of state.sessions) {
    if (now < session.deadline) continue
    const ended = endSession(
      next,
      id,
      rejected(TrustChainErrorCode.PROPOSAL_TIMEOUT, [`no decision within ${config.sessionTimeoutMs ?? config.retry.deadlineMs} ms`]),
    )
    next = ended.state
    effects.push(...ended.effects)
  }
  return { state: next, effects: [...effects, ...wakeEffects(next)] }
}

/** Completes our proposal `id` with `agreement`, once. */
function complete(state: EngineState, id: string, agreement: HalfBlock): StepResult {
  const pending = state.proposals.get(id)
  if (pending === undefined) return { state, effects: [] }
  return {
    state: { ...state, proposals: withMap(state.proposals, id, undefined) },
    effects: [
      { type: 'settle', requestId: pending.requestId, settlement: { ok: true, proposal: pending.proposal, agreement } },
      { type: 'delivered', proposal: pending.proposal, agreement },
      { type: 'broadcast', blocks: [pending.proposal, agreement] },
    ],
  }
}

/** True when `agreement` is this position's agreement to `proposal`. */
function answersProposal(proposal: HalfBlock, agreement: HalfBlock): boolean {
  return (
    isAgreement(agreement) &&
    toHex(agreement.publicKey) === toHex(proposal.linkPublicKey) &&
    agreement.linkSequenceNumber === proposal.sequenceNumber &&
    toHex(agreement.linkPublicKey) === toHex(proposal.publicKey)
  )
}

/** True when `agreement` answers our pending proposal. */
function answers(pending: PendingProposal, agreement: HalfBlock): boolean {
  return (
    isAgreement(agreement) &&
    toHex(agreement.publicKey) === pending.counterparty &&
    agreement.linkSequenceNumber === pending.proposal.sequenceNumber &&
    toHex(agreement.linkPublicKey) === toHex(pending.proposal.publicKey)
  )
}

function onProposalRequest(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'proposal-request' }>): StepResult {
  const { proposal } = event
  if (!isProposal(proposal) || toHex(proposal.linkPublicKey) !== state.self) {
    return {
      state,
      effects: [{ type: 'reply', replyId: event.replyId, response: rejected(TrustChainErrorCode.PROPOSAL_REJECTED, ['not a proposal to this node']) }],
    }
  }
  if (config.maxClockSkewMs !== undefined && proposal.timestamp > event.now + config.maxClockSkewMs) {
    return {
      state,
      effects: [{ type: 'reply', replyId: event.replyId, response: rejected(TrustChainErrorCode.INVALID_BLOCK, [ValidationReason.TIMESTAMP_IN_FUTURE]) }],
    }
  }
  const id = idOf(config, proposal)
  const session = state.sessions.get(id)
  if (session !== undefined) {
    return { state: { ...state, sessions: withMap(state.sessions, id, { ...session, replyIds: [...session.replyIds, event.replyId] }) }, effects: [] }
  }
  let open = 0
  for (const other of state.sessions.values()) if (other.from === event.from) open++
  if (open >= (config.maxSessionsPerPeer ?? DEFAULT_MAX_SESSIONS_PER_PEER)) {
    return {
      state,
      effects: [
        { type: 'reply', replyId: event.replyId, response: rejected(TrustChainErrorCode.PROPOSAL_REJECTED, ['too many open proposals from this peer']) },
      ],
    }
  }
  const deadline = event.now + (config.sessionTimeoutMs ?? config.retry.deadlineMs)
  const next: EngineState = {
    ...state,
    sessions: withMap(state.sessions, id, { proposal, from: event.from, replyIds: [event.replyId], crawls: 0, held: [], deadline }),
  }
  return {
    state: next,
    effects: [{ type: 'ingest', blocks: [proposal], purpose: { kind: 'incoming-proposal', id }, findOwnAgreement: proposal }, ...wakeEffects(next)],
  }
}

function endSession(state: EngineState, id: string, response: DecodedResponse): StepResult {
  const session = state.sessions.get(id)
  if (session === undefined) return { state, effects: [] }
  return {
    state: { ...state, sessions: withMap(state.sessions, id, undefined) },
    effects: session.replyIds.map((replyId): EngineEffect => ({ type: 'reply', replyId, response })),
  }
}

function onIngested(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'ingested' }>): StepResult {
  const { purpose } = event
  // Any agreement that reaches the store, by whatever path, completes our proposal it answers.
  let result: StepResult = { state, effects: [] }
  for (const outcome of event.outcomes) {
    if (outcome.status === 'rejected' || !isAgreement(outcome.block)) continue
    for (const [id, pending] of result.state.proposals) {
      if (answers(pending, outcome.block)) {
        const done = complete(result.state, id, outcome.block)
        result = { state: done.state, effects: [...result.effects, ...done.effects] }
      }
    }
  }
  const merge = (next: StepResult): StepResult => ({ state: next.state, effects: [...result.effects, ...next.effects] })
  if (purpose.kind === 'agreement') {
    // An agreement the ledger could not check yet (the counterparty's earlier blocks are unknown here): fetch what
    // it names from the counterparty, a bounded number of times, then try again.
    const pending = result.state.proposals.get(purpose.id)
    const targets = crawlTargets(config.maxCrawlChains ?? DEFAULT_MAX_CRAWL_CHAINS, event.outcomes)
    if (pending === undefined || targets.length === 0 || pending.crawls >= (config.maxCrawlRounds ?? DEFAULT_MAX_CRAWL_ROUNDS)) return result
    const round = pending.crawls + 1
    return {
      state: {
        ...result.state,
        proposals: withMap(result.state.proposals, purpose.id, {
          ...pending,
          crawls: round,
          held: heldOf(event.outcomes),
          round: { awaiting: targets.length, fetched: [] },
        }),
      },
      effects: [...result.effects, ...crawlRequests(config, pending.counterparty, targets, { kind: 'agreement-crawl', id: purpose.id, round })],
    }
  }
  if (purpose.kind === 'own') return merge(onOwnIngested(config, result.state, purpose, event.outcomes))
  if (purpose.kind !== 'incoming-proposal' && purpose.kind !== 'crawled') return result
  const session = result.state.sessions.get(purpose.id)
  if (session === undefined) return result
  const crawlFor = (targets: readonly MissingRun[], held: readonly HalfBlock[]): StepResult => {
    const round = session.crawls + 1
    return {
      state: {
        ...result.state,
        sessions: withMap(result.state.sessions, purpose.id, { ...session, crawls: round, held, round: { awaiting: targets.length, fetched: [] } }),
      },
      effects: crawlRequests(config, session.from, targets, { kind: 'crawl', id: purpose.id, round }),
    }
  }
  const maxRounds = config.maxCrawlRounds ?? DEFAULT_MAX_CRAWL_ROUNDS
  if (purpose.kind === 'crawled') {
    // Blocks the ledger could not check yet wait for their dependencies, all fetched in the next round. (The ledger
    // already retried them after each block it stored, so trying them again before that round brings nothing.)
    // When no round is left or needed, the proposal is validated again with what the crawls brought.
    const targets = crawlTargets(config.maxCrawlChains ?? DEFAULT_MAX_CRAWL_CHAINS, event.outcomes)
    if (targets.length > 0 && session.crawls < maxRounds) return merge(crawlFor(targets, heldOf(event.outcomes)))
    return merge({
      state: { ...result.state, sessions: withMap(result.state.sessions, purpose.id, { ...session, held: [] }) },
      effects: [{ type: 'ingest', blocks: [session.proposal], purpose: { kind: 'incoming-proposal', id: purpose.id }, findOwnAgreement: session.proposal }],
    })
  }
  const outcome = event.outcomes[0]
  const missing = outcome === undefined ? undefined : missingOf(outcome)
  if (missing !== undefined && session.crawls < maxRounds) return merge(crawlFor([missing], []))
  // The outcome comes first: a fork of a proposal we answered is refused (double sign), never handed our agreement
  // to the block that used to sit at its position.
  if (outcome === undefined || outcome.status === 'rejected') {
    const reasons =
      outcome?.status === 'rejected' ? ((outcome.error.detail.reasons as readonly string[] | undefined) ?? [outcome.error.message]) : ['not stored']
    return merge(
      endSession(result.state, purpose.id, rejected(outcome?.status === 'rejected' ? outcome.error.code : TrustChainErrorCode.INVALID_BLOCK, reasons)),
    )
  }
  if (event.ownAgreement !== undefined) {
    // Reused only for the very proposal we signed: the shell found it by the proposal's hash, checked again here.
    if (event.ownAgreementTo !== purpose.id || !answersProposal(session.proposal, event.ownAgreement)) {
      return merge(
        endSession(result.state, purpose.id, rejected(TrustChainErrorCode.PROPOSAL_REJECTED, ['already answered another proposal at this position'])),
      )
    }
    return merge(endSession(result.state, purpose.id, { type: 'agreement', proposal: session.proposal, agreement: event.ownAgreement }))
  }
  const gapBefore =
    outcome.validation.level === ValidationLevel.PARTIAL_PREVIOUS ||
    outcome.validation.level === ValidationLevel.PARTIAL ||
    outcome.validation.level === ValidationLevel.NO_INFO
  if (gapBefore && session.crawls === 0 && session.proposal.sequenceNumber > 1) {
    // A block without value stored after a gap (the ledger names nothing missing for it): the stretch before it.
    const before = session.proposal.sequenceNumber - 1
    return merge(crawlFor([{ publicKey: session.proposal.publicKey, sequenceNumber: before, from: Math.max(1, before - config.maxCrawlBlocks + 1) }], []))
  }
  return merge({
    state: result.state,
    effects: [{ type: 'decide', id: purpose.id, from: session.from, proposal: session.proposal, validation: outcome.validation }],
  })
}

function onDecided(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'decided' }>): StepResult {
  const session = state.sessions.get(event.id)
  if (session === undefined) return { state, effects: [] }
  if (!event.accept) return endSession(state, event.id, rejected(TrustChainErrorCode.PROPOSAL_REJECTED, ['policy']))
  let agreement: HalfBlock
  try {
    agreement = createAgreement(
      { crypto: config.crypto, keyPair: config.keyPair, limits: config.limits ?? DEFAULT_BLOCK_LIMITS },
      state.head,
      session.proposal,
      {
        // Never before the proposal, never before our own newest block.
        timestamp: Math.max(event.now, session.proposal.timestamp),
      },
    )
  } catch (error) {
    // E.g. a transfer that would take our balance past the largest safe integer: refuse it, do not fail the node.
    if (!(error instanceof TrustChainError)) throw error
    return endSession(state, event.id, rejected(error.code, [error.message]))
  }
  // Persisted before anyone hears of it: an agreement we sent but lost in a crash could be signed twice. The answer
  // goes out once the ledger has stored it (see onOwnIngested); the session holds further copies of the request.
  return {
    state: {
      ...state,
      head: advanceHead(config.crypto, state.head, agreement),
      sessions: withMap(state.sessions, event.id, { ...session, agreement }),
    },
    effects: [{ type: 'ingest', blocks: [agreement], purpose: { kind: 'own', previousHead: state.head, session: event.id } }],
  }
}

/**
 * The outcome of storing a block of our own chain. Own blocks are valid by construction, but the ledger may still
 * refuse one (a clock-skew limit against a head stamped in the future, say): then the head goes back to what it
 * was, the request that made the block fails with the ledger's typed error, and the node keeps running.
 */
function onOwnIngested(
  config: EngineConfig,
  state: EngineState,
  purpose: Extract<IngestPurpose, { kind: 'own' }>,
  outcomes: readonly IngestOutcome[],
): StepResult {
  const failed = outcomes.find((outcome) => outcome.status === 'rejected')
  if (failed !== undefined && failed.status === 'rejected') {
    const head = failed.block !== undefined && equalBytes(blockHash(config.crypto, failed.block), state.head.hash) ? purpose.previousHead : state.head
    let next: EngineState = { ...state, head }
    const effects: EngineEffect[] = []
    if (purpose.proposal !== undefined) {
      const pending = next.proposals.get(purpose.proposal)
      if (pending !== undefined) {
        next = { ...next, proposals: withMap(next.proposals, purpose.proposal, undefined) }
        effects.push({ type: 'settle', requestId: pending.requestId, settlement: { ok: false, error: failed.error } })
      }
    }
    if (purpose.session !== undefined) {
      const ended = endSession(next, purpose.session, rejected(failed.error.code, [failed.error.message]))
      next = ended.state
      effects.push(...ended.effects)
    }
    if (purpose.checkpoint !== undefined)
      effects.push({ type: 'settle-checkpoint', requestId: purpose.checkpoint, settlement: { ok: false, error: failed.error } })
    return { state: next, effects: [...effects, ...wakeEffects(next)] }
  }
  if (purpose.checkpoint !== undefined) {
    const stored = outcomes[0]
    if (stored === undefined || stored.status === 'rejected') return { state, effects: [] }
    return {
      state,
      effects: [
        { type: 'settle-checkpoint', requestId: purpose.checkpoint, settlement: { ok: true, checkpoint: stored.block } },
        { type: 'broadcast', blocks: [stored.block] },
      ],
    }
  }
  if (purpose.session === undefined) return { state, effects: [] }
  const session = state.sessions.get(purpose.session)
  if (session?.agreement === undefined) return { state, effects: [] }
  const { proposal, agreement } = session
  const ended = endSession(state, purpose.session, { type: 'agreement', proposal, agreement })
  return {
    state: ended.state,
    effects: [...ended.effects, { type: 'delivered', proposal, agreement }, { type: 'broadcast', blocks: [proposal, agreement] }],
  }
}

/** A crawl round with one more answer in. */
function collect(round: CrawlRound, response: DecodedResponse | undefined): CrawlRound {
  const blocks = response?.type === 'blocks' ? response.blocks : []
  return { awaiting: round.awaiting - 1, fetched: blocks.length === 0 ? round.fetched : [...round.fetched, ...blocks] }
}

function onResponse(state: EngineState, event: Extract<EngineEvent, { type: 'response' }>): StepResult {
  const { correlation, response } = event
  if (correlation.kind === 'crawl') {
    const session = state.sessions.get(correlation.id)
    // An answer to a round that is over (a session begun again after a timeout, say) is not this round's.
    if (session?.round === undefined || session.crawls !== correlation.round) return { state, effects: [] }
    const answered = collect(session.round, response)
    if (answered.awaiting > 0) return { state: { ...state, sessions: withMap(state.sessions, correlation.id, { ...session, round: answered }) }, effects: [] }
    // Even empty or failed crawls move on: the policy decides on what is known. Held blocks go after the crawled
    // ones, which they may depend on.
    const { round: _, ...rest } = session
    return {
      state: { ...state, sessions: withMap(state.sessions, correlation.id, rest) },
      effects: [{ type: 'ingest', blocks: [...answered.fetched, ...session.held], purpose: { kind: 'crawled', id: correlation.id } }],
    }
  }
  const pending = state.proposals.get(correlation.id)
  if (correlation.kind === 'agreement-crawl') {
    if (pending?.round === undefined || pending.crawls !== correlation.round) return { state, effects: [] }
    const answered = collect(pending.round, response)
    if (answered.awaiting > 0) return { state: { ...state, proposals: withMap(state.proposals, correlation.id, { ...pending, round: answered }) }, effects: [] }
    const { round: _, ...rest } = pending
    return {
      state: { ...state, proposals: withMap(state.proposals, correlation.id, rest) },
      effects: [{ type: 'ingest', blocks: [...answered.fetched, ...pending.held], purpose: { kind: 'agreement', id: correlation.id } }],
    }
  }
  if (pending === undefined || response === undefined) return { state, effects: [] }
  if (response.type === 'rejected') {
    const error = new TrustChainError(TrustChainErrorCode.PROPOSAL_REJECTED, `the counterparty refused: ${response.reasons.join(', ')}`, {
      code: response.code,
      reasons: response.reasons,
    })
    return {
      state: { ...state, proposals: withMap(state.proposals, correlation.id, undefined) },
      effects: [{ type: 'settle', requestId: pending.requestId, settlement: { ok: false, error } }],
    }
  }
  if (response.type === 'agreement' && answers(pending, response.agreement)) {
    // Accepted only once the ledger has validated and stored it (see onIngested).
    return { state, effects: [{ type: 'ingest', blocks: [response.agreement], purpose: { kind: 'agreement', id: correlation.id } }] }
  }
  return { state, effects: [] }
}

/** One step of the engine. Pure: the same config, state and event always give the same result. */
export function step(config: EngineConfig, state: EngineState, event: EngineEvent): StepResult {
  switch (event.type) {
    case 'propose':
      return propose(config, state, event)
    case 'checkpoint':
      return checkpoint(config, state, event)
    case 'tick':
      return tick(config, state, event.now)
    case 'proposal-request':
      return onProposalRequest(config, state, event)
    case 'crawl-request':
      return {
        state,
        effects: [{ type: 'serve-range', replyId: event.replyId, publicKey: event.request.publicKey, from: event.request.from, to: event.request.to }],
      }
    case 'broadcast':
      return { state, effects: event.blocks.length === 0 ? [] : [{ type: 'ingest', blocks: event.blocks, purpose: { kind: 'gossip' } }] }
    case 'response':
      return onResponse(state, event)
    case 'ingested':
      return onIngested(config, state, event)
    case 'decided':
      return onDecided(config, state, event)
  }
}
