/**
 * How a transaction appears in the API's JSON: its id (the proposal's hash), how far it got (`pending`: proposed,
 * no answer yet, it may still be agreed; `proposed`: only the proposal is known here; `agreed`: both halves are
 * signed; `refused`: the counterparty refused and the proposal was voided — nothing moved; `final`: the consensus
 * finalised it and its agreement proof can be built), which side this node is on (`role`: outgoing as the proposer,
 * incoming as the counterparty), both halves (and a void) as block views, the value it moves, and the timings this
 * node recorded.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { type BlockLimits, type HalfBlock, transferOf } from '@constellation/trustchain'
import type { TrackedTransaction, TransactionRole, VoidedProposal } from '../../node/transaction-tracker.js'
import { type HalfBlockView, halfBlockView } from './half-block-view.js'

export type TransactionState = 'pending' | 'proposed' | 'agreed' | 'refused' | 'final'

export interface TransactionView {
  readonly id: string
  readonly status: TransactionState
  /** This node's side: `proposer` (outgoing) or `counterparty` (incoming); absent when it is party to neither. */
  readonly role?: TransactionRole
  readonly from: string
  readonly to: string
  /** Value moved from `from` to `to` (0 for a payload that carries none). */
  readonly amount: number
  readonly proposal: HalfBlockView
  readonly agreement: HalfBlockView | null
  /** A refused transaction: the void that returned its amount, and the counterparty's reason. */
  readonly refusal?: { readonly code: string; readonly reason: string; readonly void: HalfBlockView }
  /** Set for transactions this node is party to (milliseconds since the epoch). */
  readonly submittedAt?: number
  readonly agreedAt?: number
  readonly finalAt?: number
  /** The certified round that finalised it. */
  readonly finalRound?: number
}

/** The halves of a transaction and how far it got, wherever they were found. */
export interface TransactionRecord {
  readonly id: string
  readonly status: TransactionState
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock | undefined
  readonly role?: TransactionRole
  /** A refused one: the void, and the refusal as far as it is known. */
  readonly voided?: VoidedProposal
  /** The tracker's entry, for the timings. */
  readonly tracked?: TrackedTransaction
}

export function transactionView(crypto: Crypto, record: TransactionRecord, limits?: BlockLimits): TransactionView {
  const { proposal, agreement, voided, tracked } = record
  return {
    id: record.id,
    status: record.status,
    ...(record.role === undefined ? {} : { role: record.role }),
    from: toHex(proposal.publicKey),
    to: toHex(proposal.linkPublicKey),
    amount: transferOf(proposal.type, proposal.payload)?.amount ?? 0,
    proposal: halfBlockView(crypto, proposal, limits),
    agreement: agreement === undefined ? null : halfBlockView(crypto, agreement, limits),
    ...(voided === undefined ? {} : { refusal: { code: voided.code, reason: voided.reason, void: halfBlockView(crypto, voided.block, limits) } }),
    ...(tracked === undefined
      ? {}
      : {
          submittedAt: tracked.submittedAt,
          ...(tracked.agreedAt === undefined ? {} : { agreedAt: tracked.agreedAt }),
          ...(tracked.finalAt === undefined ? {} : { finalAt: tracked.finalAt }),
          ...(tracked.finalRound === undefined ? {} : { finalRound: tracked.finalRound }),
        }),
  }
}

/** A record of a transaction this node is party to, as its tracker knows it. */
export function trackedRecord(tracked: TrackedTransaction): TransactionRecord {
  return {
    id: tracked.id,
    status: tracked.status,
    role: tracked.role,
    proposal: tracked.proposal,
    agreement: tracked.agreement,
    ...(tracked.voided === undefined ? {} : { voided: tracked.voided }),
    tracked,
  }
}
