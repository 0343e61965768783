/**
 * Watches the node's agreed transactions until each is final. After every certificate it makes one pass over
 * those whose halves are now enclosed by certified checkpoints and builds their agreement proofs one after the
 * other: the first transaction with a counterparty crawls and verifies that counterparty's fragment, and the rest in
 * the same fragment find it in the store and the fragment cache. (A `waitForFinality` per transaction would start
 * all of them at once, and a thousand transactions in one fragment would crawl it a thousand times.)
 */
import { type AgreementProof, ConsensusErrorCode, isConsensusError, isEnclosed, type SolarSystemNode } from '@constellation/consensus'
import type { TrackedTransaction } from './transaction-tracker.js'

export interface FinalityWatcherOptions {
  readonly consensus: SolarSystemNode
  readonly onFinal: (tracked: TrackedTransaction, proof: AgreementProof, round: number) => void
  readonly onError: (error: unknown) => void
}

export class FinalityWatcher {
  readonly #options: FinalityWatcherOptions
  /** Awaiting finality, in the order they were agreed. */
  readonly #pending = new Map<string, TrackedTransaction>()
  #passing = false
  #again = false
  #closed = false
  readonly #off: () => void

  constructor(options: FinalityWatcherOptions) {
    this.#options = options
    this.#off = options.consensus.onCertificate(() => this.#schedule())
  }

  get pending(): number {
    return this.#pending.size
  }

  watch(tracked: TrackedTransaction): void {
    if (this.#closed) return
    this.#pending.set(tracked.id, tracked)
  }

  close(): void {
    this.#closed = true
    this.#off()
    this.#pending.clear()
  }

  #schedule(): void {
    if (this.#passing) {
      this.#again = true
      return
    }
    this.#passing = true
    void this.#pass().finally(() => {
      this.#passing = false
      if (this.#again && !this.#closed) {
        this.#again = false
        this.#schedule()
      }
    })
  }

  async #pass(): Promise<void> {
    const { consensus } = this.#options
    for (const tracked of [...this.#pending.values()]) {
      if (this.#closed) return
      const halves = { proposal: tracked.proposal, agreement: tracked.agreement }
      if (!isEnclosed(consensus.history, halves)) continue
      try {
        const proof = await consensus.agreementProof(halves)
        this.#pending.delete(tracked.id)
        this.#options.onFinal(tracked, proof, consensus.history.round)
      } catch (error) {
        // The node closed under this pass (its store with it): nothing to report.
        if (this.#closed) return
        // Not final yet (the counterparty's fragment could not be fetched, say): tried again after the next certificate.
        if (!isConsensusError(error, ConsensusErrorCode.NOT_FINAL)) {
          this.#pending.delete(tracked.id)
          this.#options.onError(error)
        }
      }
    }
  }
}
