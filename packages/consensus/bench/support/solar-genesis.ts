/**
 * The solar system a multi-process run shares: member keys, genesis and rules derived from one seed, so that the
 * parent and every node process build the same system from the seed alone (nothing secret crosses the IPC
 * channel), and the messages the parent and the node processes exchange over it.
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { defaultSolarSystemRules, type SolarSystemGenesis, type SolarSystemRules, type SolarSystemTiming } from '../../src/index.js'

export interface SolarSystemPlan {
  /** Everything else follows from the seed. */
  readonly seed: string
  readonly members: number
  /** Facilitators per round (n). */
  readonly facilitators: number
  readonly timing?: Partial<SolarSystemTiming>
}

export interface DerivedSolarSystem {
  readonly keyPairs: readonly KeyPair[]
  readonly ids: readonly string[]
  readonly genesis: SolarSystemGenesis
  readonly rules: SolarSystemRules
}

/** Every member's opening balance (the genesis states it, and so does the member's genesis block). */
export const CLUSTER_BALANCE = 1_000_000

/**
 * Member i's key is derived from SHA-256 of `seed/member/i`; the first facilitators are the lowest ids; every member
 * opens with `CLUSTER_BALANCE`.
 */
export function deriveSolarSystem(crypto: Crypto, plan: SolarSystemPlan): DerivedSolarSystem {
  const encoder = new TextEncoder()
  const keyPairs = Array.from({ length: plan.members }, (_, i) => crypto.keyPairFromSeed(crypto.sha256(encoder.encode(`${plan.seed}/member/${i}`))))
  const ids = keyPairs.map((pair) => toHex(pair.publicKey))
  const genesis: SolarSystemGenesis = {
    level: 0,
    group: `libp2p-${plan.seed}`,
    members: ids,
    facilitators: [...ids].sort().slice(0, plan.facilitators),
    balances: Object.fromEntries(ids.map((id) => [id, CLUSTER_BALANCE])),
  }
  return { keyPairs, ids, genesis, rules: defaultSolarSystemRules({ facilitators: plan.facilitators }) }
}

/** Wall-clock milliseconds comparable between processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now()

export interface CertificateReport {
  readonly member: number
  readonly round: number
  /** `wallNow()` when the member applied the certificate. */
  readonly at: number
  readonly resultHash: string
  /** The facilitators whose signatures the certificate carries. */
  readonly signers: readonly string[]
  readonly nextFacilitators: readonly string[]
  readonly checkpoints: number
}

export interface MemberStats {
  readonly member: number
  readonly round: number
  readonly framesSent: number
  readonly framesFailed: number
  readonly messagesSent: number
  readonly roundsFacilitated: number
  readonly certificatesRejected: number
}

/** A transaction's two half blocks, each in trustchain's wire encoding (hex). */
export interface EncodedTransaction {
  readonly proposal: string
  readonly agreement: string
}

export interface LoadReport {
  /** Transfers agreed by their counterparty. */
  readonly proposed: number
  /** Transfers that were not agreed (refused, rejected, or still pending at the answer timeout). */
  readonly failed: number
  /** Transactions final at their proposer within the window, and each one's latency from the proposal (ms). */
  readonly finalLatenciesMs: readonly number[]
  readonly firstError?: string
}

export type NodeCommand =
  | { readonly cmd: 'start'; readonly plan: SolarSystemPlan; readonly hosted: readonly number[] }
  | { readonly cmd: 'connect'; readonly addresses: readonly string[] }
  | { readonly cmd: 'run' }
  | { readonly cmd: 'propose'; readonly from: number; readonly to: number; readonly transfer: number }
  | { readonly cmd: 'await-final'; readonly member: number; readonly transaction: EncodedTransaction }
  | { readonly cmd: 'load'; readonly concurrency: number; readonly durationMs: number }
  | { readonly cmd: 'stats' }
  | { readonly cmd: 'stop' }

export type NodeReply =
  | { readonly reply: 'started'; readonly addresses: readonly { readonly member: number; readonly address: string }[] }
  | { readonly reply: 'connected'; readonly gossipReady: boolean }
  | { readonly reply: 'running' }
  | { readonly reply: 'certificate'; readonly report: CertificateReport }
  | { readonly reply: 'proposed'; readonly transaction: EncodedTransaction; readonly final: boolean }
  | { readonly reply: 'final'; readonly member: number; readonly final: boolean; readonly round: number }
  | { readonly reply: 'loaded'; readonly report: LoadReport }
  | { readonly reply: 'stats'; readonly stats: readonly MemberStats[] }
  | { readonly reply: 'error'; readonly message: string }
  | { readonly reply: 'stopped' }
