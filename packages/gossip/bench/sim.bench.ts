/**
 * SimNetwork at scale: wall time and memory to spread one 256-byte message to every node of 1,000 and 10,000
 * nodes, delivery ratio and hops under 10% loss (with and without anti-entropy), and simulated messages per
 * second — beside the raw agenda (pop + push of a no-op event) measured in the same run as the baseline, so the
 * ratio says what a simulated transmission costs over the bare event loop.
 *
 * Run: pnpm bench:sim (in packages/gossip). Heap figures are exact only with --expose-gc (the script passes it).
 */
import { loadCrypto } from '@constellation/crypto'
import { cpus } from 'node:os'
import { SimNetwork, type SimNetworkOptions } from '../src/index.js'
import { EventQueue } from '../src/sim/event-queue.js'

const crypto = await loadCrypto()
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`

/** The hold model: keep `pending` events on the agenda, pop the earliest and push one later, `events` times. */
function rawAgendaRate(pending: number, events: number): number {
  const queue = new EventQueue()
  let now = 0
  const noop = () => {}
  for (let i = 0; i < pending; i++) queue.push(Math.random() * 40, noop)
  const start = performance.now()
  for (let i = 0; i < events; i++) {
    const event = queue.pop() as NonNullable<ReturnType<EventQueue['pop']>>
    now = event.time
    event.run()
    queue.push(now + 10 + Math.random() * 40, noop)
  }
  return events / ((performance.now() - start) / 1000)
}

interface Outcome {
  nodes: number
  setupMs: number
  spreadMs: number
  heapMB: number
  reached: number
  meanHops: number
  maxHops: number
  virtualMs: number
  transmissions: number
  transmissionsPerSecond: number
}

async function spread(nodes: number, options: Partial<SimNetworkOptions>, runFor?: number): Promise<Outcome> {
  globalThis.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const t0 = performance.now()
  const sim = new SimNetwork({ crypto, seed: `bench-${nodes}`, antiEntropyIntervalMs: 0, ...options })
  const all = await sim.addNodes(nodes)
  let reached = 0
  for (const node of all) {
    node.subscribe('/bench', () => {
      reached++
      return 'accept'
    })
  }
  await sim.run({ until: sim.clock.now() + 1 })
  const t1 = performance.now()
  const startVirtual = sim.clock.now()
  const sentBefore = sim.stats.sent.gossip + sim.stats.sent.control
  await all[0]!.publish('/bench', new Uint8Array(256).fill(1))
  await sim.run(runFor === undefined ? {} : { until: startVirtual + runFor })
  const t2 = performance.now()
  const heapAfter = process.memoryUsage().heapUsed
  const transmissions = sim.stats.sent.gossip + sim.stats.sent.control - sentBefore
  return {
    nodes,
    setupMs: t1 - t0,
    spreadMs: t2 - t1,
    heapMB: (heapAfter - heapBefore) / 1e6,
    reached: reached / (nodes - 1),
    meanHops: sim.stats.hopsTotal / Math.max(1, sim.stats.delivered),
    maxHops: sim.stats.maxHops,
    virtualMs: sim.clock.now() - startVirtual,
    transmissions,
    transmissionsPerSecond: transmissions / ((t2 - t1) / 1000),
  }
}

console.log(`SimNetwork benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`)
console.log('degree 8, TTL 12, latency uniform 10-50 ms, one 256-byte message from one node\n')

const baseline = rawAgendaRate(50_000, 2_000_000)
console.log(`raw agenda (pop + push of a no-op event, 50,000 pending): ${Math.round(baseline).toLocaleString('en-US')} events/s\n`)

const rows: (Outcome & { label: string })[] = []
for (const nodes of [1_000, 10_000]) rows.push({ label: 'no loss', ...(await spread(nodes, {})) })
for (const nodes of [1_000, 10_000]) rows.push({ label: '10% loss', ...(await spread(nodes, { lossRate: 0.1 })) })
for (const nodes of [1_000, 10_000]) {
  rows.push({
    label: '10% loss + pulls 1 s',
    ...(await spread(nodes, { lossRate: 0.1, degree: 3, antiEntropyIntervalMs: 1000 }, 10_000)),
  })
}
for (const nodes of [1_000, 10_000]) rows.push({ label: '10% loss, degree 3', ...(await spread(nodes, { lossRate: 0.1, degree: 3 })) })

console.log(
  `${'case'.padEnd(22)} ${'nodes'.padStart(6)} ${'setup'.padStart(8)} ${'spread'.padStart(8)} ${'heap'.padStart(7)} ${'reached'.padStart(8)} ${'hops'.padStart(10)} ${'virtual'.padStart(9)} ${'sent'.padStart(9)} ${'sent/s'.padStart(10)} ${'vs raw'.padStart(7)}`,
)
for (const r of rows) {
  console.log(
    `${r.label.padEnd(22)} ${String(r.nodes).padStart(6)} ${`${r.setupMs.toFixed(0)} ms`.padStart(8)} ${`${r.spreadMs.toFixed(0)} ms`.padStart(8)} ${mb(r.heapMB * 1e6).padStart(7)} ${`${(r.reached * 100).toFixed(2)}%`.padStart(8)} ${`${r.meanHops.toFixed(2)}/${r.maxHops}`.padStart(10)} ${`${r.virtualMs.toFixed(0)} ms`.padStart(9)} ${String(r.transmissions).padStart(9)} ${Math.round(r.transmissionsPerSecond).toLocaleString('en-US').padStart(10)} ${(r.transmissionsPerSecond / baseline).toFixed(3).padStart(7)}`,
  )
}
console.log(`\n${JSON.stringify({ rawAgendaEventsPerSecond: Math.round(baseline), rows })}`)
