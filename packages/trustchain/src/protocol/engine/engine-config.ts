/**
 * How the protocol engine is configured: the node's identity and block limits, how it retries its proposals, and
 * the bounds on crawling and on the proposals it decides at once. Plain data that every step reads; the accessors
 * below fill in the defaults.
 */
import type { Crypto, KeyPair } from '@constellation/crypto'
import type { BlockAuthor } from '../../block/block-builder.js'
import { type BlockLimits, DEFAULT_BLOCK_LIMITS } from '../../block/block-encoding.js'
import { PayloadRegistry } from '../../block/payloads.js'
import { DEFAULT_MAX_CRAWL_CHAINS, DEFAULT_MAX_CRAWL_ROUNDS } from './crawl-plan.js'

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

const DEFAULT_REGISTRY = new PayloadRegistry()
const DEFAULT_MAX_SESSIONS_PER_PEER = 16

/** Who signs the own blocks, with which limits. */
export const authorOf = (config: EngineConfig): BlockAuthor => ({
  crypto: config.crypto,
  keyPair: config.keyPair,
  limits: config.limits ?? DEFAULT_BLOCK_LIMITS,
})

export const registryOf = (config: EngineConfig): PayloadRegistry => config.registry ?? DEFAULT_REGISTRY

export const maxCrawlRoundsOf = (config: EngineConfig): number => config.maxCrawlRounds ?? DEFAULT_MAX_CRAWL_ROUNDS

export const maxCrawlChainsOf = (config: EngineConfig): number => config.maxCrawlChains ?? DEFAULT_MAX_CRAWL_CHAINS

export const maxSessionsPerPeerOf = (config: EngineConfig): number => config.maxSessionsPerPeer ?? DEFAULT_MAX_SESSIONS_PER_PEER

export const sessionTimeoutOf = (config: EngineConfig): number => config.sessionTimeoutMs ?? config.retry.deadlineMs
