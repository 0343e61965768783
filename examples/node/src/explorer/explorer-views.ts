/**
 * The explorer's data contract: the JSON the node serves for the web explorer beyond the plain API (the DAG of
 * chains, the hierarchy, the live event stream), as types the server builds and the browser app reads. The browser
 * app imports these types only (erased at bundling), so the two cannot drift apart.
 *
 *   GET /v1/dag?perChain=N            DagView       (N: 1..50, default 16) the last N stored blocks of this node's
 *                                                   chain, other genesis members' (up to 31 of them), then its
 *                                                   contract chains
 *   GET /v1/hierarchy                 HierarchyView the levels this node runs, solar systems up to the root it knows
 *   GET /v1/contracts/:id/invocations ContractInvocationsView (?limit 1..100, default 20) newest first
 *   GET /v1/events                    text/event-stream of ExplorerEvent (`event: <kind>`, `data: <json>`), with a
 *                                     `: keep-alive` comment every 15 s; the first event is always `hello`
 *   GET /explorer/ (and assets)       the explorer app; GET / redirects there
 */
import type { CertificateView } from '../api/views/certificate-view.js'
import type { TransactionState } from '../api/views/transaction-view.js'

/** What a half-block is in the DAG (`void`: undoes an own proposal its counterparty refused). */
export type DagBlockRole = 'genesis' | 'proposal' | 'agreement' | 'void' | 'checkpoint'

export interface DagBlock {
  readonly hash: string
  readonly publicKey: string
  readonly sequenceNumber: number
  readonly role: DagBlockRole
  /** The counterparty's key (proposal and agreement); the block's own key otherwise. */
  readonly linkPublicKey: string
  /**
   * For an agreement: the proposal's sequence number in the counterparty's chain; for a void: the voided proposal's
   * in its own chain; 0 otherwise.
   */
  readonly linkSequenceNumber: number
  readonly timestamp: number
  /** Value moved by the transaction this half belongs to (0 for non-transfers); for a void, the amount it returned. */
  readonly amount: number
  /**
   * The transaction this half belongs to (the proposal's hash), when it is a proposal, an agreement or a void and the
   * proposal is known here (a void's is the refused transaction).
   */
  readonly transactionId: string | null
  /** For a checkpoint block: the certified round that committed to it (null while uncertified). */
  readonly certifiedRound: number | null
  /** Whether the block lies at or below a certified checkpoint of its chain. */
  readonly certified: boolean
}

export interface DagChain {
  readonly publicKey: string
  /** 'member' for a genesis member, 'contract' for a contracts host or caller chain this node keeps. */
  readonly kind: 'member' | 'contract'
  /** Whether this chain is the serving node's own. */
  readonly self: boolean
  /** Highest sequence number stored here (the chain may be longer elsewhere). */
  readonly height: number
  /** Ascending by sequence number; the stored ones among the last `perChain` (a crawled chain has gaps). */
  readonly blocks: readonly DagBlock[]
}

export interface DagView {
  readonly latestRound: number
  readonly chains: readonly DagChain[]
  /** Genesis members' chains left out to keep the answer bounded (a large network shows the first ones). */
  readonly omittedChains: number
}

export type HierarchyLevelName = 'solar system' | 'star cluster' | 'galaxy' | 'universe'

export interface HierarchyGroup {
  readonly level: number
  readonly group: string
  /** The group one level up that certifies this group's certificates (null at the root). */
  readonly parent: string | null
  readonly members: readonly string[]
  /** Facilitators of the round under way (the genesis's first ones for a group this node does not follow). */
  readonly facilitators: readonly string[]
  /** The group's last certified round as this node knows it (null: it does not follow the group). */
  readonly round: number | null
  readonly resultHash: string | null
  /** Whether this node follows the group's certified history (its own solar system, a group it validates, their children). */
  readonly followed: boolean
  /** Whether this node validates the group (above level 0). */
  readonly validating: boolean
  /** Whether this node facilitates the group's round under way. */
  readonly facilitating: boolean
  /** The groups one level down this group certifies (none at level 0). */
  readonly children: readonly string[]
  /**
   * For a group this node validates: per child, the newest child round the group has certified (`round`, 0 for
   * none yet) and the group's own round that certified it (`in`).
   */
  readonly committed: readonly { readonly group: string; readonly round: number; readonly in: number }[]
}

export interface HierarchyLevel {
  readonly level: number
  readonly name: HierarchyLevelName
  readonly groups: readonly HierarchyGroup[]
}

export interface HierarchyView {
  /** This node's id, its solar system and its roles (`member`, `validator 1/cluster`, `root validator 1/cluster`). */
  readonly self: string
  readonly solarSystem: string
  readonly roles: readonly string[]
  /** Ascending from level 0; the last level holds the root group alone. */
  readonly levels: readonly HierarchyLevel[]
  readonly root: { readonly level: number; readonly group: string }
}

export interface ContractInvocation {
  /** The invoke transaction's id (its proposal hash). */
  readonly transactionId: string
  readonly caller: string
  readonly input: unknown
  readonly output: unknown
  readonly gas: number
  readonly timestamp: number
  readonly status: TransactionState
}

export interface ContractInvocationsView {
  readonly id: string
  readonly invocations: readonly ContractInvocation[]
}

/** One server-sent event; `kind` is also the SSE `event:` field. */
export type ExplorerEvent =
  | { readonly kind: 'hello'; readonly nodeId: string; readonly round: number; readonly height: number; readonly stalledSince?: number }
  /** The consensus stalled (no certified round for a while; `stalledSince`, ms since the epoch) or certifies again. */
  | { readonly kind: 'consensus'; readonly stalled: boolean; readonly stalledSince?: number }
  /** A certified round this node applied. */
  | { readonly kind: 'round'; readonly certificate: CertificateView }
  /** A transaction this node is party to changed state. */
  | {
      readonly kind: 'transaction'
      readonly id: string
      readonly status: TransactionState
      readonly from: string
      readonly to: string
      readonly amount: number
    }
  /** This node's own chain grew. */
  | { readonly kind: 'chain'; readonly publicKey: string; readonly height: number }
