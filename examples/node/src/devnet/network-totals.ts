/**
 * The devnet's running view of the network: each node's last answer to `GET /v1/status`, added up. A node that
 * does not answer (it exited, or is too busy) keeps its last known figures, so the totals never go backwards and one
 * gone node does not blind the progress line or the summary; `answering` says how many answered this time.
 */
import type { NodeApi, NodeStatusView } from './node-api.js'

export interface NetworkTotals {
  /** The highest certified round any node reports. */
  readonly round: number
  readonly submitted: number
  readonly agreed: number
  readonly final: number
  /** Transfers the counterparty refused (their proposals voided). */
  readonly refused: number
  /** Transfers refused before anything was signed (back-pressure, funds, bad input). */
  readonly rejected: number
  /** Proposals still waiting for their counterparty's answer. */
  readonly pending: number
  readonly awaitingFinality: number
  /** Nodes that answered this refresh. */
  readonly answering: number
}

export class NetworkStatus {
  readonly #apis: readonly NodeApi[]
  readonly #last: (NodeStatusView | undefined)[]

  constructor(apis: readonly NodeApi[]) {
    this.#apis = apis
    this.#last = apis.map(() => undefined)
  }

  /** Node `i`'s own transfers not final yet (pending or agreed), as it last reported them (0 before it has). */
  unfinal(i: number): number {
    const last = this.#last[i]
    return last === undefined ? 0 : last.transactions.pending + last.transactions.awaitingFinality
  }

  /** Refreshes every `intervalMs` (one refresh at a time) until the returned function is called. */
  follow(intervalMs: number): () => void {
    let busy = false
    const timer = setInterval(() => {
      if (busy) return
      busy = true
      void this.refresh().finally(() => (busy = false))
    }, intervalMs)
    return () => clearInterval(timer)
  }

  async refresh(): Promise<NetworkTotals> {
    const answers = await Promise.allSettled(this.#apis.map((api) => api.status()))
    let answering = 0
    answers.forEach((answer, i) => {
      if (answer.status !== 'fulfilled') return
      this.#last[i] = answer.value
      answering++
    })
    const known = this.#last.filter((status): status is NodeStatusView => status !== undefined)
    const sum = (pick: (s: NodeStatusView) => number) => known.reduce((total, s) => total + pick(s), 0)
    return {
      round: Math.max(0, ...known.map((s) => s.round)),
      submitted: sum((s) => s.transactions.submitted),
      agreed: sum((s) => s.transactions.agreed),
      final: sum((s) => s.transactions.final),
      refused: sum((s) => s.transactions.refused),
      rejected: sum((s) => s.transactions.rejected),
      pending: sum((s) => s.transactions.pending),
      awaitingFinality: sum((s) => s.transactions.awaitingFinality),
      answering,
    }
  }
}
