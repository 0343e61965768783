/**
 * The TrustChain node: what it offers (`TrustChainNode`), how it is configured, and the default signing policy. The
 * node is the thin imperative shell around the pure protocol engine (`engine/step.ts`); `createTrustChainNode`
 * (`trustchain-node-shell.ts`) builds it.
 */
import type { Crypto, KeyPair } from '@constellation/crypto'
import type { Clock, PeerId } from '@constellation/interface'
import type { ChainHead } from '../block/block-builder.js'
import type { BlockLimits } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import type { PayloadRegistry } from '../block/payloads.js'
import type { BatchVerifier, IngestOutcome, Ledger } from '../ledger/ledger.js'
import type { BlockStore } from '../store/block-store.js'
import { ValidationLevel, ValidationReason, type ValidationResult } from '../validation/validation-result.js'
import type { RetryPolicy } from './engine/engine-config.js'
import type { ProposalContent } from './engine/engine-events.js'
import type { TrustChainMessenger } from './messenger.js'

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
  /** Stops: pending proposals, checkpoints and crawls fail with NODE_STOPPED, waiting requests are refused. The store stays open. */
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
   * the same peer, for up to 8 rounds. One outcome per block of the range asked for. Fails with the error of a
   * request that fails, MALFORMED_MESSAGE when the peer answers with something else than blocks, NODE_STOPPED when
   * the node stops first.
   */
  crawl(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<IngestOutcome[]>
  /** The own chain's head as the engine knows it. */
  head(): ChainHead
  /** Listens to completed transactions this node is part of. */
  onTransaction(listener: (transaction: Transaction) => void): () => void
  /** True when no event is being processed or waiting (used by simulations to detect quiescence). */
  idle(): boolean
}
