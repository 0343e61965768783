/**
 * A soak run (`constellation soak`): a manifest's network of real node processes (the devnet's layout and cluster),
 * a load of transfers, the manifest's perturbations on schedule, then the invariants.
 *
 * 1. Writes the data dirs and genesis, starts the nodes behind a loopback proxy each (devnet/loopback-proxy.ts, so that
 *    a node's network can be cut), waits until every node has certified two more rounds.
 * 2. Starts the round watch (every node's round a few times a second), the load, and the perturbations, each at its
 *    time after the load started, one at a time.
 * 3. When the load and the last perturbation are over, lets the network settle: waits (at most `settleMs`) until
 *    every node answers, is within `catchUpRounds` of the highest round, the stated balances sum to the supply and
 *    no node's tracker awaits finality; then checks the invariants (invariants.ts), again every few seconds until
 *    they hold or the time is up (a transfer may be a round away from final).
 * 4. Stops the nodes (after SIGCONT to any still paused) and removes the base dir unless asked to keep it (a kept
 *    one also gets soak-transfers.jsonl, every transfer and its answer, and soak-rounds.jsonl, the rounds sampled),
 *    and returns the report (soak-report.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { loadCrypto } from '@constellation/crypto'
import { createRandom } from '@constellation/gossip'
import * as t from 'io-ts'
import { networkMembers } from '../config/network-genesis.js'
import { DevnetCluster } from '../devnet/devnet-cluster.js'
import { checkFreshBaseDir, devnetPaths, writeDevnetLayout } from '../devnet/devnet-layout.js'
import { checkInvariants, type InvariantReport } from './invariants.js'
import { type AppliedPerturbation, Perturber } from './perturber.js'
import { longestStall, recoveryMs, RoundWatch } from './round-watch.js'
import { SoakError, SoakErrorCode } from './soak-error.js'
import { answerCounts, SoakLoadRun } from './soak-load.js'
import { DEFAULT_CATCH_UP_ROUNDS, describePerturbation, schedule, type SoakManifest } from './soak-manifest.js'
import { describeLoad, type PerturbationOutcome, type SoakReport } from './soak-report.js'

const WARM_UP_ROUNDS = 2
const CERTIFYING_TIMEOUT_MS = 90_000
const SETTLE_POLL_MS = 1_000
/** Between passes of the invariant checker while it still finds something and time is left. */
const RECHECK_MS = 3_000

export interface SoakOptions {
  readonly manifest: SoakManifest
  /** Progress notes, one line each. */
  readonly note: (line: string) => void
  /** Default: a new temp dir, removed at the end unless `keep`. */
  readonly baseDir?: string
  readonly keep?: boolean
  readonly signal?: AbortSignal
}

const StatusCodec = t.type({ round: t.number, balance: t.number, transactions: t.type({ awaitingFinality: t.number }) })

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { manifest, note, signal } = options
  const { nodes, facilitators, balance } = manifest.network
  const catchUpRounds = manifest.catchUpRounds ?? DEFAULT_CATCH_UP_ROUNDS
  const crypto = await loadCrypto()
  const baseDir = options.baseDir === undefined ? await mkdtemp(join(tmpdir(), 'constellation-soak-')) : resolve(options.baseDir)
  if (options.baseDir !== undefined) checkFreshBaseDir(baseDir, nodes)
  let cluster: DevnetCluster | undefined
  let perturber: Perturber | undefined
  let watch: RoundWatch | undefined
  try {
    // Behind proxies whatever the manifest holds, so that every run has the same topology (see loopback-proxy.ts).
    const layout = await writeDevnetLayout({ baseDir, nodes, facilitators, balance, crypto, group: `soak-${manifest.seed}`, behindProxies: true })
    const supply = networkMembers(layout.genesis).reduce((sum, member) => sum + member.balance, 0)
    note(`starting ${nodes} nodes (${facilitators} facilitators) in ${baseDir}`)
    cluster = await DevnetCluster.start(layout, signal === undefined ? {} : { signal })
    const running = cluster
    const first = Math.max(...(await Promise.all(running.nodes.map(async (node) => (await node.api.status(signal)).round))))
    await running.untilRound(first + WARM_UP_ROUNDS, { timeoutMs: CERTIFYING_TIMEOUT_MS, ...(signal !== undefined && { signal }) }).catch((error: unknown) => {
      throw new SoakError(SoakErrorCode.RUN_FAILED, `the network did not certify: ${(error as Error).message}`, {}, { cause: error })
    })

    let origin = performance.now()
    const clock = () => origin
    perturber = new Perturber(running, clock)
    await perturber.init()
    const active = perturber
    watch = new RoundWatch({
      nodes,
      origin: clock,
      readRound: async (i, timeout) => (await (running.nodes[i] as (typeof running.nodes)[number]).api.status(timeout)).round,
    })
    const load = new SoakLoadRun({
      load: manifest.load,
      durationMs: manifest.durationMs,
      ids: layout.nodes.map((node) => node.id),
      endpoint: (i) => active.endpoint(i),
      random: createRandom(manifest.seed),
      crypto,
      runId: `soak-${manifest.seed}-${Date.now().toString(36)}`,
      ...(signal !== undefined && { signal }),
    })
    note(`offering ${describeLoad(manifest.load)} for ${manifest.durationMs / 1000} s with ${manifest.perturbations.length} perturbations`)
    origin = performance.now()
    watch.start()
    const applied: AppliedPerturbation[] = []
    await Promise.all([load.run(), perturb(active, manifest, applied, origin, note, signal)])
    const loadSeconds = (load.endedAt - load.startedAt) / 1_000

    // ---- settle ----
    const settleStart = performance.now()
    const settleDeadline = settleStart + manifest.settleMs
    note(`load over (${load.records.length} transfers sent); letting the network settle (at most ${manifest.settleMs / 1000} s)`)
    let settled = false
    let settledAfterMs = manifest.settleMs
    while (!settled && performance.now() < settleDeadline && signal?.aborted !== true) {
      const statuses = await Promise.all(
        running.nodes.map((node) => node.api.get('/v1/status', StatusCodec, AbortSignal.timeout(5_000)).catch(() => undefined)),
      )
      const answered = statuses.filter((status) => status !== undefined)
      if (answered.length === nodes) {
        const roundsOf = answered.map((status) => status.round)
        const spread = Math.max(...roundsOf) - Math.min(...roundsOf)
        const sum = answered.reduce((total, status) => total + status.balance, 0)
        const awaiting = answered.reduce((total, status) => total + status.transactions.awaitingFinality, 0)
        settled = spread <= catchUpRounds && sum === supply && awaiting === 0
        if (settled) settledAfterMs = Math.round(performance.now() - settleStart)
      }
      if (!settled) await delay(SETTLE_POLL_MS)
    }
    const checked: CheckedNodes = running.nodes.map((node, index) => ({ index, id: node.layout.id, api: node.api }))
    let invariants: InvariantReport = await checkInvariants({ nodes: checked, supply, records: load.records, catchUpRounds })
    while (!invariants.ok && performance.now() + RECHECK_MS < settleDeadline && signal?.aborted !== true) {
      await delay(RECHECK_MS)
      invariants = await checkInvariants({ nodes: checked, supply, records: load.records, catchUpRounds })
    }
    await watch.stop()
    // Kept runs keep the evidence too: every transfer with its answer, and the rounds sampled.
    if (options.keep === true) {
      await writeFile(join(baseDir, 'soak-transfers.jsonl'), load.records.map((record) => `${JSON.stringify(record)}\n`).join(''))
      await writeFile(join(baseDir, 'soak-rounds.jsonl'), watch.samples.map((sample) => `${JSON.stringify(sample)}\n`).join(''))
    }

    const outcomes = applied.map((p): PerturbationOutcome => {
      const recovered = p.error === undefined ? recoveryMs(watch?.samples ?? [], p.endedAtMs, p.nodes) : undefined
      return {
        description: p.description,
        atMs: p.plannedAtMs,
        startedAtMs: p.startedAtMs,
        endedAtMs: p.endedAtMs,
        recoveredAfterMs: recovered ?? null,
        survived: recovered !== undefined,
        ...(p.error === undefined ? {} : { error: p.error }),
      }
    })
    const stall = longestStall(watch.samples.filter((sample) => sample.atMs >= 0))
    const counts = answerCounts(load.records)
    const rejected: Record<string, number> = {}
    for (const record of load.records) if (record.answer === 'rejected' && record.code !== undefined) rejected[record.code] = (rejected[record.code] ?? 0) + 1
    const survived = outcomes.filter((o) => o.survived).length
    return {
      seed: manifest.seed,
      nodes,
      facilitators,
      load: describeLoad(manifest.load),
      loadSeconds,
      perturbations: { planned: manifest.perturbations.length, applied: applied.length, survived, outcomes },
      transfers: { sent: load.records.length, shed: load.shed, answers: counts, rejected },
      invariants,
      longestStall: stall === undefined ? null : { ms: stall.toMs - stall.fromMs, round: stall.round, ended: stall.ended, cause: causeOf(stall, applied) },
      settleMs: settledAfterMs,
      settled,
      ok: invariants.ok && survived === applied.length && applied.length === manifest.perturbations.length,
    }
  } finally {
    await watch?.stop()
    perturber?.resumeAll()
    if (cluster !== undefined) await cluster.stop()
    if (options.keep === true) note(`kept ${baseDir}`)
    else if (options.baseDir === undefined) await rm(baseDir, { recursive: true, force: true })
    else {
      const { genesisFile, dataDirs } = devnetPaths(baseDir, nodes)
      await Promise.all([genesisFile, ...dataDirs].map((path) => rm(path, { recursive: true, force: true })))
    }
  }
}

type CheckedNodes = Parameters<typeof checkInvariants>[0]['nodes']

/** The perturbations in order, each at its time (or as soon as the previous one is over). */
async function perturb(
  perturber: Perturber,
  manifest: SoakManifest,
  applied: AppliedPerturbation[],
  origin: number,
  note: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const perturbation of schedule(manifest)) {
    const wait = perturbation.atMs - (performance.now() - origin)
    if (wait > 0) await delay(wait, undefined, signal === undefined ? {} : { signal }).catch(() => {})
    if (signal?.aborted === true) return
    note(`${((performance.now() - origin) / 1000).toFixed(1)} s: ${describePerturbation(perturbation)}`)
    const done = await perturber.apply(perturbation)
    applied.push(done)
    if (done.error !== undefined) note(`  failed: ${done.error}`)
  }
}

/** What was under way during a stall: the perturbations whose span overlaps it. */
function causeOf(stall: { readonly fromMs: number; readonly toMs: number }, applied: readonly AppliedPerturbation[]): string {
  const overlapping = applied.filter((p) => p.startedAtMs <= stall.toMs && p.endedAtMs >= stall.fromMs)
  if (overlapping.length === 0) return 'no perturbation under way'
  return overlapping.map((p) => `${p.description} at ${(p.startedAtMs / 1000).toFixed(1)} s`).join('; ')
}
