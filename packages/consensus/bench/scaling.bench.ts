/**
 * Horizontal scaling of the hierarchy: transfers final up to the root per second for 1, 2, 4, … 64 solar systems of
 * 156 members each (9,984 nodes at 64), the real round machine at every level (solar systems, star clusters of up to
 * 8 children, the root), on the seeded discrete-event simulator under a stated cost model:
 *   - CPU: each node has one core; every signature its code verifies or makes costs the time this machine takes for
 *     one ed25519 verify / sign, measured at the start of this run (the crypto benchmark's method: a tight loop over
 *     one key). Hashing, encoding and message handling are not charged.
 *   - network: one-way latency uniform in [10, 50] ms per message; every node's uplink carries 12.5 MB/s (100 Mbit/s),
 *     messages leave one after another; certificates reach a group by gossip, ceil(log_6 size) relays.
 *   - workload: members pair up; in each pair one member proposes 10 transfers per round to the other; a transfer
 *     counts as final when both partners' next checkpoints are in solar-system certificates that the root has
 *     committed (through the star clusters).
 *   - transfer cost: measured at the start of this run on the anchored flow (test/support/transfer-cost.ts: 8 real
 *     anchored nodes and solar-system nodes, n = 4, on the seeded network simulator, each node's signatures and bytes
 *     counted by role), then charged where the real flow spends it: the proposer signs and sends its frame, the
 *     counterparty checks, signs and answers, the proposer checks the answer; every facilitator checks each half its
 *     member submits (once) and receives its bytes; each half adds its summary entry to every copy of a level-0
 *     proposal, each finalised transfer its ledger entries and leaf to the level-0 certificate, and its ledger
 *     entries to the child certificate a star cluster proposes (counted against the cluster's proposal bound).
 * Efficiency = throughput(S) / (S × throughput(1)); target >= 0.9 at 64.
 *
 * Run: pnpm --filter @constellation/consensus bench:scaling            (full: 1 … 64 solar systems)
 *      pnpm --filter @constellation/consensus bench:scaling -- --quick (1, 2, 4 solar systems of 32 members)
 *      … -- --systems=1,8,64                                          (only these points)
 *      … -- --what-if=child-headers   (NOT the system as built: parents carry child certificates without the
 *                                      transfers' ledger entries, as a result split into a header and a body
 *                                      commitment would let them; for comparison only)
 * Writes docs/scaling.svg and docs/scaling.json (full runs of the system as built only).
 */
import { writeFileSync } from 'node:fs'
import { loadCrypto } from '@constellation/crypto'
import { measureScaling, type ScalingConfig, type ScalingPoint, scalingEfficiency } from '../test/support/hierarchy-scaling.js'
import { describeNetworkCost, describeTransferCost, measureTransferCost } from '../test/support/transfer-cost.js'

const quick = process.argv.includes('--quick')
const only = process.argv.find((arg) => arg.startsWith('--systems='))?.slice('--systems='.length)
const whatIf = process.argv.find((arg) => arg.startsWith('--what-if='))?.slice('--what-if='.length)
if (whatIf !== undefined && whatIf !== 'child-headers') throw new Error(`unknown --what-if=${whatIf} (known: child-headers)`)
const crypto = await loadCrypto()

/** Operations per second of `op`, over about one second (as the crypto benchmark measures). */
function rate(op: () => void): number {
  let count = 0
  const start = performance.now()
  while (performance.now() - start < 1_000) {
    for (let i = 0; i < 200; i++) op()
    count += 200
  }
  return count / ((performance.now() - start) / 1_000)
}

const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(7))
const message = crypto.sha256(new Uint8Array([1, 2, 3]))
const signature = crypto.sign(message, keyPair)
const verifies = rate(() => crypto.verify(signature, message, keyPair.publicKey))
const signs = rate(() => crypto.sign(message, keyPair))
// What one transfer costs each role, measured on the real anchored flow with the bench's workload and latency.
const probeStart = performance.now()
const transfer = await measureTransferCost({ crypto, seed: 'scaling', members: 8, facilitators: 4, transactionsPerRound: 10, loadRounds: quick ? 4 : 12 })
const probeSeconds = (performance.now() - probeStart) / 1_000

const config: ScalingConfig = {
  crypto,
  membersPerSystem: quick ? 32 : 156,
  facilitators: 4,
  fanOut: 8,
  validatorsPerGroup: 8,
  upperFacilitators: 4,
  transactionsPerRound: 10,
  transfer: whatIf === 'child-headers' ? { ...transfer, childCertificateBytesPerTransfer: 0 } : transfer,
  verifyMs: 1_000 / verifies,
  signMs: 1_000 / signs,
  latencyMinMs: 10,
  latencyMaxMs: 50,
  bytesPerMs: 12_500,
  warmupMs: 2_000,
  windowMs: 6_000,
}
const systems = only !== undefined ? only.split(',').map(Number) : quick ? [1, 2, 4] : [1, 2, 4, 8, 16, 32, 64]
if (!systems.every((count) => Number.isSafeInteger(count) && count >= 1)) throw new Error(`--systems takes counts of solar systems, e.g. --systems=1,8,64`)

console.log(
  `machine: ed25519 verify ${Math.round(verifies).toLocaleString('en-US')}/s, sign ${Math.round(signs).toLocaleString('en-US')}/s (${crypto.backend}), measured now`,
)
console.log(
  `cost model: verify ${(config.verifyMs * 1_000).toFixed(1)} µs, sign ${(config.signMs * 1_000).toFixed(1)} µs of CPU; latency ${config.latencyMinMs}–${config.latencyMaxMs} ms; uplink ${config.bytesPerMs / 1_000} MB/s`,
)
console.log(`transfer cost measured on the anchored flow in this run (per transfer): ${describeTransferCost(transfer)}`)
if (whatIf !== undefined) console.log(`WHAT-IF ${whatIf}: child certificates charged without the transfers' ledger entries — not the system as built`)
console.log(`  ${describeNetworkCost(transfer)}; ${probeSeconds.toFixed(1)} s`)
console.log(
  `solar systems of ${config.membersPerSystem} members, n = ${config.facilitators}; clusters of up to ${config.fanOut} children, ${config.validatorsPerGroup} validators, n = ${config.upperFacilitators}; one member of each pair pays the other ${config.transactionsPerRound} transfers per round; window ${config.windowMs / 1_000} s after ${config.warmupMs / 1_000} s\n`,
)
// The baseline is one solar system's throughput averaged over four seeds: at 64 the average over 64 systems is
// what is measured, and one system's round time alone varies with its latency draws by a few percent.
const baselines = ['a', 'b', 'c', 'd'].map((seed) => measureScaling(config, 1, `scaling-${seed}`))
const single: ScalingPoint = { ...(baselines[0] as ScalingPoint), finalPerSecond: baselines.reduce((sum, p) => sum + p.finalPerSecond, 0) / baselines.length }
console.log(
  `baseline, one solar system over 4 seeds: ${baselines.map((p) => Math.round(p.finalPerSecond)).join(', ')} tx/s, mean ${Math.round(single.finalPerSecond)}\n`,
)
console.log(
  '| solar systems | nodes | levels | final tx/s | per system | efficiency | solar rounds/s | root rounds/s | committed by clusters | busiest CPU | busiest uplink | wall |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
const points: ScalingPoint[] = [single]
for (const count of systems) {
  const point = count === 1 ? single : measureScaling(config, count)
  if (count !== 1) points.push(point)
  console.log(
    `| ${count} | ${point.nodes.toLocaleString('en-US')} | ${point.levels} | ${Math.round(point.finalPerSecond).toLocaleString('en-US')} | ${Math.round(point.finalPerSecond / count).toLocaleString('en-US')} | ${scalingEfficiency(point, single).toFixed(3)} | ${point.roundsPerSecond.toFixed(2)} | ${point.rootRoundsPerSecond.toFixed(2)} | ${(point.committedByParents * 100).toFixed(0)}% | ${(point.busiestCpu * 100).toFixed(1)}% (${point.busiestCpuRole}) | ${(point.busiestUplink * 100).toFixed(1)}% (${point.busiestUplinkRole}) | ${point.wallSeconds.toFixed(0)} s |`,
  )
}

if (!quick && only === undefined && whatIf === undefined) {
  const docs = new URL('../docs/', import.meta.url)
  writeFileSync(new URL('scaling.svg', docs), plot(points))
  const { transfer: _measured, ...model } = config
  writeFileSync(
    new URL('scaling.json', docs),
    `${JSON.stringify({ verifiesPerSecond: Math.round(verifies), signsPerSecond: Math.round(signs), transferCost: transfer, config: { ...model, crypto: crypto.backend }, baselines, points }, null, 2)}\n`,
  )
  console.log('\nwrote docs/scaling.svg and docs/scaling.json')
}

/** Measured throughput against linear scaling from one solar system, log–log. */
function plot(data: readonly ScalingPoint[]): string {
  const [width, height, left, right, top, bottom] = [640, 400, 80, 20, 40, 60]
  const single = (data[0] as ScalingPoint).finalPerSecond
  const maxX = Math.max(...data.map((p) => p.systems))
  const maxY = Math.max(single * maxX, ...data.map((p) => p.finalPerSecond))
  const x = (systems: number) => left + (Math.log2(systems) / Math.log2(maxX)) * (width - left - right)
  const y = (value: number) => height - bottom - (Math.log10(value / single) / Math.log10(maxY / single)) * (height - top - bottom)
  const line = (values: readonly [number, number][]) => values.map(([sx, v], i) => `${i === 0 ? 'M' : 'L'}${x(sx).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  const ticks = data.map((p) => `<text x="${x(p.systems).toFixed(1)}" y="${height - bottom + 20}" text-anchor="middle">${p.systems}</text>`).join('')
  const yTicks = data
    .map((p) => single * p.systems)
    .map((v) => `<text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Math.round(v).toLocaleString('en-US')}</text>`)
    .join('')
  const dots = data.map((p) => `<circle cx="${x(p.systems).toFixed(1)}" cy="${y(p.finalPerSecond).toFixed(1)}" r="4" fill="#1f6feb"/>`).join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">Transfers final up to the root per virtual second (simulated, cost model in README)</text>
<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>
${ticks}${yTicks}
<text x="${width / 2}" y="${height - 15}" text-anchor="middle">solar systems (${data.at(-1)?.nodes.toLocaleString('en-US')} nodes at ${maxX})</text>
<path d="${line(data.map((p) => [p.systems, single * p.systems]))}" stroke="#999" stroke-dasharray="6 4" fill="none"/>
<path d="${line(data.map((p) => [p.systems, p.finalPerSecond]))}" stroke="#1f6feb" stroke-width="2" fill="none"/>
${dots}
<text x="${left + 10}" y="${top + 10}" fill="#999">dashed: linear from 1 solar system</text>
<text x="${left + 10}" y="${top + 26}" fill="#1f6feb">solid: measured</text>
</svg>
`
}
