/**
 * Solar-system consensus on the seeded simulator: rounds, round latency and messages per round for n = 4, 7, 16
 * and 31 facilitators among 64 members, and transactions finalised per second with 64 members transacting.
 *
 * Latency model: every transmission takes a one-way delay drawn uniformly from 10–50 ms; no loss. Virtual-time
 * figures are what the protocol would show on such a network with unlimited CPU; wall-time figures are what one
 * core of this machine manages when it plays all 64 nodes at once (every signature, hash and message of every
 * node), so they bound a single process, not a network. Baseline measured in the same run: the raw ed25519
 * verify rate of this machine.
 *
 * Run: pnpm --filter @constellation/consensus bench   (or: tsx --conditions=source bench/consensus.bench.ts)
 */
import { loadCrypto, toHex } from '@constellation/crypto'
import { sleep, uniformLatency } from '@constellation/gossip'
import type { SolarSystemNode, TransactionHalves } from '../src/index.js'
import { createSolarSystemSim } from '../test/support/solar-system-sim.js'

const quick = process.argv.includes('--quick')
const MEMBERS = 64

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

async function verifyRate(): Promise<number> {
  const crypto = await loadCrypto()
  const pair = crypto.keyPairFromSeed(new Uint8Array(32).fill(7))
  const message = crypto.sha256(new Uint8Array([1, 2, 3]))
  const signature = crypto.sign(message, pair)
  let count = 0
  const start = performance.now()
  while (performance.now() - start < 1_000) {
    for (let i = 0; i < 200; i++) crypto.verify(signature, message, pair.publicKey)
    count += 200
  }
  return count / ((performance.now() - start) / 1_000)
}

async function rounds(facilitators: number, target: number) {
  const sim = await createSolarSystemSim({ seed: `bench-${facilitators}`, members: MEMBERS, facilitators, latency: uniformLatency(10, 50) })
  const member = sim.members[0]!
  const times: number[] = []
  member.consensus.onCertificate(() => times.push(sim.net.clock.now()))
  const wallStart = performance.now()
  await sim.runUntilRound(target, 600_000)
  const wall = (performance.now() - wallStart) / 1_000
  const latencies = times.slice(1).map((t, i) => t - (times[i] as number))
  const stats = sim.members.map((m) => m.consensus.stats)
  const messages = stats.reduce((sum, s) => sum + s.messagesSent, 0)
  const frames = stats.reduce((sum, s) => sum + s.framesSent, 0)
  const certified = member.consensus.history.round
  const checkpoints = member.consensus.history.latest()?.result.body.checkpoints.length ?? 0
  await sim.stop()
  return {
    n: facilitators,
    rounds: certified,
    virtualRoundsPerSecond: certified / (sim.net.clock.now() / 1_000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    wallRoundsPerSecond: certified / wall,
    messagesPerRound: messages / certified,
    framesPerRound: frames / certified,
    checkpoints,
  }
}

/** Resolves once `consensus` applied the round that finalised the transaction, or when `stopped()` at a round. */
function finalised(consensus: SolarSystemNode, tx: TransactionHalves, stopped: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (consensus.finalisedIn(tx) !== undefined || stopped()) {
        off()
        resolve()
      }
    }
    const off = consensus.onFinalised(check)
    check()
  })
}

async function finality(facilitators: number, virtualSeconds: number, concurrency: number) {
  const sim = await createSolarSystemSim({ seed: 'bench-finality', members: MEMBERS, facilitators, latency: uniformLatency(10, 50) })
  await sim.runUntilRound(1)
  const start = sim.net.clock.now()
  const end = start + virtualSeconds * 1_000
  const latencies: number[] = []
  let sent = 0
  let final = 0
  let running = true
  const loop = async (i: number, lane: number) => {
    const me = sim.members[i]!
    let k = lane
    while (running) {
      const other = sim.members[(i + 1 + ((k * 7 + lane) % (MEMBERS - 1))) % MEMBERS]!
      k++
      const began = sim.net.clock.now()
      sent++
      const [outcome] = await me.chain.transfer([{ to: other.keyPair.publicKey, amount: 1 }])
      if (outcome?.status !== 'agreed') {
        // Not agreed (refused, or rejected at a bound: those answer at once): back off before the next one.
        await sleep(sim.net.clock, outcome?.status === 'rejected' ? 100 : 0)
        continue
      }
      await finalised(me.consensus, { proposal: outcome.proposal, agreement: outcome.agreement }, () => !running)
      if (!running) return
      final++
      latencies.push(sim.net.clock.now() - began)
    }
  }
  for (let i = 0; i < MEMBERS; i++) for (let lane = 0; lane < concurrency; lane++) void loop(i, lane)
  const wallStart = performance.now()
  await sim.net.run({ until: end })
  const wall = (performance.now() - wallStart) / 1_000
  running = false
  const rounds = sim.members[0]!.consensus.history.round
  await sim.stop()
  return {
    sent,
    final,
    virtualSeconds,
    wall,
    perVirtualSecond: final / virtualSeconds,
    perWallSecond: final / wall,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rounds,
  }
}

const verifies = await verifyRate()
console.log(`machine: raw ed25519 verify ${Math.round(verifies).toLocaleString('en-US')}/s on one core (baseline)\n`)
console.log('rounds on the simulator, 64 members, one-way latency uniform 10–50 ms')
console.log('| n | t | rounds | virtual rounds/s | round p50 | round p99 | wall rounds/s | messages/round | frames/round | checkpoints/result |')
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (const n of quick ? [4, 7] : [4, 7, 16, 31]) {
  const r = await rounds(n, quick ? 4 : n >= 31 ? 6 : 10)
  console.log(
    `| ${n} | ${Math.floor((n - 1) / 3)} | ${r.rounds} | ${r.virtualRoundsPerSecond.toFixed(2)} | ${r.p50.toFixed(0)} ms | ${r.p99.toFixed(0)} ms | ${r.wallRoundsPerSecond.toFixed(2)} | ${Math.round(r.messagesPerRound).toLocaleString('en-US')} | ${Math.round(r.framesPerRound).toLocaleString('en-US')} | ${r.checkpoints} |`,
  )
}
const f = await finality(16, quick ? 3 : 10, 8)
console.log(`\nfinality, 64 members, n = 16, ${8} transfers in flight per member, ${f.virtualSeconds} virtual s`)
console.log(`  transfers sent ${f.sent.toLocaleString('en-US')}, final ${f.final.toLocaleString('en-US')}, rounds ${f.rounds}`)
console.log(
  `  finalised: ${f.perVirtualSecond.toFixed(0)} tx per virtual second; ${f.perWallSecond.toFixed(0)} tx per wall second (${f.wall.toFixed(1)} s wall)`,
)
console.log(`  finality latency (virtual): p50 ${f.p50.toFixed(0)} ms, p99 ${f.p99.toFixed(0)} ms`)
console.log(`  wall tx/s ÷ (raw verify rate / 2) = ${(f.perWallSecond / (verifies / 2)).toFixed(3)}   (one core plays all 64 nodes)`)
void toHex
