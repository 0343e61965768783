/**
 * Libp2pNetwork between separate processes on 127.0.0.1: 256-byte messages from one publisher to every other
 * node of a 2-node and an 8-node full mesh — delivered messages per second per receiving node and one-way
 * latency p50/p99, in a burst (as fast as the publisher's backpressure allows) and paced (light load) — by
 * Gossipsub and, as the same-run baseline, by the seed's epidemic flood over the same nodes' request/response
 * streams; plus request/response round trips per second with 1 and 16 requests in flight.
 *
 * Run (in packages/gossip):
 *   flock /tmp/constellation-bench.lock pnpm exec tsx --conditions=source bench/libp2p.bench.ts
 * Each node is a child process (bench/libp2p-bench-node.ts) driven over IPC; latency uses each process's
 * performance.timeOrigin + performance.now(), which agree on one machine.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { BenchCommand, BenchReply, Mode } from './libp2p-bench-node.js'

const NODE_SCRIPT = fileURLToPath(new URL('./libp2p-bench-node.ts', import.meta.url))
const RECEIVE_TIMEOUT_MS = 120_000

class BenchNode {
  readonly #child: ChildProcess
  readonly #inbox: BenchReply[] = []
  readonly #waiters: { match: (reply: BenchReply) => boolean; resolve: (reply: BenchReply) => void }[] = []
  peerId = ''
  address = ''

  constructor() {
    this.#child = spawn(process.execPath, [...process.execArgv, NODE_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#child.on('message', (reply: BenchReply) => {
      const index = this.#waiters.findIndex((waiter) => waiter.match(reply))
      if (index < 0) this.#inbox.push(reply)
      else this.#waiters.splice(index, 1)[0]?.resolve(reply)
    })
    this.#child.on('exit', (code) => {
      if (code !== 0 && code !== null) {
        console.error(`bench node exited with ${code}`)
        process.exit(1)
      }
    })
  }

  send(command: BenchCommand): void {
    this.#child.send(command)
  }

  next<K extends BenchReply['reply']>(kind: K): Promise<Extract<BenchReply, { reply: K }>> {
    const match = (reply: BenchReply) => reply.reply === kind
    const queued = this.#inbox.findIndex(match)
    if (queued >= 0) return Promise.resolve(this.#inbox.splice(queued, 1)[0] as Extract<BenchReply, { reply: K }>)
    return new Promise((resolve) => this.#waiters.push({ match, resolve: resolve as (reply: BenchReply) => void }))
  }

  exited(): Promise<void> {
    return this.#child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => this.#child.once('exit', () => resolve()))
  }
}

async function startMesh(count: number): Promise<BenchNode[]> {
  const nodes = Array.from({ length: count }, () => new BenchNode())
  for (const node of nodes) node.send({ cmd: 'start' })
  for (const node of nodes) {
    const started = await node.next('started')
    node.peerId = started.peerId
    node.address = started.address
  }
  nodes.forEach((node, i) =>
    node.send({
      cmd: 'connect',
      addresses: nodes.slice(0, i).map((other) => other.address),
      peers: nodes.filter((other) => other !== node).map((other) => other.peerId),
    }),
  )
  await Promise.all(nodes.map((node) => node.next('connected')))
  return nodes
}

async function stopMesh(nodes: BenchNode[]): Promise<void> {
  for (const node of nodes) node.send({ cmd: 'stop' })
  await Promise.all(nodes.map((node) => node.exited()))
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
const median = (values: readonly number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  )

interface Dissemination {
  readonly nodes: number
  readonly mode: Mode
  readonly load: string
  readonly messages: number
  readonly deliveredRatio: number
  /** Median over the receiving nodes of messages delivered per second (first send to last arrival). */
  readonly perNodeRate: number
  readonly p50Ms: number
  readonly p99Ms: number
}

let runCounter = 1

async function disseminate(nodes: BenchNode[], mode: Mode, count: number, ratePerSecond?: number): Promise<Dissemination> {
  const run = runCounter++
  const [publisher, ...receivers] = nodes as [BenchNode, ...BenchNode[]]
  for (const node of receivers) node.send({ cmd: 'receive', run, count, timeoutMs: RECEIVE_TIMEOUT_MS })
  await Promise.all(receivers.map((node) => node.next('armed')))
  publisher.send({ cmd: 'publish', run, mode, count, ...(ratePerSecond !== undefined && { ratePerSecond }) })
  const published = await publisher.next('published')
  const received = await Promise.all(receivers.map((node) => node.next('received')))
  const latencies = received.flatMap((r) => r.latenciesMs).sort((a, b) => a - b)
  const rates = received.map((r) => (r.latenciesMs.length === 0 ? 0 : r.latenciesMs.length / ((r.lastAt - published.startedAt) / 1000)))
  return {
    nodes: nodes.length,
    mode,
    load: ratePerSecond === undefined ? 'burst' : `paced ${ratePerSecond}/s`,
    messages: count,
    deliveredRatio: latencies.length / (count * receivers.length),
    perNodeRate: median(rates),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  }
}

async function roundTrips(nodes: BenchNode[], count: number, inFlight: number): Promise<number> {
  const [a, b] = nodes as [BenchNode, BenchNode]
  a.send({ cmd: 'requests', peer: b.peerId, count, inFlight })
  const { elapsedMs } = await a.next('requested')
  return count / (elapsedMs / 1000)
}

const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

console.log(`# Libp2pNetwork benchmark — ${new Date().toISOString()}`)
console.log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)

const results: Dissemination[] = []
const plan = [
  { nodes: 2, burst: 5_000, paced: 500, rate: 200 },
  { nodes: 8, burst: 1_000, paced: 200, rate: 50 },
]
let rpc: { one: number; sixteen: number } | undefined
for (const { nodes: size, burst, paced, rate } of plan) {
  const nodes = await startMesh(size)
  // Warm up both paths (JIT, stream opening) before measuring.
  await disseminate(nodes, 'gossipsub', 200)
  await disseminate(nodes, 'flood', 200)
  for (const mode of ['gossipsub', 'flood'] as const) {
    results.push(await disseminate(nodes, mode, burst))
    results.push(await disseminate(nodes, mode, paced, rate))
  }
  if (size === 2) {
    await roundTrips(nodes, 1_000, 16)
    rpc = { one: await roundTrips(nodes, 3_000, 1), sixteen: await roundTrips(nodes, 10_000, 16) }
  }
  await stopMesh(nodes)
}

console.log('\n| nodes | broadcast | load | messages | delivered | msgs/s per receiving node | p50 latency | p99 latency |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of results) {
  console.log(
    `| ${r.nodes} | ${r.mode === 'gossipsub' ? 'Gossipsub' : 'epidemic flood (req/resp)'} | ${r.load} | ${fmt(r.messages)} | ${fmt(100 * r.deliveredRatio, 1)}% | ${fmt(r.perNodeRate)} | ${fmt(r.p50Ms, 1)} ms | ${fmt(r.p99Ms, 1)} ms |`,
  )
}
console.log('\nGossipsub / epidemic flood, burst msgs/s per receiving node (same run):')
for (const size of [2, 8]) {
  const gossip = results.find((r) => r.nodes === size && r.mode === 'gossipsub' && r.load === 'burst')
  const flood = results.find((r) => r.nodes === size && r.mode === 'flood' && r.load === 'burst')
  if (gossip && flood) console.log(`  ${size} nodes: ${fmt(gossip.perNodeRate / flood.perNodeRate, 2)}×`)
}
if (rpc) {
  console.log(`\nrequest/response, 256-byte echo between 2 processes, one long-lived stream:`)
  console.log(`  1 in flight:  ${fmt(rpc.one)} round trips/s`)
  console.log(`  16 in flight: ${fmt(rpc.sixteen)} round trips/s`)
}
