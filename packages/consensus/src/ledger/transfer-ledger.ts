/**
 * The certified transfer ledger of a solar system: what each member may spend, and the transfers under way.
 *
 * Facilitators certify a member's checkpoint only with the summary of the stretch it closes (trustchain's
 * `checkStretch`: signatures, links, running balances), so a certified stretch's proposals are real debits of a
 * chain that could pay them. Value moves between members only when both halves of a transfer are certified and
 * match — the proposal in the proposer's certified stretch, the agreement by the named counterparty in its own, for
 * the same amount — and only then does the receiver's `spendable` balance grow: a fork's second branch, a proposal
 * never answered or a refused one can never credit anyone. Each round's result lists the transfers that became
 * final that round (their leaves: proposal hash and agreement hash), the basis of agreement proofs.
 *
 * `settleLedger` is the fold's pure step: from the certified state and the round's included summaries it derives
 * the delta every member applies (`applyLedgerDelta`), so followers never need the summaries themselves:
 *   1. each stretch's debits leave its member's spendable balance;
 *   2. each debit meets an agreement that was certified first (`awaiting`), or waits for one (`open`);
 *   3. each credit meets its open proposal (final: the counterparty's spendable grows), or waits for it unless the
 *      proposal is already certified (then it answers a fork, a voided or another's proposal: it credits nothing);
 *   4. each settlement across solar systems (below) closes its entry;
 *   5. each void whose counterparty's refusal checks returns an open proposal's amount to its proposer.
 * Credits and settlements come before voids: of an agreement and a void certified in one round, the agreement counts.
 *
 * **Across solar systems** the two halves are certified by two consensuses, and the proposer's is the authority: it
 * alone can order the answer against a void of the same proposal. So a transfer from a member of system P to a
 * member of system C settles in two steps, each a `ForeignSettlement` the facilitators vouch for with the t + 1 rule
 * (the fold counts them; see `result-fold.ts`):
 *   - `agreed`, in P: the counterparty (not a member of P) signed an agreement answering the open proposal. The
 *     proposal closes, the transfer is final in P (its leaf is in P's result) and nothing is credited in P.
 *   - `final`, in C: P finalised the transfer, shown by a rooted agreement proof (P's certificate and the path that
 *     commits it under the root). The agreement, certified in C and waiting for its proposal (`awaiting`, as any
 *     credit whose proposal is not certified here), meets it: the counterparty's spendable balance grows, and the
 *     leaf goes in C's result too, so the transfer has an agreement proof in either system.
 * A counterparty that signed both an agreement and a refusal gets what P decided first: a void in P returns the
 * amount, and C never credits an agreement P did not finalise.
 */
import { type Crypto, encodeCanonical, equalBytes, fromHex, HASH_LENGTH, toHex } from '@constellation/crypto'
import { checkRefusal, type StretchSummary, ZERO_HASH } from '@constellation/trustchain'
import * as t from 'io-ts'
import { bytesOfLength, closedRecord, integerIn, listUpTo, PeerIdBytesCodec } from '../codec/fields.js'
import { merkleRoot } from '../hierarchy/merkle.js'

/** Ledger entries (debits, credits, voids) one round takes in at most: keeps a result within one network message. */
export const MAX_LEDGER_ENTRIES_PER_ROUND = 4_096
/** Rounds an agreement waits for its proposal before it is dropped (a proposal that never comes credits nothing). */
export const AWAITING_ROUNDS = 1_024
/**
 * Rounds an agreement to another solar system's proposal waits for that system's rooted settlement before it is
 * dropped: the proposer's system, the root and this one must each certify in turn (see the module comment).
 */
export const FOREIGN_AWAITING_ROUNDS = 65_536

export interface OpenProposal {
  readonly proposer: string
  readonly sequenceNumber: number
  readonly hash: Uint8Array
  readonly counterparty: string
  readonly amount: number
}

export interface AwaitingAgreement {
  /** The proposal it answers. */
  readonly proposer: string
  readonly sequenceNumber: number
  /** The agreement: its author, position and hash. */
  readonly counterparty: string
  readonly agreementSequenceNumber: number
  readonly hash: Uint8Array
  readonly amount: number
  /** The round that certified it. */
  readonly round: number
}

export interface TransferLedger {
  /** What each member may spend (a member not listed: 0). */
  readonly spendable: ReadonlyMap<string, number>
  /** Certified proposals waiting for their certified answer, by `proposer/sequence`. */
  readonly open: ReadonlyMap<string, OpenProposal>
  /** Certified agreements waiting for their certified proposal, by the proposal's `proposer/sequence`. */
  readonly awaiting: ReadonlyMap<string, AwaitingAgreement>
}

export const proposalKey = (proposer: string, sequenceNumber: number): string => `${proposer}/${sequenceNumber}`

const Hash = bytesOfLength(HASH_LENGTH, 'Hash')
const Sequence = integerIn(1, Number.MAX_SAFE_INTEGER, 'SequenceNumber')
const Amount = integerIn(1, Number.MAX_SAFE_INTEGER, 'Amount')

export const LedgerDeltaCodec = closedRecord('LedgerDelta', {
  /** New spendable balances of the members whose balance changed, ascending by member. */
  spendable: listUpTo(
    closedRecord('Spendable', { member: PeerIdBytesCodec, amount: integerIn(0, Number.MAX_SAFE_INTEGER, 'Spendable') }),
    1 << 16,
    'SpendableBalances',
  ),
  /** Proposals certified this round that wait for their answer. */
  opened: listUpTo(
    closedRecord('OpenedProposal', { proposer: PeerIdBytesCodec, sequenceNumber: Sequence, hash: Hash, counterparty: PeerIdBytesCodec, amount: Amount }),
    MAX_LEDGER_ENTRIES_PER_ROUND,
    'Opened',
  ),
  /** Agreements certified this round that wait for their proposal. */
  awaiting: listUpTo(
    closedRecord('AwaitingAgreement', {
      proposer: PeerIdBytesCodec,
      sequenceNumber: Sequence,
      counterparty: PeerIdBytesCodec,
      agreementSequenceNumber: Sequence,
      hash: Hash,
      amount: Amount,
    }),
    MAX_LEDGER_ENTRIES_PER_ROUND,
    'Awaiting',
  ),
  /** Entries of `open` or `awaiting` that end this round (answered, voided, dead or expired), removed before the additions. */
  closed: listUpTo(closedRecord('ClosedEntry', { proposer: PeerIdBytesCodec, sequenceNumber: Sequence }), MAX_LEDGER_ENTRIES_PER_ROUND + (1 << 16), 'Closed'),
  /** Merkle root of the round's finalised transfers (`finalisedLeaf`), in the order the fold found them. */
  finalised: Hash,
  finalisedCount: integerIn(0, MAX_LEDGER_ENTRIES_PER_ROUND, 'FinalisedCount'),
})
export type LedgerDelta = t.TypeOf<typeof LedgerDeltaCodec>

export const EMPTY_LEDGER_DELTA: LedgerDelta = Object.freeze({ spendable: [], opened: [], awaiting: [], closed: [], finalised: ZERO_HASH, finalisedCount: 0 })

/** The leaf of a finalised transfer: its proposal's hash, then its agreement's. */
export function finalisedLeaf(proposalHash: Uint8Array, agreementHash: Uint8Array): Uint8Array {
  const leaf = new Uint8Array(2 * HASH_LENGTH)
  leaf.set(proposalHash, 0)
  leaf.set(agreementHash, HASH_LENGTH)
  return leaf
}

/** The genesis ledger: opening balances spendable, nothing under way. */
export function genesisLedger(balances: ReadonlyMap<string, number>): TransferLedger {
  return { spendable: new Map([...balances].filter(([, amount]) => amount > 0)), open: new Map(), awaiting: new Map() }
}

/**
 * A settlement of a transfer between two solar systems, vouched for by t + 1 facilitators who checked its evidence:
 * `agreed` (in the proposer's system: the counterparty's signed agreement) or `final` (in the counterparty's: the
 * proposer's system's rooted agreement proof).
 */
export interface ForeignSettlement {
  readonly kind: 'agreed' | 'final'
  readonly proposer: string
  readonly sequenceNumber: number
  readonly proposal: Uint8Array
  readonly agreement: Uint8Array
}

export const ForeignSettlementCodec = closedRecord('ForeignSettlement', {
  kind: t.keyof({ agreed: null, final: null }, 'SettlementKind'),
  proposer: PeerIdBytesCodec,
  sequenceNumber: Sequence,
  proposal: Hash,
  agreement: Hash,
})

export interface SettleInput {
  readonly crypto: Crypto
  readonly ledger: TransferLedger
  /** The round being folded. */
  readonly round: number
  /** Each member's certified checkpoint position after this round (to tell a proposal already certified). */
  readonly certifiedThrough: (member: string) => number
  /** The included stretches, ascending by member. */
  readonly stretches: readonly { readonly member: string; readonly summary: StretchSummary }[]
  /** Whether a key is a member of this solar system (settlements concern transfers with a non-member). */
  readonly isMember?: (key: string) => boolean
  /** Settlements across solar systems the round's facilitators vouched for, at most one per proposal, in order. */
  readonly settlements?: readonly ForeignSettlement[]
}

export interface Settlement {
  readonly delta: LedgerDelta
  /** The finalised transfers' leaves (`finalisedLeaf`), in order: their root is `delta.finalised`. */
  readonly leaves: readonly Uint8Array[]
}

/** The round's ledger delta (see the module comment). Pure. */
export function settleLedger(input: SettleInput): Settlement {
  const { crypto, ledger, round, stretches } = input
  const spendable = new Map(ledger.spendable)
  const open = new Map(ledger.open)
  const awaiting = new Map(ledger.awaiting)
  const changed = new Set<string>()
  const closed = new Map<string, { proposer: string; sequenceNumber: number }>()
  const opened = new Map<string, OpenProposal>()
  const waiting = new Map<string, AwaitingAgreement>()
  const leaves: Uint8Array[] = []
  const credit = (member: string, amount: number) => {
    spendable.set(member, (spendable.get(member) ?? 0) + amount)
    changed.add(member)
  }
  const close = (key: string, proposer: string, sequenceNumber: number) => {
    // An entry added this round and closed in it never needs to reach the followers.
    if (opened.delete(key) || waiting.delete(key)) return
    closed.set(key, { proposer, sequenceNumber })
  }

  for (const { member, summary } of stretches) {
    if (summary.spent > 0) {
      spendable.set(member, (spendable.get(member) ?? 0) - summary.spent)
      changed.add(member)
    }
  }
  for (const { member, summary } of stretches) {
    for (const debit of summary.debits) {
      const key = proposalKey(member, debit.sequenceNumber)
      const counterparty = toHex(debit.counterparty)
      const answer = awaiting.get(key)
      if (answer !== undefined) {
        awaiting.delete(key)
        close(key, member, debit.sequenceNumber)
        if (answer.counterparty === counterparty && answer.amount === debit.amount) {
          leaves.push(finalisedLeaf(debit.hash, answer.hash))
          credit(counterparty, debit.amount)
          continue
        }
        // The agreement answered another proposal at this position (a fork, not certified): it credits nothing.
      }
      const entry: OpenProposal = { proposer: member, sequenceNumber: debit.sequenceNumber, hash: debit.hash, counterparty, amount: debit.amount }
      open.set(key, entry)
      opened.set(key, entry)
    }
  }
  for (const { member, summary } of stretches) {
    for (const creditEntry of summary.credits) {
      const proposer = toHex(creditEntry.proposer)
      const key = proposalKey(proposer, creditEntry.proposalSequenceNumber)
      const proposal = open.get(key)
      if (proposal !== undefined) {
        if (proposal.counterparty !== member || proposal.amount !== creditEntry.amount) continue // answers a proposal made to another, or of another amount
        open.delete(key)
        close(key, proposer, creditEntry.proposalSequenceNumber)
        leaves.push(finalisedLeaf(proposal.hash, creditEntry.hash))
        credit(member, creditEntry.amount)
        continue
      }
      // Certified already and not open: voided, answered before, or not this member's. A second agreement waiting for
      // one proposal is dead too: the first one certified is the answer.
      if (creditEntry.proposalSequenceNumber <= input.certifiedThrough(proposer) || awaiting.has(key)) continue
      const entry: AwaitingAgreement = {
        proposer,
        sequenceNumber: creditEntry.proposalSequenceNumber,
        counterparty: member,
        agreementSequenceNumber: creditEntry.sequenceNumber,
        hash: creditEntry.hash,
        amount: creditEntry.amount,
        round,
      }
      awaiting.set(key, entry)
      waiting.set(key, entry)
    }
  }
  const isMember = input.isMember ?? (() => true)
  for (const settlement of input.settlements ?? []) {
    const key = proposalKey(settlement.proposer, settlement.sequenceNumber)
    if (settlement.kind === 'agreed') {
      // Our member's proposal to someone outside: final here once they signed; they are credited in their own system.
      const proposal = open.get(key)
      if (proposal === undefined || isMember(proposal.counterparty) || !equalBytes(proposal.hash, settlement.proposal)) continue
      open.delete(key)
      close(key, settlement.proposer, settlement.sequenceNumber)
      leaves.push(finalisedLeaf(proposal.hash, settlement.agreement))
      continue
    }
    // Someone outside paid our member, and their system finalised it: the waiting agreement credits now.
    const answer = awaiting.get(key)
    if (answer === undefined || isMember(settlement.proposer) || !equalBytes(answer.hash, settlement.agreement)) continue
    awaiting.delete(key)
    close(key, settlement.proposer, settlement.sequenceNumber)
    leaves.push(finalisedLeaf(settlement.proposal, answer.hash))
    credit(answer.counterparty, answer.amount)
  }
  for (const { member, summary } of stretches) {
    for (const voided of summary.voids) {
      const key = proposalKey(member, voided.proposalSequenceNumber)
      const proposal = open.get(key)
      if (proposal === undefined || proposal.amount !== voided.amount) continue
      if (!checkRefusal(crypto, { hash: proposal.hash, counterparty: fromHex(proposal.counterparty) }, voided.refusal)) continue
      open.delete(key)
      close(key, member, voided.proposalSequenceNumber)
      credit(member, voided.amount)
    }
  }
  // An agreement whose proposal never came within the window is dropped: it credits nothing, and the state stays bounded.
  // One answering another solar system's proposal waits longer: that system and the root must settle it first.
  for (const [key, entry] of awaiting) {
    if (entry.round <= round - (isMember(entry.proposer) ? AWAITING_ROUNDS : FOREIGN_AWAITING_ROUNDS)) {
      awaiting.delete(key)
      close(key, entry.proposer, entry.sequenceNumber)
    }
  }
  const byKey = <V>(entries: Iterable<[string, V]>) => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, value]) => value)
  const delta: LedgerDelta = {
    spendable: [...changed].sort().map((member) => ({ member, amount: spendable.get(member) ?? 0 })),
    opened: byKey(opened),
    awaiting: byKey(waiting).map(({ round: _round, ...rest }) => rest),
    closed: byKey(closed),
    finalised: merkleRoot(crypto, leaves),
    finalisedCount: leaves.length,
  }
  return { delta, leaves }
}

/** The ledger after `delta` (a certified round's), as every member applies it. */
export function applyLedgerDelta(ledger: TransferLedger, delta: LedgerDelta, round: number): TransferLedger {
  if (delta.spendable.length === 0 && delta.closed.length === 0 && delta.opened.length === 0 && delta.awaiting.length === 0) return ledger
  const spendable = new Map(ledger.spendable)
  for (const { member, amount } of delta.spendable) {
    if (amount === 0) spendable.delete(member)
    else spendable.set(member, amount)
  }
  const open = new Map(ledger.open)
  const awaiting = new Map(ledger.awaiting)
  for (const { proposer, sequenceNumber } of delta.closed) {
    const key = proposalKey(proposer, sequenceNumber)
    open.delete(key)
    awaiting.delete(key)
  }
  for (const entry of delta.opened) open.set(proposalKey(entry.proposer, entry.sequenceNumber), entry)
  for (const entry of delta.awaiting) awaiting.set(proposalKey(entry.proposer, entry.sequenceNumber), { ...entry, round })
  return { spendable, open, awaiting }
}

/** A canonical digest of the ledger (for tests and diagnostics: equal ledgers, equal digests). */
export function ledgerDigest(crypto: Crypto, ledger: TransferLedger): Uint8Array {
  const sorted = <V>(map: ReadonlyMap<string, V>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return crypto.sha256(
    encodeCanonical([
      sorted(ledger.spendable).map(([member, amount]) => [member, amount]),
      sorted(ledger.open).map(([key, o]) => [key, o.hash, o.counterparty, o.amount]),
      sorted(ledger.awaiting).map(([key, a]) => [key, a.counterparty, a.agreementSequenceNumber, a.hash, a.amount, a.round]),
    ]),
  )
}
