/**
 * What goes into the protocol engine and what comes out of it: events (a user's request, a peer's message, the
 * outcome of an earlier effect, the time), and effects the shell performs, whose outcomes come back as events.
 * Blocks travel decoded; the shell turns them into bytes and back.
 */
import type { CborValue } from '@constellation/crypto'
import type { PeerId } from '@constellation/interface'
import type { ChainHead } from '../../block/block-builder.js'
import type { HalfBlock } from '../../block/half-block.js'
import type { TrustChainError } from '../../errors.js'
import type { IngestOutcome } from '../../ledger/ledger.js'
import type { ValidationResult } from '../../validation/validation-result.js'
import type { Request } from '../messages.js'
import type { EngineState } from './engine-state.js'

/** What a proposal carries: a value transfer of `amount` (balance filled in), or any registered payload. */
export type ProposalContent = { readonly transfer: number } | { readonly payload: CborValue }

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
  /** What a round of the range crawl `requestId` brought. */
  | { readonly kind: 'range-crawl'; readonly requestId: number }

export type Correlation =
  | { readonly kind: 'proposal'; readonly id: string }
  /** A crawl of round `round` (1, 2, ...) for an incoming proposal's session. */
  | { readonly kind: 'crawl'; readonly id: string; readonly round: number }
  /** A crawl of round `round` for the dependencies of an agreement to our proposal. */
  | { readonly kind: 'agreement-crawl'; readonly id: string; readonly round: number }
  /** A crawl of round `round` of the range crawl `requestId`: 0 for the range itself, then its dependencies. */
  | { readonly kind: 'range-crawl'; readonly requestId: number; readonly round: number }

export type Settlement =
  | { readonly ok: true; readonly proposal: HalfBlock; readonly agreement: HalfBlock }
  | { readonly ok: false; readonly error: TrustChainError }

/** How a checkpoint request ends: its block, stored, or why not. */
export type CheckpointSettlement = { readonly ok: true; readonly checkpoint: HalfBlock } | { readonly ok: false; readonly error: TrustChainError }

/** How a range crawl ends: the outcome of each block of the range, or the failure of a request. */
export type CrawlSettlement = { readonly ok: true; readonly outcomes: IngestOutcome[] } | { readonly ok: false; readonly error: unknown }

export type EngineEvent =
  | { readonly type: 'propose'; readonly now: number; readonly requestId: number; readonly counterparty: Uint8Array; readonly content: ProposalContent }
  /** Append a checkpoint committing to the consensus result `consensusResultHash` of `round`. */
  | { readonly type: 'checkpoint'; readonly now: number; readonly requestId: number; readonly consensusResultHash: Uint8Array; readonly round: number }
  /** Crawl `from..to` of the chain of `publicKey` from `peer` (negative = from the end), and what those blocks depend on. */
  | {
      readonly type: 'crawl'
      readonly now: number
      readonly requestId: number
      readonly peer: PeerId
      readonly publicKey: Uint8Array
      readonly from: number
      readonly to: number
    }
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
  /**
   * The response to a request effect; `response` undefined when the request failed (`error` says why) or the
   * answer was malformed.
   */
  | {
      readonly type: 'response'
      readonly now: number
      readonly correlation: Correlation
      readonly response: DecodedResponse | undefined
      readonly error?: unknown
    }
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
  | { readonly type: 'settle-crawl'; readonly requestId: number; readonly settlement: CrawlSettlement }
  | { readonly type: 'delivered'; readonly proposal: HalfBlock; readonly agreement: HalfBlock }

export interface StepResult {
  readonly state: EngineState
  readonly effects: readonly EngineEffect[]
}
