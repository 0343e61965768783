/**
 * What a soak run found, as one value: the perturbations and whether the network healed after each, the load's
 * transfers by answer, the invariant checker's findings and the longest stall with what was under way then. Printed
 * as text for people and as one line of JSON (`{"soak": …}`) with the same figures for scripts.
 */
import type { InvariantReport } from './invariants.js'
import type { TransferAnswer } from './soak-load.js'
import type { SoakManifest } from './soak-manifest.js'

export interface PerturbationOutcome {
  readonly description: string
  readonly atMs: number
  readonly startedAtMs: number
  readonly endedAtMs: number
  /** From the end of the perturbation until the network certified again with the touched nodes caught up. */
  readonly recoveredAfterMs: number | null
  readonly survived: boolean
  readonly error?: string
}

export interface SoakReport {
  readonly seed: number
  readonly nodes: number
  readonly facilitators: number
  readonly load: string
  readonly loadSeconds: number
  readonly perturbations: {
    readonly planned: number
    readonly applied: number
    readonly survived: number
    readonly outcomes: readonly PerturbationOutcome[]
  }
  readonly transfers: {
    readonly sent: number
    readonly shed: number
    readonly answers: Readonly<Record<TransferAnswer, number>>
    readonly rejected: Readonly<Record<string, number>>
  }
  readonly invariants: InvariantReport
  readonly longestStall: { readonly ms: number; readonly round: number; readonly ended: boolean; readonly cause: string } | null
  /**
   * How long after the load the network had settled — every node answering and within `catchUpRounds` of the
   * highest, the stated balances summing to the supply, no tracker awaiting finality — or the limit, when it had not.
   */
  readonly settleMs: number
  readonly settled: boolean
  readonly ok: boolean
}

export function describeLoad(load: SoakManifest['load']): string {
  return load.kind === 'rate' ? `${load.transfersPerSecond} transfers/s offered` : `closed loop of ${load.concurrency} transfers`
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const count = (n: number) => n.toLocaleString('en-US')

export function formatReport(report: SoakReport): string {
  const { invariants: inv, transfers: tx, perturbations } = report
  const a = tx.answers
  const rejected = Object.entries(tx.rejected)
    .map(([code, n]) => `${code} ${count(n)}`)
    .join(', ')
  const failed = perturbations.outcomes.filter((outcome) => !outcome.survived)
  const slowest = perturbations.outcomes.reduce<PerturbationOutcome | undefined>(
    (max, o) => (o.recoveredAfterMs !== null && (max === undefined || o.recoveredAfterMs > (max.recoveredAfterMs ?? 0)) ? o : max),
    undefined,
  )
  const lines = [
    `soak seed ${report.seed}: ${report.nodes} nodes (${report.facilitators} facilitators), ${seconds(report.loadSeconds * 1000)} of load (${report.load}), ${perturbations.planned} perturbation${perturbations.planned === 1 ? '' : 's'}`,
    `perturbations   ${perturbations.applied} applied, ${perturbations.survived} survived${slowest === undefined ? '' : ` (slowest recovery ${seconds(slowest.recoveredAfterMs ?? 0)}: ${slowest.description} at ${seconds(slowest.startedAtMs)})`}`,
    ...failed.map(
      (o) =>
        `                not survived: ${o.description} at ${seconds(o.startedAtMs)}${o.error === undefined ? ' (the network did not certify again with its nodes caught up)' : `: ${o.error}`}`,
    ),
    `transfers       ${count(tx.sent)} sent: ${count(a.agreed)} acknowledged (201), ${count(a.pending)} pending (202), ${count(a.refused)} refused, ${count(a.rejected)} rejected${rejected === '' ? '' : ` (${rejected})`}, ${count(a['not-sent'])} not sent (node down), ${count(a['no-answer'])} without an answer${tx.shed > 0 ? `, ${count(tx.shed)} shed` : ''}`,
    `                ${count(inv.transfers.final)} final on both sides; lost ${inv.transfers.lost}${inv.transfers.lost === 0 ? '' : ` (${inv.transfers.missing} missing from a chain, ${inv.transfers.notFinal} in both chains but not final on one side or both)`}; errors that moved value ${inv.transfers.errorsThatMoved}; unresolved ${inv.transfers.unresolved}; unaccounted ${inv.transfers.unaccounted}`,
    `certificates    ${count(inv.certificates.roundsCompared)} rounds compared across the nodes (latest ${inv.certificates.latestRound}): ${inv.certificates.conflicting} conflicting`,
    `supply          ${inv.supply.sum === null ? 'not summed (a node did not answer)' : `Σ stated balances ${count(inv.supply.sum)} ${inv.supply.difference === 0 ? '=' : '≠'} genesis supply ${count(inv.supply.genesis)}`}`,
    `fraud proofs    ${inv.fraudProofs}`,
    `caught up       rounds ${inv.rounds.map((r) => (r === null ? '?' : String(r))).join(', ')}; settled ${report.settled ? `in ${seconds(report.settleMs)}` : `not within ${seconds(report.settleMs)}`}`,
    `longest stall   ${report.longestStall === null ? 'none' : `${seconds(report.longestStall.ms)} at round ${report.longestStall.round}${report.longestStall.ended ? '' : ' (still stalled at the end)'}: ${report.longestStall.cause}`}`,
    report.ok
      ? 'result          every invariant holds'
      : `result          ${inv.violations.length === 0 ? 'not every perturbation was survived' : `${inv.violations.length} findings:`}`,
    ...inv.violations.map((violation) => `  - ${violation}`),
  ]
  return lines.join('\n')
}

export function reportJson(report: SoakReport): string {
  return JSON.stringify({ soak: report })
}
