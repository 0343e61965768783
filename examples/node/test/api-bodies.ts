/**
 * The JSON bodies of the node's HTTP API as the tests read them: the API's own views where a route answers with one,
 * and small interfaces (the fields tests read) for the rest. A test names the body it expects when it calls a route;
 * the body is parsed JSON, not checked against the type, so a wrong guess shows as a failed assertion.
 */
import type { CborValue } from '@constellation/crypto'
import type { ProofSummary } from '../src/api/views/agreement-proof-view.js'
import type { CertificateView } from '../src/api/views/certificate-view.js'
import type { HalfBlockView } from '../src/api/views/half-block-view.js'
import type { MemeView } from '../src/api/views/meme-view.js'
import type { TransactionView } from '../src/api/views/transaction-view.js'
import type { TransactionTotals } from '../src/node/transaction-tracker.js'

export type { CertificateView, HalfBlockView, TransactionView }

/** Every error answer; a refused transfer's also carries the voided transaction. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly transaction?: TransactionView }
}

/** The `error` member of an error body, or undefined when `json` is not one (the test then fails on what it expected). */
export function errorOf(json: unknown): { readonly code?: unknown; readonly message?: unknown } | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined
  const { error } = json
  return typeof error === 'object' && error !== null ? error : undefined
}

/** GET /v1/status. */
export interface StatusBody {
  readonly id: string
  readonly group: string
  readonly round: number
  readonly chainHeight: number
  readonly balance: number
  readonly consensus: { readonly stalled: boolean; readonly stalledSince?: number; readonly lastCertificateAgeSeconds: number }
}

/** The counters GET /v1/transactions reports. */
/** GET /v1/transactions. */
export interface TransactionList {
  readonly totals: TransactionTotals
  readonly transactions: readonly TransactionView[]
}

/** POST /v1/transactions/batch: one outcome per transfer, in request order. */
export interface BatchBody {
  readonly outcomes: readonly {
    readonly status: string
    readonly id?: string
    readonly replay?: boolean
    readonly refusal?: { readonly code: string; readonly reason: string }
    readonly error?: { readonly code: string; readonly message: string; readonly retryAfterMs?: number }
  }[]
}

/** GET /v1/transactions/:id/proof. */
export interface ProofBody {
  readonly id: string
  readonly bytes: number
  /** The encoded agreement proof, hex. */
  readonly proof: string
  readonly summary: ProofSummary
}

/** GET /v1/consensus/rounds. */
export interface RoundsBody {
  readonly latestRound: number
  readonly rounds: readonly CertificateView[]
}

/** GET /v1/chains/:publicKey. */
export interface ChainBody {
  readonly publicKey: string
  readonly height: number
  readonly from: number
  readonly to: number
  readonly blocks: readonly HalfBlockView[]
}

/** POST /v1/blocks. */
export interface SubmittedBlockBody {
  readonly status: 'stored' | 'duplicate'
  readonly hash: string
  readonly block: HalfBlockView
}

/** GET /v1/memes. */
export interface MemesBody {
  readonly round: number
  readonly committee: { readonly servesRound: number; readonly facilitators: readonly string[] }
  readonly elections: readonly { readonly round: number; readonly servesRound: number; readonly facilitators: readonly string[] }[]
  readonly memes: readonly MemeView[]
}

/** GET /v1/peers. */
export interface PeersBody {
  readonly self: string
  readonly peers: readonly { readonly id: string; readonly member: boolean; readonly facilitator: boolean }[]
}

/** GET /v1/solar-systems. */
export interface SolarSystemsBody {
  readonly solarSystems: readonly { readonly level: number; readonly group: string; readonly members: readonly string[] }[]
}

/** GET /v1/genesis: the network genesis (JSON, so a CBOR value too) and its fingerprint. */
export interface GenesisBody {
  readonly genesis: CborValue
  readonly fingerprint: string
}

/** POST /v1/contracts. */
export interface DeployedBody {
  readonly id: string
  readonly proposal: HalfBlockView
  readonly agreement: HalfBlockView
}

/** POST /v1/contracts/:id/invoke. */
export interface InvokedBody {
  readonly output: unknown
  readonly gas: number
  readonly proposal: HalfBlockView
  readonly agreement: HalfBlockView
}
