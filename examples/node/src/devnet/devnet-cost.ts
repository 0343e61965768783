/**
 * What a finalised transfer costs the whole network: signature verifications, CPU time and bytes sent, summed over
 * every node process and divided by the transfers that became final. Pure: the devnet reads each node's cumulative
 * counters from `/v1/metrics` at the two ends of a window (see devnet.ts for which), this takes the differences.
 */
import { sumMetric } from './node-api.js'

/** The node metrics the cost figures come from (examples/node/src/metrics/node-metrics.ts). */
export const COST_METRICS = {
  /** Every `verify` and every item of `verifyMany` through the node's `Crypto` (`countingCrypto`). */
  verifies: 'constellation_signature_verifications_total',
  /** prom-client's process CPU, user + system, from `process.cpuUsage()`. */
  cpuSeconds: 'constellation_process_process_cpu_seconds_total',
  /** Application bytes the node's libp2p network sent (request/response frames, gossip to each neighbour), all kinds. */
  sentBytes: 'constellation_network_sent_bytes_total',
} as const

/** One node's cumulative counters at one instant (`gossipBytes`: the part of `sentBytes` that was gossip). */
export type NodeCostCounters = { readonly [K in keyof typeof COST_METRICS | 'gossipBytes']: number }

export interface CostPerTx {
  /** Signature verifications per finalised transfer, all nodes; null: nothing became final, or a node's counters are missing. */
  readonly verifiesPerTx: number | null
  /** CPU milliseconds (user + system) per finalised transfer, all node processes; null likewise. */
  readonly cpuMsPerTx: number | null
  /** Application bytes sent per finalised transfer, all nodes; null likewise. */
  readonly bytesPerTx: number | null
  /** The part of `bytesPerTx` sent as gossip (certificates and announcements to each neighbour); null likewise. */
  readonly gossipBytesPerTx: number | null
}

/** The sum of `name`'s samples whose labels include `label` (such as `kind="gossip"`). */
function sumLabelled(text: string, name: string, label: string): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const labels = line.slice(name.length + 1, line.indexOf('}'))
    if (!labels.split(',').includes(label)) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) sum += value
  }
  return sum
}

/** Whether the exposition text has a sample of `name` (with or without labels). */
function hasSample(text: string, name: string): boolean {
  return text.split('\n').some((line) => line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
}

/** A node's counters from its `/v1/metrics` text; undefined when the text lacks any of them (no answer, say). */
export function costCountersOf(metricsText: string): NodeCostCounters | undefined {
  const names = Object.values(COST_METRICS)
  if (!names.every((name) => hasSample(metricsText, name))) return undefined
  return {
    verifies: sumMetric(metricsText, COST_METRICS.verifies),
    cpuSeconds: sumMetric(metricsText, COST_METRICS.cpuSeconds),
    sentBytes: sumMetric(metricsText, COST_METRICS.sentBytes),
    gossipBytes: sumLabelled(metricsText, COST_METRICS.sentBytes, 'kind="gossip"'),
  }
}

/**
 * The cost figures: each node's counters at the window's end minus at its start, summed over the nodes, divided by
 * `finalTransfers`, the transfers that became final between the two snapshots. `start[i]` and `end[i]` are node i's.
 * All null when nothing became final or any node's counters are missing at either end (a sum without that node
 * would understate the cost).
 */
export function costPerTx(start: readonly (NodeCostCounters | undefined)[], end: readonly (NodeCostCounters | undefined)[], finalTransfers: number): CostPerTx {
  const unknown: CostPerTx = { verifiesPerTx: null, cpuMsPerTx: null, bytesPerTx: null, gossipBytesPerTx: null }
  if (!(finalTransfers > 0) || start.length !== end.length || start.length === 0) return unknown
  const totals = { verifies: 0, cpuSeconds: 0, sentBytes: 0, gossipBytes: 0 }
  for (let i = 0; i < start.length; i++) {
    const before = start[i]
    const after = end[i]
    if (before === undefined || after === undefined) return unknown
    totals.verifies += after.verifies - before.verifies
    totals.cpuSeconds += after.cpuSeconds - before.cpuSeconds
    totals.sentBytes += after.sentBytes - before.sentBytes
    totals.gossipBytes += after.gossipBytes - before.gossipBytes
  }
  return {
    verifiesPerTx: totals.verifies / finalTransfers,
    cpuMsPerTx: (totals.cpuSeconds * 1_000) / finalTransfers,
    bytesPerTx: totals.sentBytes / finalTransfers,
    gossipBytesPerTx: totals.gossipBytes / finalTransfers,
  }
}

/** How busy the node processes of one role were over the cost window: CPU time per second of it, each, on average. */
export interface RoleCpu {
  /** `validator` (also validates a group above level 0, as well as being a member) or `member` (a member only). */
  readonly role: 'validator' | 'member'
  readonly processes: number
  /** Mean process CPU (user + system) per wall second of the window, in percent of one core. */
  readonly cpuPercent: number
}

/**
 * Each role's mean CPU over the window (`seconds` long): node i is a validator when `validates[i]`. A validator is a
 * member too, so the difference between the two means is what validating costs a process — the levels above the
 * solar systems, measured where they run. Empty when a node's counters are missing, or every node has one role.
 */
export function cpuByRole(
  start: readonly (NodeCostCounters | undefined)[],
  end: readonly (NodeCostCounters | undefined)[],
  validates: readonly boolean[],
  seconds: number,
): RoleCpu[] {
  if (!(seconds > 0) || start.length !== end.length || start.length !== validates.length) return []
  const sums = { validator: { cpu: 0, processes: 0 }, member: { cpu: 0, processes: 0 } }
  for (let i = 0; i < start.length; i++) {
    const before = start[i]
    const after = end[i]
    if (before === undefined || after === undefined) return []
    const role = sums[validates[i] === true ? 'validator' : 'member']
    role.cpu += after.cpuSeconds - before.cpuSeconds
    role.processes++
  }
  if (sums.validator.processes === 0 || sums.member.processes === 0) return []
  return (['validator', 'member'] as const).map((role) => ({
    role,
    processes: sums[role].processes,
    cpuPercent: (100 * sums[role].cpu) / sums[role].processes / seconds,
  }))
}
