/**
 * Prometheus metrics of one node (prom-client, its own registry, so several nodes in one process stay apart). Units
 * are in the names, as Prometheus asks: `_total` counters, `_seconds` and `_bytes`. Gauges and counters that mirror
 * the node's own counters are read when scraped, so the hot paths pay nothing for them. The cost figures a devnet
 * divides by finalised transfers come from here: signature verifications (`constellation_signature_verifications_total`),
 * bytes sent (`constellation_network_sent_bytes_total`) and process CPU (`constellation_process_process_cpu_seconds_total`,
 * prom-client's user + system time from `process.cpuUsage()`).
 */
import type { CryptoCounts } from '@constellation/crypto'
import { NETWORK_TRAFFIC_KINDS, type NetworkTraffic } from '@constellation/gossip'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export interface NodeGaugeSources {
  round(): number
  /** 1 while the consensus has stalled as this node sees it (no certified round for a while), else 0. */
  stalled(): number
  lastCertificateAgeSeconds(): number
  roundsFacilitated(): number
  framesSent(): number
  framesFailed(): number
  certificatesRejected(): number
  peers(): number
  chainHeight(): number
  awaitingFinality(): number
  /** Signatures checked and made through the node's `Crypto` (`countingCrypto` from @constellation/crypto). */
  signatureCounts(): CryptoCounts
  /** What the node's network has sent and received (`network.traffic()`). */
  networkTraffic(): NetworkTraffic
  /** The groups above level 0 this node validates, with their figures (none for a member only). */
  levels?(): readonly LevelFigures[]
}

/** A validated group's figures, labelled by `level` and `group` in the metrics. */
export interface LevelFigures {
  readonly level: number
  readonly group: string
  readonly round: number
  readonly roundsFacilitated: number
  readonly certificatesRejected: number
  /** Certificates of its children this validator followed (gossiped or fetched). */
  readonly childCertificates: number
}

export class NodeMetrics {
  readonly registry = new Registry()
  readonly transactionsSubmitted = new Counter({
    name: 'constellation_transactions_submitted_total',
    help: 'Transactions this node proposed',
    registers: [this.registry],
  })
  readonly transactionsAgreed = new Counter({
    name: 'constellation_transactions_agreed_total',
    help: 'Proposed transactions the counterparty countersigned',
    registers: [this.registry],
  })
  readonly transactionsFinal = new Counter({
    name: 'constellation_transactions_final_total',
    help: 'Proposed transactions proven final (agreement proof built)',
    registers: [this.registry],
  })
  readonly transactionsFailed = new Counter({
    name: 'constellation_transactions_failed_total',
    help: 'Proposals that were refused or timed out',
    registers: [this.registry],
  })
  readonly finalityLatency = new Histogram({
    name: 'constellation_finality_latency_seconds',
    help: 'From proposing a transaction to holding its agreement proof',
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  })
  readonly httpRequests = new Counter({
    name: 'constellation_http_requests_total',
    help: 'HTTP API requests by route and status',
    labelNames: ['route', 'status'],
    registers: [this.registry],
  })
  readonly errors = new Counter({
    name: 'constellation_node_errors_total',
    help: 'Failures reported by the node’s modules',
    labelNames: ['module'],
    registers: [this.registry],
  })

  constructor(sources: NodeGaugeSources) {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read())
        },
      })
    gauge('constellation_consensus_round', 'The last certified round this node applied', () => sources.round())
    gauge('constellation_consensus_stalled', '1 while no round has been certified for consensus.stallReportAfterMs, else 0', () => sources.stalled())
    gauge('constellation_consensus_last_certificate_age_seconds', 'Seconds since this node applied a certified round (since its start when none yet)', () =>
      sources.lastCertificateAgeSeconds(),
    )
    gauge('constellation_consensus_rounds_facilitated', 'Rounds this node was elected to facilitate', () => sources.roundsFacilitated())
    gauge('constellation_consensus_frames_sent', 'Consensus frames sent to other facilitators', () => sources.framesSent())
    gauge('constellation_consensus_frames_failed', 'Consensus frames that failed and were retried', () => sources.framesFailed())
    gauge('constellation_consensus_certificates_rejected', 'Certificates that did not verify', () => sources.certificatesRejected())
    gauge('constellation_peers', 'Connected peers', () => sources.peers())
    gauge('constellation_chain_height_blocks', 'Half-blocks in this node’s own chain', () => sources.chainHeight())
    gauge('constellation_transactions_awaiting_finality', 'Agreed transactions not yet final', () => sources.awaitingFinality())
    // Counters whose totals live in the crypto and network layers: set to those totals at each scrape.
    const mirror = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset()
          this.inc(read())
        },
      })
    const mirrorByKind = (name: string, help: string, read: (traffic: NetworkTraffic) => NetworkTraffic['sent']) =>
      new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers: [this.registry],
        collect() {
          const tallies = read(sources.networkTraffic())
          this.reset()
          for (const kind of NETWORK_TRAFFIC_KINDS) this.inc({ kind }, tallies[kind].bytes)
        },
      })
    mirror(
      'constellation_signature_verifications_total',
      'Ed25519 signature verifications done through the node’s crypto',
      () => sources.signatureCounts().verifies,
    )
    mirror('constellation_signatures_total', 'Ed25519 signatures made through the node’s crypto', () => sources.signatureCounts().signs)
    mirrorByKind(
      'constellation_network_sent_bytes_total',
      'Application bytes the node’s network sent (before Noise and Yamux), by kind: request, response, gossip',
      (traffic) => traffic.sent,
    )
    mirrorByKind(
      'constellation_network_received_bytes_total',
      'Application bytes the node’s network received (before Noise and Yamux), by kind',
      (traffic) => traffic.received,
    )
    // Per group above level 0 that this node validates, labelled `level` and `group`: none for a member only.
    const levelGauge = (name: string, help: string, read: (figures: LevelFigures) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['level', 'group'],
        registers: [this.registry],
        collect() {
          this.reset()
          for (const figures of sources.levels?.() ?? []) this.set({ level: String(figures.level), group: figures.group }, read(figures))
        },
      })
    levelGauge('constellation_level_round', 'The last certified round of a group above level 0 this node validates', (f) => f.round)
    levelGauge('constellation_level_rounds_facilitated', 'Rounds of the group this node was elected to facilitate', (f) => f.roundsFacilitated)
    levelGauge('constellation_level_certificates_rejected', 'Certificates of the group or its children that did not verify', (f) => f.certificatesRejected)
    levelGauge('constellation_level_child_certificates', 'Certificates of the group’s children this validator followed', (f) => f.childCertificates)
    collectDefaultMetrics({ register: this.registry, prefix: 'constellation_process_' })
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
