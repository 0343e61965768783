/**
 * What the node knows about the transactions it is party to: the ones it proposed (from signing to final, or to
 * refused), and the ones it agreed to as counterparty (from agreed to final); running totals (transfers refused
 * before anything was signed included); and recent finality latencies for the devnet summary and the metrics.
 * Bounded: the oldest settled entries are forgotten first (the chain itself keeps every block; the tracker only
 * remembers timings). A forgotten transaction (an old one, or one from before a restart) can be put back as the
 * chain and the consensus know it (`restore`): it is shown again, but counted in no total and no latency, since
 * this run did not see it happen. Listeners (`onChange`) hear each entry as its status changes: the explorer's live
 * events come from here.
 */
import type { HalfBlock } from '@constellation/trustchain'

/**
 * `pending`: proposed, no answer yet (it may still be agreed); `agreed`: both halves signed; `refused`: the
 * counterparty refused and the proposal was voided (nothing moved, never final); `final`: the consensus finalised it.
 */
export type TransactionStatus = 'pending' | 'agreed' | 'refused' | 'final'

/** Whether this node proposed a transaction (outgoing) or agreed to another node's proposal (incoming). */
export type TransactionRole = 'proposer' | 'counterparty'

/** The void that returned a refused proposal's amount, and why the counterparty refused. */
export interface VoidedProposal {
  readonly block: HalfBlock
  readonly code: string
  readonly reason: string
}

export interface TrackedTransaction {
  /** Hex hash of the proposal half-block. */
  readonly id: string
  readonly role: TransactionRole
  readonly proposal: HalfBlock
  agreement?: HalfBlock
  voided?: VoidedProposal
  status: TransactionStatus
  readonly submittedAt: number
  agreedAt?: number
  finalAt?: number
  /** The certified round that finalised it. */
  finalRound?: number
  /** Put back by `restore`: an earlier run counted it, so none of its changes count in this run's totals. */
  readonly restored?: true
}

/**
 * A transaction the tracker forgot, as the chain and the consensus know it now: its status with what that status
 * needs (the agreement; the void; the round that finalised it). The times are the blocks' own timestamps, as this
 * run did not see the transaction happen.
 */
export type RestoredTransaction = {
  readonly id: string
  readonly role: TransactionRole
  readonly proposal: HalfBlock
  readonly submittedAt: number
} & (
  | { readonly status: 'pending' }
  | { readonly status: 'agreed'; readonly agreement: HalfBlock; readonly agreedAt: number }
  | { readonly status: 'refused'; readonly voided: VoidedProposal }
  | { readonly status: 'final'; readonly agreement: HalfBlock; readonly agreedAt: number; readonly finalRound: number }
)

export interface TransactionTotals {
  /** Proposals this node signed. */
  readonly submitted: number
  /** Of those: agreed (final ones included), refused (voided), and still waiting for an answer. */
  readonly agreed: number
  readonly refused: number
  readonly pending: number
  /** Proposals of this node the consensus finalised. */
  readonly final: number
  /** Transfers refused before anything was signed (an overdraft, a bound reached, a bad order). */
  readonly rejected: number
  /** Transactions this node agreed to as counterparty, and how many of those are final. */
  readonly incoming: number
  readonly incomingFinal: number
  /** Own transactions agreed and not yet final. */
  readonly awaitingFinality: number
}

/** Latencies kept for percentiles (the most recent ones). */
const LATENCY_SAMPLES = 50_000

export class TransactionTracker {
  readonly #byId = new Map<string, TrackedTransaction>()
  readonly #capacity: number
  #submitted = 0
  #agreed = 0
  #refused = 0
  #final = 0
  #rejected = 0
  #incoming = 0
  #incomingFinal = 0
  /** Finality latencies (ms, submission to final) in a ring, and the count ever recorded. */
  readonly #latencies = new Float64Array(LATENCY_SAMPLES)
  #latencyCount = 0
  readonly #listeners = new Set<(tracked: TrackedTransaction) => void>()

  constructor(capacity = 100_000) {
    this.#capacity = capacity
  }

  get totals(): TransactionTotals {
    return {
      submitted: this.#submitted,
      agreed: this.#agreed,
      refused: this.#refused,
      pending: this.#submitted - this.#agreed - this.#refused,
      final: this.#final,
      rejected: this.#rejected,
      incoming: this.#incoming,
      incomingFinal: this.#incomingFinal,
      awaitingFinality: this.#agreed - this.#final,
    }
  }

  get(id: string): TrackedTransaction | undefined {
    return this.#byId.get(id)
  }

  /** The most recent transactions this node proposed, newest first. */
  recent(limit: number): TrackedTransaction[] {
    const out: TrackedTransaction[] = []
    for (const tracked of [...this.#byId.values()].reverse()) {
      if (tracked.role !== 'proposer') continue
      out.push(tracked)
      if (out.length === limit) break
    }
    return out
  }

  /**
   * Calls `listener` after each change of status, with the entry as it is then; returns the unsubscribe. A listener
   * that throws does not stop the others or the tracker.
   */
  onChange(listener: (tracked: TrackedTransaction) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Transfers refused before anything was signed. */
  rejected(count = 1): void {
    this.#rejected += count
  }

  /** An own proposal was signed and sent. */
  proposed(id: string, proposal: HalfBlock, submittedAt: number): TrackedTransaction {
    const tracked: TrackedTransaction = { id, role: 'proposer', proposal, status: 'pending', submittedAt }
    this.#submitted++
    this.#byId.set(id, tracked)
    this.#evict()
    this.#changed(tracked)
    return tracked
  }

  /**
   * The counterparty agreed to an own proposal. `finalRound` is the round that already finalised the transfer, when
   * the answer reached this node after it: the counterparty checkpointed its agreement while the answer was slow or
   * lost, and that round's leaves found nothing to mark then. The transfer is then final at once.
   */
  agreed(tracked: TrackedTransaction, agreement: HalfBlock, at: number, finalRound?: number): void {
    if (tracked.status !== 'pending') return
    tracked.agreement = agreement
    tracked.status = 'agreed'
    tracked.agreedAt = at
    if (tracked.restored === undefined) this.#agreed++
    if (finalRound !== undefined) {
      this.final(tracked, finalRound, at)
      return
    }
    this.#changed(tracked)
  }

  /** The counterparty refused an own proposal, which `block` voided. */
  refused(tracked: TrackedTransaction, voided: VoidedProposal): void {
    if (tracked.status !== 'pending') return
    tracked.voided = voided
    tracked.status = 'refused'
    if (tracked.restored === undefined) this.#refused++
    this.#changed(tracked)
  }

  /**
   * Puts back a transaction the tracker forgot (an idempotent replay after a restart finds it in the chain), or
   * returns the entry it holds. Nothing is counted, now or when it settles or becomes final later: the run that
   * proposed or agreed to it counted it. No listener hears it either, as its status did not change.
   */
  restore(known: RestoredTransaction): TrackedTransaction {
    const held = this.#byId.get(known.id)
    if (held !== undefined) return held
    const tracked: TrackedTransaction = {
      id: known.id,
      role: known.role,
      proposal: known.proposal,
      status: known.status,
      submittedAt: known.submittedAt,
      restored: true,
      ...(known.status === 'agreed' || known.status === 'final' ? { agreement: known.agreement, agreedAt: known.agreedAt } : {}),
      ...(known.status === 'final' ? { finalRound: known.finalRound } : {}),
      ...(known.status === 'refused' ? { voided: known.voided } : {}),
    }
    this.#byId.set(known.id, tracked)
    this.#evict()
    return tracked
  }

  /** This node agreed to another node's proposal. */
  incoming(id: string, proposal: HalfBlock, agreement: HalfBlock, at: number): TrackedTransaction {
    const held = this.#byId.get(id)
    if (held !== undefined) return held
    const tracked: TrackedTransaction = { id, role: 'counterparty', proposal, agreement, status: 'agreed', submittedAt: at, agreedAt: at }
    this.#incoming++
    this.#byId.set(id, tracked)
    this.#evict()
    this.#changed(tracked)
    return tracked
  }

  /** The consensus finalised it in `round`. */
  final(tracked: TrackedTransaction, round: number, at: number): void {
    if (tracked.status !== 'agreed') return
    tracked.status = 'final'
    tracked.finalAt = at
    tracked.finalRound = round
    // A restored one was counted by the run that saw it proposed or agreed (and its latency would span the restart).
    if (tracked.restored === undefined) this.#countFinal(tracked, at)
    this.#changed(tracked)
  }

  #countFinal(tracked: TrackedTransaction, at: number): void {
    if (tracked.role === 'counterparty') {
      this.#incomingFinal++
      return
    }
    this.#final++
    this.#latencies[this.#latencyCount % LATENCY_SAMPLES] = at - tracked.submittedAt
    this.#latencyCount++
  }

  #changed(tracked: TrackedTransaction): void {
    for (const listener of this.#listeners) {
      try {
        listener(tracked)
      } catch {
        // A listener's failure is its own (the explorer drops a broken stream itself): the tracker's books stay right.
      }
    }
  }

  /** Finality latencies in milliseconds, oldest first (at most the last 50,000). */
  latencies(): number[] {
    const count = Math.min(this.#latencyCount, LATENCY_SAMPLES)
    const start = this.#latencyCount - count
    return Array.from({ length: count }, (_, i) => this.#latencies[(start + i) % LATENCY_SAMPLES] as number)
  }

  #evict(): void {
    if (this.#byId.size <= this.#capacity) return
    for (const [id, tracked] of this.#byId) {
      if (this.#byId.size <= this.#capacity) return
      // Settled ones go first; the ones still under way stay until they settle.
      if (tracked.status === 'final' || tracked.status === 'refused') this.#byId.delete(id)
    }
  }
}
