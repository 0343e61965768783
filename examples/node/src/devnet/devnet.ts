/**
 * `constellation devnet`: a local network of real node processes on 127.0.0.1, under load, in front of the user.
 *
 * 1. Measures the machine's raw Ed25519 verify rate on one core (the bound the throughput is read against).
 * 2. Writes the data dirs (keys, configs naming every other node as bootstrap peer) and one shared genesis.
 * 3. Starts one `constellation start` per node and waits for every ready line (node 0's explorer URL is printed
 *    then), then for consensus to certify, and deploys the demo contract on node 0 (demo-contract.ts).
 * 4. Offers transfers between random pairs through the nodes' HTTP APIs, printing a progress line every second, and
 *    invokes the demo contract now and then.
 * 5. Lets the last transactions become final (bounded), gathers the nodes' figures (transaction totals, the finality
 *    latencies their trackers recorded for a sample of the transfers, faults from their metrics, the cost per finalised
 *    transfer from their counters) and prints the summary and one line of JSON with the same figures.
 * 6. Stops the nodes (SIGTERM, SIGKILL after a grace period) and removes the base dir unless asked to keep it.
 * An abort (Ctrl-C) at any point ends the load early, and steps 5–6 still run on what there is.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Writable } from 'node:stream'
import { loadCrypto } from '@constellation/crypto'
import { createRandom } from '@constellation/gossip'
import { foundedLevels, foundedSolarSystems, type NetworkGenesis } from '../config/network-genesis.js'
import { EXPLORER_PATH } from '../explorer/asset-routes.js'
import { deployDemoContract, DEMO_INVOKE_INTERVAL_MS, invokeDemoContract } from './demo-contract.js'
import { DevnetCluster, describeStop, type NodeStopReport } from './devnet-cluster.js'
import { costCountersOf, costPerTx, cpuByRole, type NodeCostCounters } from './devnet-cost.js'
import { checkFreshBaseDir, devnetPaths, writeDevnetLayout } from './devnet-layout.js'
import { type DevnetFaults, type DevnetGroupFigures, type DevnetSummary, formatSummary, quantile, summaryJson } from './devnet-summary.js'
import { CrossSystemSample } from './cross-system-check.js'
import { FinalitySample } from './finality-sample.js'
import { histogramQuantileMs, sumBuckets } from './latency-histogram.js'
import { LoadCounters, runLoad } from './load-generator.js'
import { type NetworkTotals, NetworkStatus } from './network-totals.js'
import { type NodeApi, sumMetric } from './node-api.js'
import { pollUntil } from './poll-until.js'
import { ProgressLine } from './progress-line.js'
import { measureVerifyRate } from './verify-rate.js'

/** Eight node processes keep a 2-core laptop busy without starving the load generator. */
export const DEFAULT_NODES = 8
export const DEFAULT_DURATION_S = 30
/**
 * Closed loop: outstanding batches per node (each answered once its transfers are agreed or pending), and transfers
 * per batch: a payment service sends what it has in one request, and the node sends each counterparty its share in
 * one frame. `--concurrency`, `--batch` or `--rate` offer more or less.
 */
export const DEFAULT_CONCURRENCY = 2
export const DEFAULT_BATCH = 50
/**
 * Closed loop: a node's transfers not final yet, at most. The loop otherwise waits only for agreement, and a network
 * that agrees faster than it finalises would pile up a backlog (and a finality latency) that grows with the run. A
 * window is a latency budget: finality latency is about the transfers in flight over the throughput (Little's law),
 * so 100 per node keeps it near a second or two here, and 400 (with batches of 100) trades that for throughput.
 */
export const DEFAULT_WINDOW = 100
/** How often the finality window's counts are refreshed from the nodes' status. */
const WINDOW_REFRESH_MS = 100
/**
 * Facilitators run every round's agreement: each of the n facilitators broadcasts its proposal to the others and
 * one binary agreement per proposal runs among them, so a round costs O(n²) messages and signatures (n³ bits of
 * agreement traffic). Four is the smallest committee that tolerates a faulty facilitator (n ≥ 3t + 1, t = 1); more
 * only buys tolerance, at a quadratic price, on a machine where every facilitator shares the same two cores.
 */
export const DEFAULT_FACILITATORS = 4
/** With several solar systems, the share of transfers sent to a member of another one. */
export const DEFAULT_CROSS_SYSTEM_SHARE = 0.1
/** Opening balance of every member: enough for any devnet run at 1 unit per transfer. */
const OPENING_BALANCE = 1_000_000_000
/** Rounds certified after start before the load begins: consensus is running, not just configured. */
const WARM_UP_ROUNDS = 2
const CERTIFYING_TIMEOUT_MS = 60_000
/** Longest wait after the load for the transactions still awaiting finality. */
const DRAIN_TIMEOUT_MS = 20_000
/** The wait ends sooner when no transaction became final for this long (the rest are stuck, not slow). */
const DRAIN_STALL_MS = 6_000
const PROGRESS_INTERVAL_MS = 1_000

export interface DevnetOptions {
  readonly nodes?: number
  readonly durationS?: number
  /** Transfers per second offered; without it, a closed loop with `concurrency` outstanding batches per node. */
  readonly rate?: number
  readonly concurrency?: number
  /** Transfers per request (`POST /v1/transactions/batch`). */
  readonly batch?: number
  /** Closed loop: at most this many of a node's transfers not final yet (default `DEFAULT_WINDOW`; 0: no window). */
  readonly window?: number
  /** Facilitators per solar system. */
  readonly facilitators?: number
  /**
   * Solar systems the nodes are split among (default 1). With several, a star cluster validated by members of each
   * certifies them all (devnet-layout.ts), and each node transfers to members of its own solar system.
   */
  readonly solarSystems?: number
  /**
   * With several solar systems: the share (0 to 1) of transfers sent to a member of another system (default
   * `DEFAULT_CROSS_SYSTEM_SHARE`); each is then checked final on both sides after the load.
   */
  readonly crossSystemShare?: number
  /** Default: a new temp dir, removed at the end unless `keep`. */
  readonly baseDir?: string
  readonly keep?: boolean
  /** Seeds the load's choice of pairs. */
  readonly seed?: number
  readonly out: Writable
  readonly signal?: AbortSignal
}

export interface DevnetResult {
  /** Undefined when the run was stopped before the load started. */
  readonly summary?: DevnetSummary
  readonly baseDir: string
  /** Nodes that did not exit cleanly. */
  readonly failedNodes: readonly NodeStopReport[]
}

export async function runDevnet(options: DevnetOptions): Promise<DevnetResult> {
  const nodes = options.nodes ?? DEFAULT_NODES
  const durationS = options.durationS ?? DEFAULT_DURATION_S
  const solarSystems = options.solarSystems ?? 1
  const facilitators = options.facilitators ?? Math.min(Math.floor(nodes / solarSystems), DEFAULT_FACILITATORS)
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const batch = options.batch ?? DEFAULT_BATCH
  const window = options.window === 0 ? undefined : (options.window ?? DEFAULT_WINDOW)
  const crossSystemShare = solarSystems === 1 ? 0 : (options.crossSystemShare ?? DEFAULT_CROSS_SYSTEM_SHARE)
  if (!(crossSystemShare >= 0 && crossSystemShare <= 1)) throw new RangeError(`crossSystemShare must be from 0 to 1, got ${crossSystemShare}`)
  checkOptions(nodes, durationS, facilitators, concurrency, options.rate, batch)
  if (window !== undefined && (!Number.isInteger(window) || window < batch))
    throw new RangeError(`window must be an integer of at least the batch (${batch}), or 0 for none; got ${window}`)
  const progress = new ProgressLine(options.out)
  const crypto = await loadCrypto()

  const verifyPerSecond = measureVerifyRate(crypto)
  progress.note(`ed25519: ${Math.round(verifyPerSecond).toLocaleString('en-US')} verifications/s on one core (${crypto.backend})`)

  const baseDir = options.baseDir === undefined ? await mkdtemp(join(tmpdir(), 'constellation-devnet-')) : resolve(options.baseDir)
  // Before anything is written: the clean-up below removes the devnet's paths in a given base dir.
  if (options.baseDir !== undefined) checkFreshBaseDir(baseDir, nodes)
  let cluster: DevnetCluster | undefined
  let summary: DevnetSummary | undefined
  let failedNodes: NodeStopReport[] = []
  try {
    const layout = await writeDevnetLayout({ baseDir, nodes, facilitators, solarSystems, balance: OPENING_BALANCE, crypto })
    progress.note(
      solarSystems === 1
        ? `starting ${nodes} nodes (${facilitators} facilitators) in ${baseDir}`
        : `starting ${nodes} nodes in ${solarSystems} solar systems (${describeGroups(layout.genesis)}) in ${baseDir}`,
    )
    const startedAt = performance.now()
    cluster = await DevnetCluster.start(layout, options.signal === undefined ? {} : { signal: options.signal })
    const apis = cluster.nodes.map((node) => node.api)
    const explorer = `${(apis[0] as NodeApi).url}${EXPLORER_PATH}`
    progress.note(`${nodes} nodes ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s; waiting for consensus to certify`)
    progress.note(`explorer: ${explorer} (node 0; open it while the devnet runs)`)
    const network = new NetworkStatus(apis)
    const first = await network.refresh()
    await cluster.untilRound(first.round + WARM_UP_ROUNDS, {
      timeoutMs: CERTIFYING_TIMEOUT_MS,
      ...(options.signal !== undefined && { signal: options.signal }),
    })
    const demoContract = await deployDemo(apis[0] as NodeApi, progress, options.signal)
    const offer = `${describeOffer(options.rate, concurrency, batch, window)}${crossSystemShare > 0 ? `, ${Math.round(crossSystemShare * 100)}% to another solar system` : ''}`
    progress.note(`consensus is certifying; offering ${offer} for ${durationS} s`)

    summary = await loadAndMeasure({
      cluster,
      apis,
      network,
      progress,
      options,
      durationS,
      concurrency,
      batch,
      window,
      offer,
      facilitators,
      verifyPerSecond,
      explorer,
      demoContract,
      crossSystemShare,
    })
  } catch (error) {
    if (options.signal?.aborted !== true) throw error
    progress.note('stopped')
  } finally {
    progress.end()
    if (cluster !== undefined) {
      failedNodes = (await cluster.stop()).filter((report) => report.failed)
      for (const report of failedNodes) progress.note(`warning: ${describeStop(report)}`)
    }
    if (options.keep === true) progress.note(`kept ${baseDir}`)
    else if (options.baseDir === undefined) await rm(baseDir, { recursive: true, force: true })
    else {
      const { genesisFile, dataDirs } = devnetPaths(baseDir, nodes)
      await Promise.all([genesisFile, ...dataDirs].map((path) => rm(path, { recursive: true, force: true })))
    }
  }
  if (summary === undefined) return { baseDir, failedNodes }
  // Printed once the nodes are stopped, so that the exits count those that did not stop cleanly.
  const final: DevnetSummary = { ...summary, faults: { ...summary.faults, nodeExits: failedNodes.length } }
  progress.note(formatSummary(final))
  options.out.write(`${summaryJson(final)}\n`)
  return { summary: final, baseDir, failedNodes }
}

interface LoadContext {
  readonly cluster: DevnetCluster
  readonly apis: readonly NodeApi[]
  readonly network: NetworkStatus
  readonly progress: ProgressLine
  readonly options: DevnetOptions
  readonly durationS: number
  readonly concurrency: number
  readonly batch: number
  /** Closed loop: at most this many of a node's transfers not final yet (undefined: no window). */
  readonly window: number | undefined
  readonly offer: string
  readonly facilitators: number
  readonly verifyPerSecond: number
  readonly explorer: string
  /** The demo contract's id on node 0 (undefined: its deploy failed). */
  readonly demoContract: string | undefined
  /** The share of transfers across solar systems (0 with one system). */
  readonly crossSystemShare: number
}

/** Deploys the demo contract on node 0; a failure is a warning (the devnet measures transfers, not contracts). */
async function deployDemo(api: NodeApi, progress: ProgressLine, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    const id = await deployDemoContract(api, signal)
    progress.note(`demo contract ${id.slice(0, 16)}… (a free counter) deployed on node 0; invoked every ${DEMO_INVOKE_INTERVAL_MS / 1000} s during the load`)
    return id
  } catch (error) {
    if (signal?.aborted === true) throw error
    progress.note(`warning: the demo contract could not be deployed: ${(error as Error).message}`)
    return undefined
  }
}

async function loadAndMeasure(context: LoadContext): Promise<DevnetSummary> {
  const { cluster, apis, network, progress, options, durationS } = context
  const signal = options.signal
  // The cost window (verifies, CPU and bytes per finalised transfer) opens here, right before the load starts: every
  // node's counters, read together with the network's transaction totals. It closes right after the drain, below.
  const [before, costStart] = await Promise.all([network.refresh(), costSnapshot(apis)])
  const costStartedAt = performance.now()
  const counters = new LoadCounters()
  const random = createRandom(options.seed ?? Date.now())
  const sample = new FinalitySample(random.fork())
  const crossSample = new CrossSystemSample(random.fork())
  const crossSystemShare = context.crossSystemShare
  const ticker = startProgress(context, before, counters)
  const demo = context.demoContract === undefined ? undefined : invokeDemoContract(apis[0] as NodeApi, context.demoContract)
  let contractInvocations = 0
  // The finality window reads each node's count of transfers not final yet, kept fresh by polling its status.
  const unfollow = context.window === undefined || options.rate !== undefined ? undefined : network.follow(WINDOW_REFRESH_MS)
  try {
    await runLoad(
      {
        targets: cluster.nodes.map((node) => ({ id: node.layout.id, api: node.api, group: node.layout.group })),
        durationMs: durationS * 1_000,
        ...(options.rate !== undefined && { rate: options.rate }),
        concurrencyPerNode: context.concurrency,
        batch: context.batch,
        random,
        onAcknowledged: (id, from, across) => {
          sample.offer({ id, from })
          if (across !== undefined) crossSample.offer({ id, from, to: across.to })
        },
        ...(crossSystemShare > 0 && { crossSystemShare }),
        ...(context.window !== undefined && { window: { perNode: context.window, unfinal: (from: number) => network.unfinal(from) } }),
        ...(signal !== undefined && { signal }),
      },
      counters,
    )
  } finally {
    unfollow?.()
    ticker.stop()
    contractInvocations = (await demo?.stop())?.done ?? 0
  }
  const loadSeconds = (counters.endedAt - counters.startedAt) / 1_000
  const atLoadEnd = await network.refresh()
  progress.end()
  let atEnd = atLoadEnd
  if (signal?.aborted !== true && atLoadEnd.awaitingFinality > 0) {
    progress.note(
      `load done; waiting up to ${DRAIN_TIMEOUT_MS / 1000} s (less if none becomes final for ${DRAIN_STALL_MS / 1000} s) for ${atLoadEnd.awaitingFinality} transactions to become final`,
    )
    let lastGain = { final: atLoadEnd.final, at: performance.now() }
    const settled = (t: NetworkTotals) => {
      if (t.final > lastGain.final) lastGain = { final: t.final, at: performance.now() }
      return t.awaitingFinality === 0 || performance.now() - lastGain.at > DRAIN_STALL_MS
    }
    atEnd = await pollUntil(() => network.refresh(), settled, { timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: 250, what: 'the drain' }).catch(() =>
      network.refresh(),
    )
  }
  // The cost window closes here, right after the drain: the counters and the count of final transfers read together,
  // so the transfers it divides by are exactly those that became final between the two snapshots.
  const [costEnd, metrics] = await Promise.all([network.refresh(), Promise.all(apis.map((api) => api.metrics().catch(() => '')))])
  const costEnded = metrics.map(costCountersOf)
  const cost = costPerTx(costStart, costEnded, costEnd.final - before.final)
  // Each node's role as its last status said (the refresh above read them all).
  const validates = apis.map((_, i) => network.validates(i))
  const cpuRoles = cpuByRole(costStart, costEnded, validates, (performance.now() - costStartedAt) / 1_000)
  const finality = await finalityOf(apis, metrics, sample)
  const crossSystem = crossSystemShare > 0 ? await crossSample.check(apis, { sent: counters.crossSystemSent, agreed: counters.crossSystemAcknowledged }) : null
  const faults = faultsOf(metrics, await fraudProofsOf(apis), counters, atEnd, before)
  const finalInWindow = atLoadEnd.final - before.final
  const finalisedPerSecond = finalInWindow / loadSeconds
  const groups = groupFigures(before, atLoadEnd, atEnd, loadSeconds)
  return {
    nodes: apis.length,
    groups,
    crossSystem,
    cpuByRole: cpuRoles,
    facilitators: context.facilitators,
    loadSeconds,
    offered: context.offer,
    sent: counters.sent,
    shed: counters.shed,
    agreed: counters.acknowledged,
    rejected: Object.fromEntries([...counters.rejected].sort(([a], [b]) => (a < b ? -1 : 1))),
    finalInWindow,
    finalAtEnd: atEnd.final - before.final,
    agreedPerSecond: counters.acknowledged / loadSeconds,
    finalisedPerSecond,
    ...finality,
    // With several solar systems, the most any of them certified (the highest round's system need not be the one).
    roundsInWindow: Math.max(0, ...groups.filter((group) => group.level === 0).map((group) => group.roundsInWindow)),
    rounds: atEnd.round,
    faults,
    verifyPerSecond: context.verifyPerSecond,
    ratioToVerify: finalisedPerSecond / context.verifyPerSecond,
    explorer: context.explorer,
    contractInvocations,
    ...cost,
  }
}

/** Each group's rounds (and a solar system's transfers) over the load window and the run. */
function groupFigures(before: NetworkTotals, atLoadEnd: NetworkTotals, atEnd: NetworkTotals, loadSeconds: number): DevnetGroupFigures[] {
  const roundOf = (totals: NetworkTotals, level: number, group: string) => totals.groups.find((g) => g.level === level && g.group === group)?.round ?? 0
  return atEnd.groups.map(({ level, group, round }) => {
    const roundsInWindow = roundOf(atLoadEnd, level, group) - roundOf(before, level, group)
    if (level > 0) return { level, group, roundsInWindow, rounds: round }
    const finalInWindow = (atLoadEnd.finalBySystem[group] ?? 0) - (before.finalBySystem[group] ?? 0)
    return { level, group, roundsInWindow, rounds: round, finalInWindow, finalisedPerSecond: finalInWindow / loadSeconds }
  })
}

/** Every node's cost counters now (undefined for a node that does not answer). */
function costSnapshot(apis: readonly NodeApi[]): Promise<(NodeCostCounters | undefined)[]> {
  return Promise.all(apis.map((api) => api.metrics().then(costCountersOf, () => undefined)))
}

/** The progress line, refreshed every second while the load runs (one status poll at a time: on a loaded machine
 * a poll can take longer than the interval). */
function startProgress(context: LoadContext, before: NetworkTotals, counters: LoadCounters): { stop(): void } {
  const { cluster, network, progress } = context
  let last = { at: performance.now(), final: before.final }
  let polling = false
  const timer = setInterval(() => {
    if (polling) return
    polling = true
    void network.refresh().then((now) => {
      polling = false
      const at = performance.now()
      const rate = ((now.final - last.final) * 1_000) / (at - last.at)
      last = { at, final: now.final }
      const exited = cluster.nodes.filter((node) => node.process.exit !== undefined).length
      const rounds =
        now.groups.length > 1 ? `rounds ${now.groups.map((g) => `${g.group} ${g.round}`).join(' ')}` : `round ${now.round} (+${now.round - before.round})`
      progress.update(
        `${((at - counters.startedAt) / 1000).toFixed(0).padStart(3)} s  ${rounds}  ` +
          `sent ${counters.sent}  agreed ${counters.acknowledged}  final ${now.final - before.final}  ${Math.round(rate)} final tx/s  ` +
          `errors ${counters.errors}${exited > 0 ? `  ${exited} nodes exited` : ''}`,
      )
    })
  }, PROGRESS_INTERVAL_MS)
  return { stop: () => clearInterval(timer) }
}

/** Finality percentiles of the sampled transfers, from their proposers' trackers; the histograms if none is final. */
async function finalityOf(
  apis: readonly NodeApi[],
  metrics: readonly string[],
  sample: FinalitySample,
): Promise<Pick<DevnetSummary, 'finalityP50Ms' | 'finalityP99Ms' | 'finalitySource'>> {
  const { latenciesMs } = await sample.latencies(apis)
  if (latenciesMs.length > 0) {
    return {
      finalityP50Ms: quantile(latenciesMs, 0.5),
      finalityP99Ms: quantile(latenciesMs, 0.99),
      finalitySource: `tracker: ${latenciesMs.length} of ${sample.transfers.length} sampled transfers`,
    }
  }
  const buckets = sumBuckets(metrics)
  return { finalityP50Ms: histogramQuantileMs(buckets, 0.5), finalityP99Ms: histogramQuantileMs(buckets, 0.99), finalitySource: 'histogram' }
}

/** Fraud proofs carried in the certified results, as the first node that answers holds them. */
async function fraudProofsOf(apis: readonly NodeApi[]): Promise<number | null> {
  for (const api of apis) {
    try {
      return (await api.certifiedRounds()).reduce((sum, round) => sum + round.faults.length, 0)
    } catch {
      // That node is gone (it exited): ask the next.
    }
  }
  return null
}

function faultsOf(texts: readonly string[], fraudProofs: number | null, counters: LoadCounters, end: NetworkTotals, before: NetworkTotals): DevnetFaults {
  const sum = (name: string) => texts.reduce((total, text) => total + sumMetric(text, name), 0)
  return {
    certificatesRejected: sum('constellation_consensus_certificates_rejected'),
    fraudProofs,
    failedProposals: end.refused - before.refused,
    nodeErrors: sum('constellation_node_errors_total'),
    requestErrors: counters.errors - (counters.rejected.get('BUSY') ?? 0),
    // Counted when the nodes are stopped (see runDevnet).
    nodeExits: 0,
  }
}

/** `sol-0: 4 members, 4 facilitators; …; cluster (level 1): 4 validators, 4 facilitators` for the start line. */
function describeGroups(genesis: NetworkGenesis): string {
  const systems = foundedSolarSystems(genesis).map((s) => `${s.group}: ${s.members.length} members, ${s.facilitators} facilitators`)
  const levels = foundedLevels(genesis).map((g) => `${g.group} (level ${g.level}): ${g.validators.length} validators, ${g.facilitators} facilitators`)
  return [...systems, ...levels].join('; ')
}

function describeOffer(rate: number | undefined, concurrency: number, batch: number, window: number | undefined): string {
  if (rate !== undefined) return `${rate} tx/s offered in batches of at most ${batch}`
  return `closed loop, ${concurrency} outstanding batches of ${batch} transfers per node${window === undefined || rate !== undefined ? '' : `, at most ${window} not final per node`}`
}

function checkOptions(nodes: number, durationS: number, facilitators: number, concurrency: number, rate: number | undefined, batch: number): void {
  if (!Number.isInteger(batch) || batch < 1 || batch > 1_000) throw new RangeError(`batch must be an integer from 1 to 1000, got ${batch}`)
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > 64) throw new RangeError(`nodes must be an integer from 2 to 64, got ${nodes}`)
  if (!Number.isFinite(durationS) || durationS <= 0 || durationS > 86_400)
    throw new RangeError(`durationS must be more than 0 and at most a day, got ${durationS}`)
  if (!Number.isInteger(facilitators) || facilitators < 1 || facilitators > nodes)
    throw new RangeError(`facilitators must be an integer from 1 to nodes (${nodes}), got ${facilitators}`)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1_024)
    throw new RangeError(`concurrency must be an integer from 1 to 1024, got ${concurrency}`)
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) throw new RangeError(`rate must be a positive number of transfers per second, got ${rate}`)
}
