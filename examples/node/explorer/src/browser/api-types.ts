/**
 * The JSON bodies of the node's API routes that have no named view type on the server (they are built inline in the
 * routes, see src/api/routes); the rest are the server's own view types, imported as types only.
 */
import type { SlaFigures } from '@constellation/contracts'
import type { ProofSummary } from '../../../src/api/views/agreement-proof-view.js'
import type { CertificateView } from '../../../src/api/views/certificate-view.js'
import type { HalfBlockView } from '../../../src/api/views/half-block-view.js'
import type { MemeView } from '../../../src/api/views/meme-view.js'
import type { TransactionView } from '../../../src/api/views/transaction-view.js'
import type { NodeStatus } from '../../../src/node/full-node.js'
import type { ContractSignature } from '../model/type-signature.js'

export type { CertificateView, HalfBlockView, MemeView, NodeStatus, ProofSummary, TransactionView }
export type { ContractInvocation, ContractInvocationsView, DagView, ExplorerEvent, HierarchyView } from '../../../src/explorer/explorer-views.js'

/** GET /v1/transactions: the ones this node proposed, newest first. */
export interface TransactionsPage {
  readonly transactions: readonly TransactionView[]
}

/** A transaction's status as the API names it. */
export type TransactionStatus = TransactionView['status']

/** GET /v1/consensus/rounds */
export interface RoundsPage {
  readonly latestRound: number
  readonly rounds: readonly CertificateView[]
}

/** GET /v1/transactions/:id/proof (200; 409 NOT_FINAL until it can be built) */
export interface AgreementProofView {
  readonly id: string
  readonly bytes: number
  /** Hex of `encodeAgreementProof`. */
  readonly proof: string
  /** The node's summary; the page shows the one it computes from the proof it verified (finality-check.ts). */
  readonly summary: ProofSummary
}

/** GET /v1/chains/:publicKey */
export interface ChainPage {
  readonly publicKey: string
  readonly height: number
  readonly from: number
  readonly to: number
  readonly blocks: readonly HalfBlockView[]
}

/** One seat of an election record (meme-reputation's ElectedSeat). */
export interface ElectedSeat {
  readonly memeId: string
  readonly bracket: number | 'newcomers'
  readonly rank: number
  readonly score: number
}

/** GET /v1/memes */
export interface MemesView {
  readonly round: number
  readonly resultHash: string
  readonly committee: { readonly servesRound: number; readonly facilitators: readonly string[]; readonly faultsTolerated: number; readonly quorum: number }
  readonly election: { readonly round: number; readonly servesRound: number; readonly seats: readonly ElectedSeat[] } | null
  readonly elections: readonly { readonly round: number; readonly servesRound: number; readonly facilitators: readonly string[] }[]
  readonly memes: readonly MemeView[]
}

export interface HostedContract {
  readonly id: string
  readonly signature: ContractSignature
  readonly invocations: number
  readonly stateHash: string
}

/** GET /v1/contracts */
export interface ContractsView {
  readonly host: string | null
  readonly caller: string
  readonly price: number
  /** The host's published service figures (null when hosting is off). */
  readonly sla: SlaFigures | null
  readonly contracts: readonly HostedContract[]
}

/** GET /v1/contracts/:id */
export interface ContractView extends HostedContract {
  readonly state: unknown
}
