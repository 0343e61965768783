/**
 * Where the node's transfers are made: requests without an idempotency key go to the chain in one batch; keyed ones
 * one key at a time, a retry returning the transfer its key made (from the tracker, or as the store and the
 * consensus know it after a restart) and a key reused for another transfer refused. Each outcome becomes a tracker
 * entry, counted in the metrics, or a rejection saying why nothing was signed.
 */
import { type Crypto, equalBytes, fromHex, toHex } from '@constellation/crypto'
import type { Clock } from '@constellation/interface'
import { type AnchoredNode, type BlockStore, blockHash, isProposal, type TransferOutcome, TrustChainErrorCode } from '@constellation/trustchain'
import type { NodeMetrics } from '../metrics/node-metrics.js'
import type { FinalityRecorder } from './finality-recorder.js'
import type { TransferRejection, TransferRequest, TransferResult } from './full-node.js'
import { type IdempotencyKeys, referenceOf } from './idempotency.js'
import { storedAnswer } from './stored-answer.js'
import type { TrackedTransaction, TransactionTracker } from './transaction-tracker.js'

export interface TransferDeskOptions {
  readonly crypto: Crypto
  readonly clock: Clock
  /** The own chain's key: a transaction is restored from the store only if this node proposed it. */
  readonly publicKey: Uint8Array
  readonly store: BlockStore
  readonly chain: AnchoredNode
  readonly keys: IdempotencyKeys
  readonly transactions: TransactionTracker
  readonly finality: FinalityRecorder
  readonly metrics: NodeMetrics
}

export class TransferDesk {
  readonly #crypto: Crypto
  readonly #clock: Clock
  readonly #publicKey: Uint8Array
  readonly #store: BlockStore
  readonly #chain: AnchoredNode
  readonly #keys: IdempotencyKeys
  readonly #transactions: TransactionTracker
  readonly #finality: FinalityRecorder
  readonly #metrics: NodeMetrics

  constructor(options: TransferDeskOptions) {
    this.#crypto = options.crypto
    this.#clock = options.clock
    this.#publicKey = options.publicKey
    this.#store = options.store
    this.#chain = options.chain
    this.#keys = options.keys
    this.#transactions = options.transactions
    this.#finality = options.finality
    this.#metrics = options.metrics
  }

  /** One result per request, in order. */
  async transfer(requests: readonly TransferRequest[]): Promise<TransferResult[]> {
    const results: (TransferResult | undefined)[] = new Array(requests.length).fill(undefined)
    // Keyed requests go one key at a time (a retry waits for the request it repeats); the rest go in one batch.
    const fresh: number[] = []
    const keyed: { request: TransferRequest; index: number; key: string }[] = []
    requests.forEach((request, index) => {
      if (request.key === undefined) fresh.push(index)
      else keyed.push({ request, index, key: request.key })
    })
    const submit = async (indices: readonly number[]) => {
      if (indices.length === 0) return
      const submittedAt = this.#clock.now()
      const outcomes = await this.#chain.transfer(
        indices.map((index) => {
          const request = requests[index] as TransferRequest
          return { to: request.to, amount: request.amount, ...(request.key === undefined ? {} : { reference: referenceOf(this.#crypto, request.key) }) }
        }),
      )
      this.#keys.learn(outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [] : [outcome.proposal])))
      indices.forEach((index, i) => {
        results[index] = this.#record(outcomes[i] as TransferOutcome, submittedAt)
      })
    }
    await Promise.all([
      submit(fresh),
      ...keyed.map(({ request, index, key }) =>
        this.#keys.exclusive(key, async () => {
          results[index] = await this.#replayOf(key, request)
          if (results[index] === undefined) await submit([index])
        }),
      ),
    ])
    return results as TransferResult[]
  }

  /** Turns a trustchain outcome into the tracker's entry (or a rejection). */
  #record(outcome: TransferOutcome, submittedAt: number): TransferResult {
    const transactions = this.#transactions
    const metrics = this.#metrics
    if (outcome.status === 'rejected') {
      transactions.rejected()
      metrics.transactionsFailed.inc()
      const { error } = outcome
      const reason: TransferRejection =
        error.code === TrustChainErrorCode.INSUFFICIENT_FUNDS
          ? 'INSUFFICIENT_FUNDS'
          : error.code === TrustChainErrorCode.BUSY
            ? 'BUSY'
            : error.code === TrustChainErrorCode.NODE_STOPPED
              ? 'CLOSED'
              : 'INVALID'
      const retryAfterMs = typeof error.detail.retryAfterMs === 'number' ? error.detail.retryAfterMs : undefined
      return { kind: 'rejected', reason, message: error.message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }
    }
    const id = toHex(blockHash(this.#crypto, outcome.proposal))
    const tracked = transactions.get(id) ?? transactions.proposed(id, outcome.proposal, submittedAt)
    metrics.transactionsSubmitted.inc()
    if (outcome.status === 'agreed') {
      this.#finality.noteAgreed(tracked, outcome.agreement)
      metrics.transactionsAgreed.inc()
    } else if (outcome.status === 'refused') {
      transactions.refused(tracked, { block: outcome.void, code: outcome.code, reason: outcome.reason })
      metrics.transactionsFailed.inc()
    }
    return { kind: 'transaction', tracked, replay: false }
  }

  /** The transaction an earlier request made under `key`, as the tracker or the store knows it now. */
  async #replayOf(key: string, request: TransferRequest): Promise<TransferResult | undefined> {
    const made = this.#keys.find(key)
    if (made === undefined) return undefined
    if (made.to !== toHex(request.to) || made.amount !== request.amount) {
      // Refused before anything was signed, like an overdraft: counted with those.
      this.#transactions.rejected()
      this.#metrics.transactionsFailed.inc()
      return { kind: 'rejected', reason: 'KEY_CONFLICT', message: `the idempotency key was used for another transfer (${made.id})` }
    }
    const tracked = this.#transactions.get(made.id) ?? (await this.#restoreFromStore(made.id))
    return tracked === undefined ? undefined : { kind: 'transaction', tracked, replay: true }
  }

  /**
   * An own transaction the tracker forgot (a restart, an old one), put back as the store and the consensus know it
   * now — agreed, final in its round, refused, or still pending — without counting it again.
   */
  async #restoreFromStore(id: string): Promise<TrackedTransaction | undefined> {
    const store = this.#store
    const transactions = this.#transactions
    const proposal = await store.getByHash(fromHex(id))
    if (proposal === undefined || !isProposal(proposal) || !equalBytes(proposal.publicKey, this.#publicKey)) return undefined
    const known = { id, role: 'proposer', proposal, submittedAt: proposal.timestamp } as const
    const answer = await storedAnswer(store, proposal)
    if (answer.status === 'refused') return transactions.restore({ ...known, status: 'refused', voided: answer.voided })
    if (answer.status === 'unanswered') return transactions.restore({ ...known, status: 'pending' })
    const { agreement } = answer
    const round = await this.#finality.finalRound({ proposal, agreement })
    return transactions.restore(
      round === undefined
        ? { ...known, status: 'agreed', agreement, agreedAt: agreement.timestamp }
        : { ...known, status: 'final', agreement, agreedAt: agreement.timestamp, finalRound: round },
    )
  }
}
