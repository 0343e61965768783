/**
 * How the node learns that its transactions are final, and remembers it: a certified round's finalised leaves mark
 * the tracker's entries final (with their latency in the metrics) and go to the certificate journal, so the node can
 * name the round — and prove it, with the agreement proof — long after the consensus forgot it. Transactions a
 * restart left unrecorded (unrecorded-finality.ts) are recorded when their round comes by, or at once when the
 * restored rounds already finalised them.
 */
import {
  type AgreementProof,
  ConsensusError,
  ConsensusErrorCode,
  type FinalisedRound,
  type SolarSystemNode,
  type TransactionHalves,
} from '@constellation/consensus'
import { type Crypto, equalBytes, toHex } from '@constellation/crypto'
import type { Clock } from '@constellation/interface'
import { blockHash, type HalfBlock } from '@constellation/trustchain'
import type { NodeMetrics } from '../metrics/node-metrics.js'
import type { CertificateJournal } from './certificate-journal.js'
import type { TrackedTransaction, TransactionTracker } from './transaction-tracker.js'
import type { UnrecordedTransfer } from './unrecorded-finality.js'

export interface FinalityRecorderOptions {
  readonly crypto: Crypto
  readonly clock: Clock
  readonly consensus: SolarSystemNode
  readonly journal: CertificateJournal
  readonly transactions: TransactionTracker
  readonly metrics: NodeMetrics
  /** The node's transactions a restart found agreed but not recorded final, by the hex hash of the node's half. */
  readonly unrecorded: Map<string, UnrecordedTransfer>
  /** Where a failed journal write goes: reported, and the node runs on. */
  readonly onJournalError: (error: unknown) => void
}

export class FinalityRecorder {
  readonly #crypto: Crypto
  readonly #clock: Clock
  readonly #consensus: SolarSystemNode
  readonly #journal: CertificateJournal
  readonly #transactions: TransactionTracker
  readonly #metrics: NodeMetrics
  readonly #unrecorded: Map<string, UnrecordedTransfer>
  readonly #onJournalError: (error: unknown) => void

  constructor(options: FinalityRecorderOptions) {
    this.#crypto = options.crypto
    this.#clock = options.clock
    this.#consensus = options.consensus
    this.#journal = options.journal
    this.#transactions = options.transactions
    this.#metrics = options.metrics
    this.#unrecorded = options.unrecorded
    this.#onJournalError = options.onJournalError
  }

  /** Marks the node's transactions the round finalised, and records them in the journal for later proofs. */
  noteFinalised(finalised: FinalisedRound): void {
    const crypto = this.#crypto
    const at = this.#clock.now()
    const recorded: { id: Uint8Array; round: number }[] = []
    for (const leaf of finalised.leaves) {
      const id = toHex(leaf.subarray(0, 32))
      if (this.#unrecorded.size > 0) {
        // Keyed by this node's half: the proposal (the leaf's first hash) or the agreement (its second).
        const key = this.#unrecorded.has(id) ? id : toHex(leaf.subarray(32))
        const earlier = this.#unrecorded.get(key)
        if (earlier !== undefined && equalBytes(blockHash(crypto, earlier.agreement), leaf.subarray(32))) {
          this.#unrecorded.delete(key)
          recorded.push({ id: earlier.id, round: finalised.round })
        }
      }
      const tracked = this.#transactions.get(id)
      if (tracked?.agreement === undefined || toHex(blockHash(crypto, tracked.agreement)) !== toHex(leaf.subarray(32))) continue
      this.#transactions.final(tracked, finalised.round, at)
      recorded.push({ id: leaf.slice(0, 32), round: finalised.round })
      // A restored one was counted by the run that proposed it.
      if (tracked.role === 'proposer' && tracked.restored === undefined) this.#countFinal(tracked, at)
    }
    this.#journal.recordFinal(recorded).catch(this.#onJournalError)
  }

  /** An own proposal's agreement, noted; final at once when a round already finalised it. */
  noteAgreed(tracked: TrackedTransaction, agreement: HalfBlock): void {
    if (tracked.status !== 'pending') return
    const round = this.#consensus.finalisedIn({ proposal: tracked.proposal, agreement })
    const at = this.#clock.now()
    this.#transactions.agreed(tracked, agreement, at, round)
    if (round === undefined) return
    this.#journal.recordFinal([{ id: blockHash(this.#crypto, tracked.proposal), round }]).catch(this.#onJournalError)
    if (tracked.restored === undefined) this.#countFinal(tracked, at)
  }

  /** Those the consensus finalised in a round it restored from the journal (no listener hears those): recorded now. */
  recordRestored(): void {
    const restoredFinal: { id: Uint8Array; round: number }[] = []
    for (const [key, earlier] of this.#unrecorded) {
      const round = this.#consensus.finalisedIn({ proposal: earlier.proposal, agreement: earlier.agreement })
      if (round === undefined) continue
      this.#unrecorded.delete(key)
      restoredFinal.push({ id: earlier.id, round })
    }
    if (restoredFinal.length > 0) this.#journal.recordFinal(restoredFinal).catch(this.#onJournalError)
  }

  /** The round that finalised a transaction: the tracker, the consensus's recent rounds, then the journal. */
  async finalRound(halves: TransactionHalves): Promise<number | undefined> {
    const crypto = this.#crypto
    const id = blockHash(crypto, halves.proposal)
    const tracked = this.#transactions.get(toHex(id))
    if (
      tracked?.finalRound !== undefined &&
      tracked.agreement !== undefined &&
      equalBytes(blockHash(crypto, tracked.agreement), blockHash(crypto, halves.agreement))
    ) {
      return tracked.finalRound
    }
    return this.#consensus.finalisedIn(halves) ?? (await this.#journal.finalRound(id))
  }

  /** The transaction's agreement proof; NOT_FINAL (consensus) until it is final. */
  async agreementProof(halves: TransactionHalves): Promise<AgreementProof> {
    const round = await this.finalRound(halves)
    const consensus = this.#consensus
    if (round !== undefined && consensus.finalisedRound(round) === undefined) {
      // Older than the rounds the consensus keeps: the journal has the certificate with its leaves.
      const certificate = await this.#journal.certificate(round)
      if (certificate?.finalised !== undefined) return consensus.agreementProof(halves, { certificate, leaves: certificate.finalised })
    }
    if (round === undefined) throw new ConsensusError(ConsensusErrorCode.NOT_FINAL, 'the transaction is not final yet', {})
    return consensus.agreementProof(halves)
  }

  #countFinal(tracked: TrackedTransaction, at: number): void {
    this.#metrics.transactionsFinal.inc()
    this.#metrics.finalityLatency.observe((at - tracked.submittedAt) / 1000)
  }
}
