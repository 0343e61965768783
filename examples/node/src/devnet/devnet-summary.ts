/**
 * The devnet's closing figures, computed from what it observed (pure: the devnet gathers, this adds up), and the
 * two ways they are printed: lines for people, then one line of JSON with the same figures for scripts.
 */
import type { CrossSystemFigures } from './cross-system-check.js'
import type { RoleCpu } from './devnet-cost.js'

export interface DevnetFaults {
  /** Certificates that did not verify, summed over the nodes. */
  readonly certificatesRejected: number
  /** Fraud proofs carried in the certified results of the whole run (double-signed checkpoints); null: no node answered. */
  readonly fraudProofs: number | null
  /** Proposals the counterparty refused (voided), summed over the nodes' trackers. */
  readonly failedProposals: number
  /** Failures the nodes' modules reported (`constellation_node_errors_total`). */
  readonly nodeErrors: number
  /** Load-generator transfers not answered, or rejected for another reason than back-pressure (BUSY). */
  readonly requestErrors: number
  /** Nodes that exited on their own, or not cleanly when stopped. */
  readonly nodeExits: number
}

/** One group's figures: a solar system's (with its transfers) or a group's above level 0 (rounds only). */
export interface DevnetGroupFigures {
  readonly level: number
  readonly group: string
  /** Rounds certified during the load window, and in the whole run (the highest a node reports). */
  readonly roundsInWindow: number
  readonly rounds: number
  /** A solar system's: transfers its members report final inside the load window, and per second of it. */
  readonly finalInWindow?: number
  readonly finalisedPerSecond?: number
}

export interface DevnetSummary {
  readonly nodes: number
  /**
   * With groups above the solar systems: validator and member-only processes' mean CPU over the cost window (a
   * validator is a member too: the difference is what validating costs). Empty with one solar system.
   */
  readonly cpuByRole: readonly RoleCpu[]
  /** Every group the devnet ran, lowest level first: one solar system, or several and the star cluster above them. */
  readonly groups: readonly DevnetGroupFigures[]
  /** Transfers to members of another solar system, checked on both sides after the drain; null with none sent. */
  readonly crossSystem: CrossSystemFigures | null
  readonly facilitators: number
  /** Length of the load window, seconds. */
  readonly loadSeconds: number
  /** 'closed loop, C per node' or the offered rate. */
  readonly offered: string
  readonly sent: number
  /** Open loop: transfers that were due while the cap of outstanding ones was reached, so never sent. */
  readonly shed: number
  /** Acknowledged (201: the counterparty agreed). */
  readonly agreed: number
  /**
   * Transfers the nodes rejected before signing anything, by the API's error code: `BUSY` is back-pressure (the load
   * waits as its Retry-After asks), not a fault; other codes are counted in `faults.requestErrors` too.
   */
  readonly rejected: Readonly<Record<string, number>>
  /** Became final inside the load window. */
  readonly finalInWindow: number
  /** Final by the end of the run (after the drain that follows the load). */
  readonly finalAtEnd: number
  readonly agreedPerSecond: number
  /** Final inside the load window / the window. */
  readonly finalisedPerSecond: number
  readonly finalityP50Ms: number | null
  readonly finalityP99Ms: number | null
  /**
   * Where the percentiles come from: `tracker: K of N sampled transfers` (the proposers' recorded times for a uniform
   * sample, K of them final), or `histogram` (interpolated from the nodes' latency buckets: coarse).
   */
  readonly finalitySource: string
  /** Rounds certified during the load window, and in the whole run. */
  readonly roundsInWindow: number
  readonly rounds: number
  readonly faults: DevnetFaults
  /** Raw Ed25519 verifications per second on one core, measured in this run. */
  readonly verifyPerSecond: number
  /** finalisedPerSecond / verifyPerSecond (a transaction carries two signatures: the one-core bound is ~0.5). */
  readonly ratioToVerify: number
  /** Node 0's web explorer (served while the devnet ran). */
  readonly explorer: string
  /** Invocations of the demo contract on node 0 during the load (beside the transfers, not in their figures). */
  readonly contractInvocations: number
  // What a finalised transfer cost, summed over all node processes (devnet-cost.ts), over the window from right
  // before the load starts to right after the drain, divided by the transfers that became final in it; null when
  // none did or a node's counters could not be read. The window's work includes everything the nodes did meanwhile:
  // consensus rounds, crawls, the demo contract's invocations, serving the load generator's HTTP requests.
  /** Ed25519 verifications through the nodes' `Crypto` per finalised transfer. */
  readonly verifiesPerTx: number | null
  /** Process CPU (user + system) in milliseconds per finalised transfer. */
  readonly cpuMsPerTx: number | null
  /** Application bytes the nodes' networks sent (before Noise and Yamux) per finalised transfer. */
  readonly bytesPerTx: number | null
  /** The part of `bytesPerTx` sent as gossip (certificates, to each neighbour). */
  readonly gossipBytesPerTx: number | null
}

/** The q-quantile (0..1) of `values` by the nearest-rank method; null when there are none. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)))
  return sorted[rank - 1] as number
}

const count = (n: number) => Math.round(n).toLocaleString('en-US')
const perSecond = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: n < 100 ? 1 : 0 })
const ms = (n: number | null) => (n === null ? 'n/a' : n < 1_000 ? `${Math.round(n)} ms` : `${(n / 1_000).toFixed(2)} s`)
const significant = (n: number) => (n >= 100 ? count(n) : n.toPrecision(3))

/** The cost line's figures, or why there are none. */
export function formatCost(summary: Pick<DevnetSummary, 'nodes' | 'finalAtEnd' | 'verifiesPerTx' | 'cpuMsPerTx' | 'bytesPerTx' | 'gossipBytesPerTx'>): string {
  const { verifiesPerTx, cpuMsPerTx, bytesPerTx, gossipBytesPerTx } = summary
  if (verifiesPerTx === null || cpuMsPerTx === null || bytesPerTx === null) {
    return `n/a (${summary.finalAtEnd > 0 ? 'a node’s counters could not be read' : 'no transfer became final'})`
  }
  return (
    `${verifiesPerTx.toFixed(1)} verifies, ${significant(cpuMsPerTx)} ms CPU, ${count(bytesPerTx)} bytes sent` +
    `${gossipBytesPerTx === null ? '' : ` (${count(gossipBytesPerTx)} of them gossip)`} ` +
    `(all ${summary.nodes} node processes; window: load start to end of drain, per transfer final in it)`
  )
}

export function formatSummary(summary: DevnetSummary): string {
  const f = summary.faults
  const faultCount = f.certificatesRejected + (f.fraudProofs ?? 0) + f.failedProposals + f.nodeErrors + f.requestErrors + f.nodeExits
  return [
    `devnet summary — ${summary.nodes} nodes, ${summary.facilitators} facilitators, ${summary.loadSeconds.toFixed(1)} s of load (${summary.offered})`,
    `  transactions   sent ${count(summary.sent)}, agreed ${count(summary.agreed)}, final ${count(summary.finalInWindow)} in the window, ${count(summary.finalAtEnd)} by the end` +
      (summary.agreed > summary.finalAtEnd ? ` (${count(summary.agreed - summary.finalAtEnd)} agreed but not final)` : '') +
      (summary.shed > 0 ? `; ${count(summary.shed)} due but not sent (too many outstanding)` : ''),
    `  throughput     ${perSecond(summary.finalisedPerSecond)} finalised tx/s (agreed ${perSecond(summary.agreedPerSecond)} tx/s)`,
    ...(Object.keys(summary.rejected).length === 0
      ? []
      : [
          `  rejected       ${Object.entries(summary.rejected)
            .map(([code, n]) => `${count(n)} ${code}`)
            .join(', ')} (before anything was signed; nothing moved)`,
        ]),
    `  finality       p50 ${ms(summary.finalityP50Ms)}, p99 ${ms(summary.finalityP99Ms)} (proposal to agreement proof; ${summary.finalitySource === 'histogram' ? 'interpolated from histogram buckets' : summary.finalitySource})`,
    `  rounds         ${count(summary.roundsInWindow)} certified during the load, ${count(summary.rounds)} in all${summary.groups.length > 1 ? ' (the most of any solar system)' : ''}`,
    ...(summary.groups.length > 1 ? formatGroups(summary.groups) : []),
    ...(summary.crossSystem === null ? [] : [`  across systems ${formatCrossSystem(summary.crossSystem)}`]),
    ...(summary.cpuByRole.length === 0 ? [] : [`  cpu by role    ${formatRoles(summary.cpuByRole)}`]),
    `  faults         ${faultCount === 0 ? 'none' : faultCount}: ${f.certificatesRejected} rejected certificates, ${f.fraudProofs ?? 'n/a'} fraud proofs, ${f.failedProposals} failed proposals, ${f.nodeErrors} node errors, ${f.requestErrors} request errors, ${f.nodeExits} node exits`,
    `  contracts      ${count(summary.contractInvocations)} invocations of the demo counter on node 0`,
    `  ed25519        ${count(summary.verifyPerSecond)} verifications/s on one core, measured now; finalised tx/s is ${summary.ratioToVerify.toPrecision(2)}× that (one core verifying both halves of every transaction: ~0.5×)`,
    `  cost per tx    ${formatCost(summary)}`,
  ].join('\n')
}

/** `sent 300, agreed 298; of 298 looked up after the drain, 290 final on both sides, 8 for the payer only`. */
function formatCrossSystem(c: CrossSystemFigures): string {
  return (
    `sent ${count(c.sent)}, agreed ${count(c.agreed)}; of ${count(c.checked)} looked up after the drain, ${count(c.finalBothSides)} final on both sides` +
    ` (settled by the payer's system, credited by the payee's)${c.finalPayerOnly > 0 ? `, ${count(c.finalPayerOnly)} final for the payer only` : ''}`
  )
}

/** `validators (4) 41% of a core each, members only (4) 27%: validating costs 14 points`. */
function formatRoles(roles: readonly RoleCpu[]): string {
  const [validator, member] = [roles.find((r) => r.role === 'validator'), roles.find((r) => r.role === 'member')]
  if (validator === undefined || member === undefined) return 'n/a'
  const pct = (n: number) => `${Math.round(n)}%`
  return (
    `validators (${validator.processes}) ${pct(validator.cpuPercent)} of a core each, members only (${member.processes}) ${pct(member.cpuPercent)}: ` +
    `validating adds ${Math.round(validator.cpuPercent - member.cpuPercent)} points per validator (load start to end of drain)`
  )
}

/** A line per level: each solar system's throughput and rounds, then the groups above. */
function formatGroups(groups: readonly DevnetGroupFigures[]): string[] {
  const lines: string[] = []
  for (const level of [...new Set(groups.map((g) => g.level))]) {
    const figures = groups
      .filter((g) => g.level === level)
      .map((g) =>
        level === 0
          ? `${g.group} ${perSecond(g.finalisedPerSecond ?? 0)} tx/s, ${count(g.roundsInWindow)} rounds`
          : `${g.group} ${count(g.roundsInWindow)} rounds during the load, ${count(g.rounds)} in all`,
      )
    lines.push(`  ${(level === 0 ? 'solar systems' : `level ${level}`).padEnd(14)} ${figures.join('; ')}`)
  }
  return lines
}

export function summaryJson(summary: DevnetSummary): string {
  return JSON.stringify({ event: 'summary', ...summary })
}
