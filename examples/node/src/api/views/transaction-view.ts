/**
 * How a transaction appears in the API's JSON: its id (the proposal's hash), how far it got (`proposed`: only the
 * proposal is known here; `agreed`: both halves are stored; `final`: its agreement proof can be built), both halves
 * as block views, the value it moves, and the timings this node recorded when it proposed it.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { type BlockLimits, type HalfBlock, transferOf } from '@constellation/trustchain'
import type { TrackedTransaction } from '../../node/transaction-tracker.js'
import { type HalfBlockView, halfBlockView } from './half-block-view.js'

export type TransactionState = 'proposed' | 'agreed' | 'final'

export interface TransactionView {
  readonly id: string
  readonly status: TransactionState
  readonly from: string
  readonly to: string
  /** Value moved from `from` to `to` (0 for a payload that carries none). */
  readonly amount: number
  readonly proposal: HalfBlockView
  readonly agreement: HalfBlockView | null
  /** Set for transactions this node proposed (milliseconds since the epoch). */
  readonly submittedAt?: number
  readonly agreedAt?: number
  readonly finalAt?: number
  /** The certified round after which this node held the agreement proof. */
  readonly finalRound?: number
}

/** The halves of a transaction and how far it got, wherever they were found. */
export interface TransactionRecord {
  readonly id: string
  readonly status: TransactionState
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock | undefined
  readonly tracked?: TrackedTransaction
}

export function transactionView(crypto: Crypto, record: TransactionRecord, limits?: BlockLimits): TransactionView {
  const { proposal, agreement, tracked } = record
  return {
    id: record.id,
    status: record.status,
    from: toHex(proposal.publicKey),
    to: toHex(proposal.linkPublicKey),
    amount: transferOf(proposal.type, proposal.payload)?.amount ?? 0,
    proposal: halfBlockView(crypto, proposal, limits),
    agreement: agreement === undefined ? null : halfBlockView(crypto, agreement, limits),
    ...(tracked === undefined
      ? {}
      : {
          submittedAt: tracked.submittedAt,
          agreedAt: tracked.agreedAt,
          ...(tracked.finalAt === undefined ? {} : { finalAt: tracked.finalAt }),
          ...(tracked.finalRound === undefined ? {} : { finalRound: tracked.finalRound }),
        }),
  }
}

/** A record of a transaction this node proposed, as its tracker knows it. */
export function trackedRecord(tracked: TrackedTransaction): TransactionRecord {
  return { id: tracked.id, status: tracked.status, proposal: tracked.proposal, agreement: tracked.agreement, tracked }
}
