/**
 * The devnet's cost per finalised transfer: reading each node's counters from its metrics text (as a real
 * `NodeMetrics` renders them), the arithmetic over a window, and the summary's line and JSON fields.
 */
import type { NetworkTraffic } from '@constellation/gossip'
import { describe, expect, it } from 'vitest'
import { COST_METRICS, costCountersOf, costPerTx, cpuByRole, type NodeCostCounters } from '../src/devnet/devnet-cost.js'
import { type DevnetSummary, formatCost, formatSummary, summaryJson } from '../src/devnet/devnet-summary.js'
import { NodeMetrics } from '../src/metrics/node-metrics.js'

const tally = (bytes: number) => ({ messages: bytes > 0 ? 1 : 0, bytes })
function traffic(sent: [number, number, number], received: [number, number, number] = [0, 0, 0]): NetworkTraffic {
  return {
    sent: { request: tally(sent[0]), response: tally(sent[1]), gossip: tally(sent[2]) },
    received: { request: tally(received[0]), response: tally(received[1]), gossip: tally(received[2]) },
  }
}

function metricsOf(counts: { verifies: number; signs: number }, network: NetworkTraffic): NodeMetrics {
  return new NodeMetrics({
    round: () => 3,
    stalled: () => 0,
    lastCertificateAgeSeconds: () => 0,
    roundsFacilitated: () => 0,
    framesSent: () => 0,
    framesFailed: () => 0,
    certificatesRejected: () => 0,
    peers: () => 1,
    chainHeight: () => 1,
    awaitingFinality: () => 0,
    signatureCounts: () => counts,
    networkTraffic: () => network,
  })
}

const node = (verifies: number, cpuSeconds: number, sentBytes: number, gossipBytes = 0): NodeCostCounters => ({ verifies, cpuSeconds, sentBytes, gossipBytes })

describe('node metrics the cost comes from', () => {
  it('exposes signatures and network bytes, read at each scrape', async () => {
    const counts = { verifies: 120, signs: 7 }
    let network = traffic([1_000, 2_000, 3_000], [10, 20, 30])
    const metrics = metricsOf(counts, network)
    let text = (await metrics.render()).body
    expect(text).toContain('# TYPE constellation_signature_verifications_total counter\nconstellation_signature_verifications_total 120\n')
    expect(text).toContain('constellation_signatures_total 7\n')
    expect(text).toContain('constellation_network_sent_bytes_total{kind="request"} 1000\n')
    expect(text).toContain('constellation_network_sent_bytes_total{kind="gossip"} 3000\n')
    expect(text).toContain('constellation_network_received_bytes_total{kind="response"} 20\n')
    expect(costCountersOf(text)).toMatchObject({ verifies: 120, sentBytes: 6_000, gossipBytes: 3_000 })
    expect(costCountersOf(text)?.cpuSeconds).toBeGreaterThan(0)
    // The counters follow their sources: nothing is kept in between.
    counts.verifies = 150
    network = traffic([1_500, 2_000, 3_000])
    text = (await metricsOf(counts, network).render()).body
    expect(costCountersOf(text)).toMatchObject({ verifies: 150, sentBytes: 6_500 })
  })

  it('names every cost metric the devnet reads', async () => {
    const text = (await metricsOf({ verifies: 0, signs: 0 }, traffic([0, 0, 0])).render()).body
    for (const name of Object.values(COST_METRICS)) expect(text).toMatch(new RegExp(`^${name}[ {]`, 'm'))
  })

  it('has no counters for a node that did not answer, or whose metrics lack one', () => {
    expect(costCountersOf('')).toBeUndefined()
    expect(costCountersOf(`${COST_METRICS.verifies} 5\n${COST_METRICS.cpuSeconds} 1.5\n`)).toBeUndefined()
    // A longer name that starts with a cost metric's name is not that metric.
    expect(costCountersOf(`${COST_METRICS.verifies}_created 5\n${COST_METRICS.cpuSeconds} 1\n${COST_METRICS.sentBytes}{kind="gossip"} 9\n`)).toBeUndefined()
    expect(
      costCountersOf(
        `${COST_METRICS.verifies} 5\n${COST_METRICS.cpuSeconds} 1.25\n${COST_METRICS.sentBytes}{kind="gossip"} 9\n${COST_METRICS.sentBytes}{kind="request"} 1\n`,
      ),
    ).toEqual(node(5, 1.25, 10, 9))
  })
})

describe('costPerTx', () => {
  it('sums each node’s deltas over the window and divides by the transfers final in it', () => {
    const start = [node(100, 2.0, 10_000, 1_000), node(50, 1.5, 4_000, 0)]
    const end = [node(400, 2.5, 70_000, 21_000), node(250, 2.3, 24_000, 4_000)]
    // (300 + 200) verifies, (0.5 + 0.8) s CPU, (60,000 + 20,000) bytes over 40 transfers.
    const cost = costPerTx(start, end, 40)
    expect(cost.verifiesPerTx).toBe(12.5)
    expect(cost.cpuMsPerTx).toBeCloseTo(32.5, 9)
    expect(cost.bytesPerTx).toBe(2_000)
    expect(cost.gossipBytesPerTx).toBe(600)
  })

  it('is null when nothing became final, or a node’s counters are missing at either end', () => {
    const nulls = { verifiesPerTx: null, cpuMsPerTx: null, bytesPerTx: null, gossipBytesPerTx: null }
    expect(costPerTx([node(1, 1, 1)], [node(2, 2, 2)], 0)).toEqual(nulls)
    expect(costPerTx([undefined, node(1, 1, 1)], [node(2, 2, 2), node(2, 2, 2)], 5)).toEqual(nulls)
    expect(costPerTx([node(1, 1, 1), node(1, 1, 1)], [node(2, 2, 2), undefined], 5)).toEqual(nulls)
    expect(costPerTx([], [], 5)).toEqual(nulls)
  })
})

const summary: DevnetSummary = {
  nodes: 8,
  groups: [{ level: 0, group: 'devnet', roundsInWindow: 20, rounds: 25, finalInWindow: 4000, finalisedPerSecond: 392.2 }],
  crossSystem: null,
  cpuByRole: [],
  facilitators: 4,
  loadSeconds: 10.2,
  offered: 'closed loop, 4 outstanding transfers per node',
  sent: 420,
  shed: 0,
  agreed: 420,
  rejected: {},
  finalInWindow: 400,
  finalAtEnd: 418,
  agreedPerSecond: 41.2,
  finalisedPerSecond: 39.2,
  finalityP50Ms: 1_500,
  finalityP99Ms: 3_100,
  finalitySource: 'tracker: 418 of 420 sampled transfers',
  roundsInWindow: 12,
  rounds: 20,
  faults: { certificatesRejected: 0, fraudProofs: 0, failedProposals: 0, nodeErrors: 0, requestErrors: 0, nodeExits: 0 },
  verifyPerSecond: 23_000,
  ratioToVerify: 0.0017,
  explorer: 'http://127.0.0.1:1234/explorer/',
  contractInvocations: 5,
  verifiesPerTx: 12.345,
  cpuMsPerTx: 4.5612,
  bytesPerTx: 7_890.4,
  gossipBytesPerTx: 3_210.9,
}

describe('the summary’s cost line and JSON', () => {
  it('prints the three figures on one line, after the verify rate, naming the window', () => {
    const lines = formatSummary(summary).split('\n')
    expect(lines.at(-1)).toBe(
      '  cost per tx    12.3 verifies, 4.56 ms CPU, 7,890 bytes sent (3,211 of them gossip) (all 8 node processes; window: load start to end of drain, per transfer final in it)',
    )
    expect(lines.at(-2)).toMatch(/^ {2}ed25519 {8}/)
    expect(formatCost({ ...summary, cpuMsPerTx: 123.4, verifiesPerTx: 0.04 })).toMatch(/^0\.0 verifies, 123 ms CPU, /)
  })

  it('says why there are no figures', () => {
    const none = { verifiesPerTx: null, cpuMsPerTx: null, bytesPerTx: null, gossipBytesPerTx: null }
    expect(formatCost({ ...summary, ...none, finalAtEnd: 0 })).toBe('n/a (no transfer became final)')
    expect(formatCost({ ...summary, ...none })).toBe('n/a (a node’s counters could not be read)')
  })

  it('puts verifiesPerTx, cpuMsPerTx and bytesPerTx in the JSON line, null when unknown', () => {
    expect(JSON.parse(summaryJson(summary))).toMatchObject({ event: 'summary', verifiesPerTx: 12.345, cpuMsPerTx: 4.5612, bytesPerTx: 7_890.4 })
    expect(JSON.parse(summaryJson({ ...summary, verifiesPerTx: null, cpuMsPerTx: null, bytesPerTx: null }))).toMatchObject({
      verifiesPerTx: null,
      cpuMsPerTx: null,
      bytesPerTx: null,
    })
  })
})

describe('CPU by role', () => {
  it("is each role's mean CPU per wall second of the window, in percent of a core", () => {
    // Over 10 s: validators used 4 and 5 s of CPU (45%), members only 2 and 3 s (25%).
    const start = [node(0, 1, 0), node(0, 1, 0), node(0, 1, 0), node(0, 1, 0)]
    const end = [node(0, 5, 0), node(0, 6, 0), node(0, 3, 0), node(0, 4, 0)]
    expect(cpuByRole(start, end, [true, true, false, false], 10)).toEqual([
      { role: 'validator', processes: 2, cpuPercent: 45 },
      { role: 'member', processes: 2, cpuPercent: 25 },
    ])
    const text = formatSummary({ ...summary, cpuByRole: cpuByRole(start, end, [true, true, false, false], 10) })
    expect(text).toMatch(/^ {2}cpu by role {4}validators \(2\) 45% of a core each, members only \(2\) 25%: validating adds 20 points per validator/m)
  })

  it('is empty when a node is missing, or every node has one role (one solar system)', () => {
    expect(cpuByRole([node(0, 1, 0), undefined], [node(0, 2, 0), node(0, 2, 0)], [true, false], 10)).toEqual([])
    expect(cpuByRole([node(0, 1, 0), node(0, 1, 0)], [node(0, 2, 0), node(0, 2, 0)], [false, false], 10)).toEqual([])
    expect(cpuByRole([node(0, 1, 0)], [node(0, 2, 0)], [true], 0)).toEqual([])
  })
})

describe('transfers across solar systems in the summary', () => {
  it('shows how many were sent, agreed, and final on both sides; nothing without them', () => {
    const across = { sent: 310, agreed: 300, checked: 300, finalBothSides: 296, finalPayerOnly: 4 }
    expect(formatSummary({ ...summary, crossSystem: across })).toMatch(
      /^ {2}across systems sent 310, agreed 300; of 300 looked up after the drain, 296 final on both sides \(settled by the payer's system, credited by the payee's\), 4 final for the payer only$/m,
    )
    expect(formatSummary(summary)).not.toMatch(/across systems/)
  })
})
