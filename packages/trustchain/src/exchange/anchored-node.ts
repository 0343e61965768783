/**
 * The anchored TrustChain node: transfers whose cost is a few signature checks, not the network's history.
 *
 * It needs a consensus that certifies checkpoints (`CertifiedAnchors`): a certified checkpoint vouches for its
 * chain up to it, so a counterparty checks only the proposer's blocks after it. The data flow, per counterparty:
 *
 *   proposer                                           counterparty
 *   transfer(orders) -> checks what it may spend, signs
 *   the proposals, stores them (one batch)
 *   frame: its blocks after its anchor the counterparty  -> readFrame: hash links from the anchor, balances, what the
 *   lacks, up to its last proposal to it (one frame         proposer may still spend; verifies the proposals to it
 *   per counterparty in flight; the rest wait and go        (one batch); signs agreements or refusals; stores the
 *   together in the next)                                   proposals and its agreements (one batch)
 *   answers: verifies the agreements (one batch) and     <- answers
 *   stores them; voids each refused proposal with the
 *   counterparty's refusal, so the amount comes back
 *
 * Nothing crawls on this path. A transfer is `agreed`, `refused` (voided: nothing moved), `pending` (no answer within
 * `answerTimeoutMs`: it is retried until answered, and may still be agreed) or `rejected` before anything was signed
 * (an overdraft, a bad order, or `BUSY` at a bound with a retry hint). Finality is the consensus's: both halves in
 * certified stretches.
 *
 * This file holds what the node offers and how it is configured; `createAnchoredNode` (`anchored-node-shell.ts`)
 * builds it from its parts: the proposer (`proposer.ts`), the outboxes that carry its frames (`outboxes.ts`), the
 * book of its proposals awaiting an answer (`outstanding-proposals.ts`), the counterparty side
 * (`frame-answerer.ts`), and what they share (`anchored-core.ts`).
 */
import type { Crypto, KeyPair } from '@constellation/crypto'
import type { Clock, MessageNetwork, PeerId } from '@constellation/interface'
import type { CertifiedAnchors } from '../anchor/chain-anchor.js'
import type { ChainHead } from '../block/block-builder.js'
import type { BlockLimits } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import type { PayloadRegistry } from '../block/payloads.js'
import type { TrustChainError } from '../errors.js'
import type { BatchVerifier, IngestOutcome, Ledger } from '../ledger/ledger.js'
import type { BlockStore } from '../store/block-store.js'

/** The part of a network the node uses: request/response. */
export type ExchangeNetwork = Pick<MessageNetwork, 'request' | 'handle'>

/** A transfer to make: `amount` of value to the chain `to`, with an optional reference its proposal carries. */
export interface TransferOrder {
  readonly to: Uint8Array
  readonly amount: number
  /** At most 32 bytes, written into the proposal (see `TransferPayloadCodec`). */
  readonly reference?: Uint8Array
}

export type TransferOutcome =
  | { readonly status: 'agreed'; readonly proposal: HalfBlock; readonly agreement: HalfBlock }
  /** Signed and sent, no answer yet: retried until the counterparty answers; it may still be agreed. */
  | { readonly status: 'pending'; readonly proposal: HalfBlock }
  /** The counterparty refused; `void` returned the amount. Nothing moved, and it can never become final. */
  | { readonly status: 'refused'; readonly proposal: HalfBlock; readonly void: HalfBlock; readonly code: string; readonly reason: string }
  /** Refused before anything was signed. */
  | { readonly status: 'rejected'; readonly error: TrustChainError }

/** A settled own proposal, heard later than its `transfer` call returned (or at once). */
export type SettledTransfer = Extract<TransferOutcome, { status: 'agreed' | 'refused' }>

/** Decides whether to countersign a proposal addressed to this node whose proposer can pay it. */
export type AnchoredSigningPolicy = (proposal: HalfBlock, context: { readonly from: PeerId }) => boolean | Promise<boolean>

export interface AnchoredNodeOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly store: BlockStore
  readonly network: ExchangeNetwork
  readonly anchors: CertifiedAnchors
  readonly clock?: Clock
  readonly registry?: PayloadRegistry
  readonly limits?: BlockLimits
  /** Countersign policy (default: every proposal whose proposer can pay). */
  readonly shouldSign?: AnchoredSigningPolicy
  /** Verifies signature batches elsewhere (a worker pool); default: this thread. */
  readonly verifier?: BatchVerifier
  /** How long `transfer` waits for answers before it reports `pending` (default 5 s). */
  readonly answerTimeoutMs?: number
  /** A frame not answered within this is sent again (default 10 s). */
  readonly requestTimeoutMs?: number
  /** Own blocks after the own certified anchor at most; past it transfers are `BUSY` until a checkpoint is certified (default 2,048). */
  readonly maxStretchBlocks?: number
  /** Own proposals without an answer at most; past it transfers are `BUSY` (default 4,096). */
  readonly maxOutstanding?: number
  /** Proposals stamped further ahead of this node's clock are refused (default 60 s). */
  readonly maxClockSkewMs?: number
  /** Failures of the node itself (a store that cannot write): the node stops. */
  readonly onError?: (error: unknown) => void
}

export interface AnchoredNodeStats {
  readonly framesSent: number
  readonly framesReceived: number
  readonly resends: number
  readonly proposalsSigned: number
  readonly agreementsSigned: number
  readonly refusalsSigned: number
  readonly voids: number
}

export interface AnchoredNode {
  readonly publicKey: Uint8Array
  /** Validate-and-store for blocks fetched for sync and recovery (`fetchRange`). */
  readonly ledger: Ledger
  start(): Promise<void>
  /** Stops: waiting `transfer` calls report what they have (pending), frames in flight are dropped. */
  stop(): Promise<void>
  /** Proposes transfers; one outcome per order, in order. */
  transfer(orders: readonly TransferOrder[]): Promise<TransferOutcome[]>
  /** Appends a checkpoint block recording a certified result to the own chain; resolves once stored. */
  checkpoint(options: { readonly consensusResultHash: Uint8Array; readonly round: number }): Promise<HalfBlock>
  /** Own blocks after `sequenceNumber` up to the head (a checkpoint's stretch). */
  stretch(after: number): Promise<HalfBlock[]>
  head(): ChainHead
  /** What the own chain may still spend: the certified spendable balance minus what it paid since its anchor. */
  available(): number
  /** Own proposals answered (agreed or refused), including those whose `transfer` call already said pending. */
  onSettled(listener: (settled: SettledTransfer) => void): () => void
  /** Transactions this node countersigned. */
  onAgreed(listener: (transaction: { readonly proposal: HalfBlock; readonly agreement: HalfBlock }) => void): () => void
  /**
   * Calls `listener` with the own chain's new head each time own blocks were stored (proposals, agreements, voids,
   * checkpoints); returns the unsubscribe. The consensus's `CheckpointWriter.onGrown`: a member idle for a round
   * checkpoints at once when its chain moves.
   */
  onGrown(listener: (head: ChainHead) => void): () => void
  /** Stored blocks of a chain from a peer (sync, recovery), not validated: the caller ingests them. */
  fetchRange(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<HalfBlock[]>
  /** `fetchRange`, then the blocks validated and stored through the ledger: one outcome per block fetched. */
  crawl(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<IngestOutcome[]>
  /** Own proposals not answered yet. */
  outstanding(): number
  readonly stats: AnchoredNodeStats
}
