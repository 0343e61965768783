/**
 * The running node as its modules see it (`FullNode`), and the modules' own shape. A module that only reads the
 * node and calls its operations (the HTTP API, the explorer) gets the `FullNode`: no key, and a read-only view of
 * the network. A module that acts as this node on the network (the contracts host signs and serves requests)
 * declares it (`signs: true`) and gets the key and the network besides.
 */
import type {
  AgreementProof,
  FinalityPath,
  LevelNode,
  RootedAgreementProof,
  SolarSystemGenesis,
  SolarSystemNode,
  SolarSystemRules,
  TransactionHalves,
} from '@constellation/consensus'
import type { Crypto, KeyPair } from '@constellation/crypto'
import type { Clock } from '@constellation/interface'
import type { AnchoredNode, BlockStore } from '@constellation/trustchain'
import type { NetworkGenesis } from '../config/network-genesis.js'
import type { NodeConfig } from '../config/node-config.js'
import type { Logger } from '../log/logger.js'
import type { NodeMetrics } from '../metrics/node-metrics.js'
import type { CertificateJournal } from './certificate-journal.js'
import type { NodeNetwork } from './node-parts.js'
import type { NodeRoles } from './node-roles.js'
import type { StallStatus } from './stall-watch.js'
import type { TrackedTransaction, TransactionTotals, TransactionTracker } from './transaction-tracker.js'

/** A module of the node that runs beside the core and closes before it (the contracts host, the HTTP API). */
export interface NodeModule {
  close(): Promise<void>
  /** What the module adds to `<dataDir>/node.json` (the API's URL, say) for scripts that look for a running node. */
  describe?(): Record<string, unknown>
}

/** Starts a module that reads the node and calls its operations. */
export type ReadingModuleFactory = (node: FullNode) => Promise<NodeModule>

/** What a module that acts as this node on the network gets besides the node. */
export interface SigningComponents {
  readonly keyPair: KeyPair
  readonly network: NodeNetwork
}

/** Starts a module that acts as this node: it declares so, and gets the key and the network. */
export interface SigningModuleFactory {
  readonly signs: true
  start(node: FullNode, components: SigningComponents): Promise<NodeModule>
}

export type NodeModuleFactory = ReadingModuleFactory | SigningModuleFactory

/** What the node's modules may read of its consensus: where it stands, its certified history, its certificates. */
export interface ConsensusView {
  readonly state: SolarSystemNode['state']
  readonly history: SolarSystemNode['history']
  /** Whether this node facilitates the round under way. */
  facilitating(): boolean
  onCertificate(listener: Parameters<SolarSystemNode['onCertificate']>[0]): () => void
}

/** What the node's modules may read of a group above level 0 it validates (a star cluster, the root). */
export interface LevelView {
  readonly genesis: SolarSystemGenesis
  /** The children the group certifies (the groups one level down). */
  readonly children: readonly SolarSystemGenesis[]
  readonly state: LevelNode['state']
  readonly history: LevelNode['history']
  /** Rounds certified and facilitated, certificates rejected, children's certificates followed (the metrics read them). */
  readonly stats: LevelNode['stats']
  /** A child's certified history as this validator follows it (undefined: not a child of this group). */
  childHistory(group: string): LevelNode['history'] | undefined
  /** Whether this node facilitates the group's round under way. */
  facilitating(): boolean
  /** The path from a followed group's certificate up to this group's, once this group committed it. */
  finalityPath(level: number, group: string, round: number): FinalityPath | undefined
}

/**
 * What the node's modules may read of a group it follows without running it: another solar system, or the root
 * (a member follows them to transfer with the other systems; see other-systems.ts).
 */
export interface FollowedGroupView {
  readonly genesis: SolarSystemGenesis
  readonly state: LevelNode['state']
  readonly history: LevelNode['history']
}

/** What the node's modules may read of its network: who it is, who it knows, what it sent. */
export type NetworkView = Pick<NodeNetwork, 'peerId' | 'peers' | 'advertOf' | 'traffic'> & {
  /** The addresses peers can dial this node on (none on a simulator). */
  listenAddresses(): string[]
}

export interface NodeStatus {
  readonly id: string
  /** The solar system this node is a member of. */
  readonly group: string
  /** `member`, and each group above level 0 it validates (`validator 1/cluster-0`, `root validator 2/universe`). */
  readonly roles: readonly string[]
  /** The groups above level 0 this node validates: their last certified round, and whether it facilitates now. */
  readonly levels: readonly { readonly level: number; readonly group: string; readonly round: number; readonly facilitating: boolean }[]
  readonly round: number
  readonly facilitators: readonly string[]
  readonly facilitating: boolean
  readonly chainHeight: number
  /** The running balance the own chain states (received value not yet final included). */
  readonly balance: number
  /** What the node may spend now: its certified spendable balance minus what it paid since. */
  readonly available: number
  readonly peers: number
  readonly listen: readonly string[]
  readonly transactions: TransactionTotals
  readonly uptimeMs: number
  /** Whether the consensus has stalled as this node sees it: no certified round for `consensus.stallReportAfterMs`. */
  readonly consensus: StallStatus
}

/** A transfer to make: `amount` to the member `to`, optionally under a client's idempotency key. */
export interface TransferRequest {
  readonly to: Uint8Array
  readonly amount: number
  readonly key?: string
}

/** Why a transfer was refused before anything was signed. */
export type TransferRejection = 'INSUFFICIENT_FUNDS' | 'BUSY' | 'INVALID' | 'KEY_CONFLICT' | 'CLOSED'

export type TransferResult =
  /** A transaction was made (now, or earlier under the same key: `replay`); its status says how far it got. */
  | { readonly kind: 'transaction'; readonly tracked: TrackedTransaction; readonly replay: boolean }
  | { readonly kind: 'rejected'; readonly reason: TransferRejection; readonly message: string; readonly retryAfterMs?: number }

export interface FullNode {
  /** Hex public key: the node id on every layer. */
  readonly id: string
  readonly publicKey: Uint8Array
  readonly config: NodeConfig
  readonly genesis: NetworkGenesis
  readonly crypto: Crypto
  readonly store: BlockStore
  readonly network: NetworkView
  /** The election rules (the scorer among them) every node of the network uses. */
  readonly rules: SolarSystemRules
  /** The node's time: the wall clock, or a simulator's. */
  readonly clock: Clock
  readonly chain: AnchoredNode
  /** The own solar system's consensus. */
  readonly consensus: ConsensusView
  /** What the genesis makes this node: member of a solar system, validator of the groups above that name it. */
  readonly roles: NodeRoles
  /** The groups above level 0 this node validates, lowest level first (none for a member only). */
  readonly levels: readonly LevelView[]
  /** The groups it follows without running them: the other solar systems and the root (none in a one-system network). */
  readonly followed: readonly FollowedGroupView[]
  readonly journal: CertificateJournal
  readonly transactions: TransactionTracker
  readonly metrics: NodeMetrics
  readonly logger: Logger
  /** Aborted when the node starts closing. */
  readonly signal: AbortSignal
  /**
   * Calls `listener` with the own chain's new height each time a block of this node's is stored: a proposal or
   * agreement of a delivered transaction, or a checkpoint. Returns the unsubscribe.
   */
  onChainGrowth(listener: (height: number) => void): () => void
  /** Calls `listener` when the consensus stalls (no certified round for a while) and when it certifies again. */
  onStall(listener: (status: StallStatus) => void): () => void
  /**
   * Proposes value transfers, one result per request: the transaction (agreed, pending, or refused and voided), or
   * why nothing was signed. A request with a `key` that an earlier one used returns that transfer (`replay`).
   */
  transfer(requests: readonly TransferRequest[]): Promise<TransferResult[]>
  /** The round that finalised the transaction, if it is final (checked on what this node holds). */
  finalRound(transaction: TransactionHalves): Promise<number | undefined>
  /** The transaction's agreement proof; NOT_FINAL (consensus) until it is final. */
  agreementProof(transaction: TransactionHalves): Promise<AgreementProof>
  /**
   * The agreement proof with the path that shows the root committed its certificate (rooted-proofs.ts): NOT_FINAL
   * until final, NOT_ROOTED until the root committed it, INVALID_REQUEST in a network of one solar system.
   */
  rootedProof(transaction: TransactionHalves): Promise<RootedAgreementProof>
  status(): NodeStatus
  close(): Promise<void>
}
