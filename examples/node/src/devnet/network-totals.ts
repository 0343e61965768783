/**
 * The devnet's running view of the network: each node's last answer to `GET /v1/status`, added up. A node that
 * does not answer (it exited, or is too busy) keeps its last known figures, so the totals never go backwards and one
 * gone node does not blind the progress line or the summary; `answering` says how many answered this time.
 */
import type { NodeApi, NodeStatusView } from './node-api.js'

/** A group's highest certified round among the nodes that report it (members for a solar system, validators above). */
export interface GroupRound {
  readonly level: number
  readonly group: string
  readonly round: number
}

export interface NetworkTotals {
  /** The highest certified round any node reports of its solar system. */
  readonly round: number
  /** Every group the nodes report — their solar systems, and the groups above that they validate — lowest level first. */
  readonly groups: readonly GroupRound[]
  /** Per solar system: the transfers its members report final (each counts those it proposed). */
  readonly finalBySystem: Readonly<Record<string, number>>
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

  /** Whether node `i` validated a group above level 0 when it last answered (false before it has). */
  validates(i: number): boolean {
    return (this.#last[i]?.levels.length ?? 0) > 0
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
    const groups = new Map<string, GroupRound>()
    const note = (level: number, group: string, round: number) => {
      const key = `${level}/${group}`
      if ((groups.get(key)?.round ?? -1) < round) groups.set(key, { level, group, round })
    }
    const finalBySystem: Record<string, number> = {}
    for (const status of known) {
      note(0, status.group, status.round)
      for (const level of status.levels) note(level.level, level.group, level.round)
      finalBySystem[status.group] = (finalBySystem[status.group] ?? 0) + status.transactions.final
    }
    return {
      round: Math.max(0, ...known.map((s) => s.round)),
      groups: [...groups.values()].sort((a, b) => a.level - b.level || (a.group < b.group ? -1 : 1)),
      finalBySystem,
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
