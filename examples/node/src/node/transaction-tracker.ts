/**
 * What the node knows about the transactions it proposed: each one's halves, when it was submitted, agreed and
 * found final; running totals (failed proposals included); and recent finality latencies for the devnet summary and the
 * metrics. Bounded: the oldest settled entries are forgotten first (the chain itself keeps every block; the
 * tracker only remembers timings). Listeners (`onChange`) hear each transaction as it becomes agreed and final: the
 * explorer's live events come from here.
 */
import type { HalfBlock } from '@constellation/trustchain'

export type TransactionStatus = 'agreed' | 'final'

/** A transaction this node proposed and its counterparty countersigned (ids exist from then on). */
export interface TrackedTransaction {
  /** Hex hash of the proposal half-block. */
  readonly id: string
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
  status: TransactionStatus
  readonly submittedAt: number
  readonly agreedAt: number
  finalAt?: number
  /** The certified round after which the node held the transaction's agreement proof. */
  finalRound?: number
}

export interface TransactionTotals {
  readonly submitted: number
  readonly agreed: number
  readonly final: number
  readonly failed: number
  /** Agreed and not yet final. */
  readonly awaitingFinality: number
}

/** Latencies kept for percentiles (the most recent ones). */
const LATENCY_SAMPLES = 50_000

export class TransactionTracker {
  readonly #byId = new Map<string, TrackedTransaction>()
  readonly #capacity: number
  #submitted = 0
  #agreed = 0
  #final = 0
  #failed = 0
  /** Finality latencies (ms, submission to final) in a ring, and the count ever recorded. */
  readonly #latencies = new Float64Array(LATENCY_SAMPLES)
  #latencyCount = 0
  readonly #listeners = new Set<(tracked: TrackedTransaction) => void>()

  constructor(capacity = 100_000) {
    this.#capacity = capacity
  }

  get totals(): TransactionTotals {
    return { submitted: this.#submitted, agreed: this.#agreed, final: this.#final, failed: this.#failed, awaitingFinality: this.#agreed - this.#final }
  }

  get(id: string): TrackedTransaction | undefined {
    return this.#byId.get(id)
  }

  /** The most recent transactions first. */
  recent(limit: number): TrackedTransaction[] {
    return [...this.#byId.values()].slice(-limit).reverse()
  }

  /**
   * Calls `listener` after each change of state (agreed, then final), with the entry as it is then; returns the
   * unsubscribe. A listener that throws does not stop the others or the tracker.
   */
  onChange(listener: (tracked: TrackedTransaction) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** A proposal went out (its id is known once it is agreed). */
  submitted(): void {
    this.#submitted++
  }

  /** A proposal was refused, timed out or could not be made. */
  failed(): void {
    this.#failed++
  }

  agreed(id: string, halves: { proposal: HalfBlock; agreement: HalfBlock }, submittedAt: number, agreedAt: number): TrackedTransaction {
    const tracked: TrackedTransaction = { id, proposal: halves.proposal, agreement: halves.agreement, status: 'agreed', submittedAt, agreedAt }
    this.#agreed++
    this.#byId.set(id, tracked)
    this.#evict()
    this.#changed(tracked)
    return tracked
  }

  final(tracked: TrackedTransaction, round: number, at: number): void {
    if (tracked.status !== 'agreed') return
    tracked.status = 'final'
    tracked.finalAt = at
    tracked.finalRound = round
    this.#final++
    this.#latencies[this.#latencyCount % LATENCY_SAMPLES] = at - tracked.submittedAt
    this.#latencyCount++
    this.#changed(tracked)
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
      // Ones awaiting finality stay: the finality watcher still holds them.
      if (tracked.status === 'final') this.#byId.delete(id)
    }
  }
}
