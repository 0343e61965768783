/**
 * The solar-system consensus over Libp2pNetwork between local processes on 127.0.0.1.
 *
 * Rounds: for n = 4, 7, 16, 31 facilitators (members = n, every member a facilitator, spread over at most 8
 * processes), rounds per second, the round interval p50/p99 (time between consecutive certificates at member 0),
 * how long after the first member the last member holds a certificate, and messages and frames per round (all
 * facilitators together; messages are protocol messages, frames the requests that carry them). Transactions: N =
 * 64 members, n = 16, a load generator in every process proposes transfers between random pairs (proposer hosted
 * there) at a fixed concurrency; a transaction counts when it is final at its proposer (the proposer applied the
 * round that finalised it: `onFinalised` / `finalisedIn`); finality latency runs from the proposal to then.
 *
 * Baselines in the same run: this machine's ed25519 verifications per second (one core, @constellation/crypto);
 * and Checo's published anchors (~76 s rounds at n = 32; ~4,800 validated tx/s over 1,200 nodes on 30 machines,
 * i.e. ~160 tx/s per machine) quoted as constants.
 *
 * Run (in packages/consensus):
 *   flock /tmp/constellation-bench.lock pnpm bench:libp2p [--rounds=4,7,16,31] [--tx-seconds=40] [--no-tx]
 */
import { cpus, loadavg } from 'node:os'
import { loadCrypto } from '@constellation/crypto'
import { type SolarCluster, startSolarCluster } from './support/solar-cluster.js'
import type { MemberStats } from './support/solar-genesis.js'

const MAX_PROCESSES = 8
/** Rounds measured per n, after two warm-up rounds: enough for a p99 where rounds are fast, bounded where slow. */
const MEASURED_ROUNDS: Record<number, number> = { 4: 60, 7: 40, 16: 12, 31: 4 }
const CHECO_ROUND_S_AT_32 = 76
const CHECO_TX_PER_S = 4_800
const CHECO_MACHINES = 30

const args = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string | undefined]))
const roundSizes = (args.get('rounds') ?? '4,7,16,31').split(',').filter(Boolean).map(Number)
const txSeconds = Number(args.get('tx-seconds') ?? 40)
const runTx = !args.has('no-tx')

const fmt = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'
const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

/** ed25519 verifications per second on one core, through the crypto package's facade. */
async function verifyRate(): Promise<number> {
  const crypto = await loadCrypto()
  const keyPair = crypto.generateKeyPair()
  const message = crypto.sha256(new TextEncoder().encode('baseline'))
  const signature = crypto.sign(message, keyPair)
  for (let i = 0; i < 500; i++) crypto.verify(signature, message, keyPair.publicKey)
  const count = 5_000
  const started = performance.now()
  for (let i = 0; i < count; i++) crypto.verify(signature, message, keyPair.publicKey)
  return count / ((performance.now() - started) / 1000)
}

/** Everyone's protocol messages and frames between two stats snapshots, per round each member went through. */
function perRound(before: readonly MemberStats[], after: readonly MemberStats[]): { messages: number; frames: number } {
  let messages = 0
  let frames = 0
  for (const end of after) {
    const start = before.find((s) => s.member === end.member)
    if (start === undefined || end.round === start.round) continue
    messages += (end.messagesSent - start.messagesSent) / (end.round - start.round)
    frames += (end.framesSent - start.framesSent) / (end.round - start.round)
  }
  return { messages, frames }
}

interface RoundResult {
  readonly n: number
  readonly processes: number
  readonly connectS: number
  readonly roundsPerS: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly spreadP50Ms: number
  readonly messages: number
  readonly frames: number
}

async function withCluster<T>(members: number, facilitators: number, run: (cluster: SolarCluster) => Promise<T>): Promise<T> {
  const cluster = await startSolarCluster({ seed: `bench-${members}-${facilitators}`, members, facilitators }, Math.min(members, MAX_PROCESSES))
  try {
    return await run(cluster)
  } finally {
    const codes = await cluster.stop()
    if (codes.some((code) => code !== 0)) console.error(`node processes exited with ${codes.join(', ')}`)
  }
}

async function measureRounds(n: number): Promise<RoundResult> {
  const started = performance.now()
  return withCluster(n, n, async (cluster) => {
    const connectS = (performance.now() - started) / 1000
    const warmUp = 2
    const measured = MEASURED_ROUNDS[n] ?? 5
    await cluster.untilRound(warmUp)
    const before = await cluster.stats()
    await cluster.untilRound(warmUp + measured)
    const after = await cluster.stats()
    const byMember = cluster.byMember()
    const first = byMember.get(0) as Map<number, { at: number }>
    const intervals: number[] = []
    const spreads: number[] = []
    for (let round = warmUp + 1; round <= warmUp + measured; round++) {
      intervals.push((first.get(round)?.at ?? Number.NaN) - (first.get(round - 1)?.at ?? Number.NaN))
      const times = [...byMember.values()].map((rounds) => rounds.get(round)?.at ?? Number.NaN)
      spreads.push(Math.max(...times) - Math.min(...times))
    }
    const windowMs = (first.get(warmUp + measured)?.at ?? Number.NaN) - (first.get(warmUp)?.at ?? Number.NaN)
    const { messages, frames } = perRound(before, after)
    const errors = cluster.processes.flatMap((p) => p.errors)
    if (errors.length > 0) console.error(`n = ${n}: ${errors.length} node errors, first: ${errors[0]}`)
    return {
      n,
      processes: cluster.processes.length,
      connectS,
      roundsPerS: measured / (windowMs / 1000),
      p50Ms: percentile(intervals, 0.5),
      p99Ms: percentile(intervals, 0.99),
      spreadP50Ms: percentile(spreads, 0.5),
      messages,
      frames,
    }
  })
}

interface TxResult {
  readonly members: number
  readonly n: number
  readonly concurrency: number
  readonly windowS: number
  readonly proposed: number
  readonly final: number
  readonly failed: number
  readonly txPerS: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly roundsInWindow: number
  readonly firstError: string | undefined
}

async function measureTransactions(members: number, n: number, concurrencyPerProcess: number, windowS: number): Promise<TxResult> {
  return withCluster(members, n, async (cluster) => {
    await cluster.untilRound(2)
    const roundBefore = Math.min(...(await cluster.stats()).map((s) => s.round))
    const reports = await cluster.load(concurrencyPerProcess, windowS * 1000)
    const roundAfter = Math.min(...(await cluster.stats()).map((s) => s.round))
    const latencies = reports.flatMap((r) => r.finalLatenciesMs)
    return {
      members,
      n,
      concurrency: concurrencyPerProcess * cluster.processes.length,
      windowS,
      proposed: reports.reduce((sum, r) => sum + r.proposed, 0),
      final: latencies.length,
      failed: reports.reduce((sum, r) => sum + r.failed, 0),
      txPerS: latencies.length / windowS,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      roundsInWindow: roundAfter - roundBefore,
      firstError: reports.find((r) => r.firstError !== undefined)?.firstError,
    }
  })
}

console.log(`# Solar-system consensus over libp2p between local processes — ${new Date().toISOString()}`)
console.log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
const verifiesPerS = await verifyRate()
console.log(`baseline: ed25519 verify, one core: ${fmt(verifiesPerS)}/s`)

const rounds: RoundResult[] = []
for (const n of roundSizes) {
  const result = await measureRounds(n)
  rounds.push(result)
  console.log(`n = ${n}: ${fmt(result.roundsPerS, 2)} rounds/s, p50 ${fmt(result.p50Ms)} ms (load average ${loadavg()[0]?.toFixed(2)})`)
}
let tx: TxResult | undefined
if (runTx) {
  tx = await measureTransactions(64, 16, 8, txSeconds)
  console.log(`N = 64: ${fmt(tx.txPerS, 1)} tx/s final (load average ${loadavg()[0]?.toFixed(2)})`)
}

console.log(
  '\n| n (= members) | processes | mesh up | rounds/s | round p50 | round p99 | last member behind first (p50) | messages/round | frames/round | round p50 in ed25519 verifies |',
)
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const r of rounds) {
  console.log(
    `| ${r.n} | ${r.processes} | ${fmt(r.connectS, 1)} s | ${fmt(r.roundsPerS, 2)} | ${fmt(r.p50Ms)} ms | ${fmt(r.p99Ms)} ms | ${fmt(r.spreadP50Ms)} ms | ${fmt(r.messages)} | ${fmt(r.frames)} | ${fmt((r.p50Ms / 1000) * verifiesPerS)} |`,
  )
}
const largest = rounds.at(-1)
if (largest !== undefined) {
  console.log(
    `\nCheco's ~${CHECO_ROUND_S_AT_32} s rounds at n = 32 / our round p50 at n = ${largest.n}: ${fmt(CHECO_ROUND_S_AT_32 / (largest.p50Ms / 1000), 1)}×`,
  )
}
if (tx !== undefined) {
  console.log(`\n| members | n | in flight | window | proposed | final at proposer | failed | final tx/s | finality p50 | finality p99 | rounds in window |`)
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  console.log(
    `| ${tx.members} | ${tx.n} | ${tx.concurrency} | ${tx.windowS} s | ${fmt(tx.proposed)} | ${fmt(tx.final)} | ${fmt(tx.failed)} | ${fmt(tx.txPerS, 1)} | ${fmt(tx.p50Ms)} ms | ${fmt(tx.p99Ms)} ms | ${tx.roundsInWindow} |`,
  )
  if (tx.firstError !== undefined) console.log(`first failure: ${tx.firstError}`)
  const perMachine = CHECO_TX_PER_S / CHECO_MACHINES
  console.log(
    `\nfinal tx/s on this one machine / Checo's per machine (${fmt(CHECO_TX_PER_S)} over ${CHECO_MACHINES} = ${fmt(perMachine)}): ${fmt(tx.txPerS / perMachine, 2)}×`,
  )
  console.log(`final tx/s / ed25519 verifies per second on one core: ${fmt(tx.txPerS / verifiesPerS, 4)}`)
}
