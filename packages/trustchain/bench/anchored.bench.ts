/**
 * Transfers per wall second of 64 anchored TrustChain nodes on one core — issue 16's transfer path — beside the
 * crawl flow it replaced, measured in the same process.
 *
 * On the anchored path a proposer sends each counterparty, in batched frames, only its blocks after its certified
 * anchor that the counterparty lacks; the counterparty checks them against the anchor (hash links, balances) and
 * verifies the proposals addressed to it, then signs agreements (or refusals) back in one frame. The anchors come
 * from the consensus. There is no consensus here: `support/checkpoint-rounds.ts` stands in for it — every round
 * (`BENCH_ROUND_MS`, default 1,000 virtual ms, about one consensus round on these links) each node appends a
 * checkpoint through its chain API and the checkpoint appended the round before is certified as `TestAnchors.certify`
 * does in this package's tests, checking nothing (the facilitators' full check of each stretch is the consensus's
 * cost, measured by its own benchmarks) and crediting no received value (conservative).
 *
 * The nodes run on @constellation/gossip's `SimNetwork` (one-way latency uniform 10–50 ms) and its virtual clock,
 * each with a memory store and a genesis balance of 1,000,000, for `BENCH_VIRTUAL_S` (4) virtual seconds, in order:
 *   - batched: `BENCH_CONCURRENCY` (1) `transfer(orders)` call in flight per node, each of `BENCH_BATCH` (10)
 *     transfers of 1 to random other nodes, through the batch API the full node uses (a call that signs nothing,
 *     e.g. `BUSY`, waits its `retryAfterMs` in virtual time);
 *   - the batched load again with each node's frames decoded and counted (blocks carried per transfer), untimed
 *     (BENCH_DETAIL=0 skips it);
 *   - one at a time: 8 calls in flight per node of one transfer each — the crawl benchmark's load (BENCH_SINGLE=0
 *     skips it);
 *   - the crawl flow (`support/crawl-flow.ts`, the `bench:crawl` load: 8 `propose` loops per node, 3 virtual s),
 *     the same-run baseline for issue 16's "10x the crawl flow's transfers per wall second" (BENCH_CRAWL=0 skips it;
 *     it takes over a minute).
 * The offered load is kept near the crawl benchmark's (10 and 8 transfers in flight per node): in virtual time the
 * network is as fast as the load asks, so a heavier load only means more work for the one core playing all nodes
 * (and, past `maxStretchBlocks` per round, BUSY). Printed: transfers agreed, wall and CPU time, transfers per wall
 * second, signature verifies per transfer (by role: the counterparty checking proposals, the proposer checking
 * agreements), signs per transfer, requests and bytes on the network per transfer, peak heap, and the raw Ed25519
 * verify rate measured in the same run (before and after the runs).
 *
 * Run: pnpm bench:anchored (in packages/trustchain), under `flock /tmp/constellation-bench.lock` on a shared machine.
 * BENCH_MEMBERS, BENCH_VIRTUAL_S, BENCH_BATCH, BENCH_CONCURRENCY, BENCH_ROUND_MS and BENCH_SEED change the work
 * done. Profile with `node --import tsx --conditions=source --cpu-prof bench/anchored.bench.ts` (BENCH_CRAWL=0).
 */
import { cpus, loadavg, totalmem } from 'node:os'
import { loadCrypto } from '@constellation/crypto'
import { type AnchoredFlowResult, runAnchoredFlow } from './support/anchored-flow.js'
import { runCrawlFlow } from './support/crawl-flow.js'
import { rawVerifyRate } from './support/raw-verify-rate.js'

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 64)
const VIRTUAL_S = Number(process.env.BENCH_VIRTUAL_S ?? 4)
const BATCH = Number(process.env.BENCH_BATCH ?? 10)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1)
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1_000)
const SEED = process.env.BENCH_SEED ?? 'trustchain-anchored'
const SINGLE = process.env.BENCH_SINGLE !== '0'
const DETAIL = process.env.BENCH_DETAIL !== '0'
const CRAWL = process.env.BENCH_CRAWL !== '0'

const base = await loadCrypto()
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')

console.log(
  `@constellation/trustchain anchored-flow benchmark — ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, backend ${base.backend}; load average ${load()}`,
)
const rawBefore = rawVerifyRate(base)
console.log(`raw ed25519 verify, this thread: ${fmt(rawBefore)}/s (the baseline)\n`)

interface Rates {
  readonly wall: number
  readonly cpu: number
}

function report(title: string, r: AnchoredFlowResult): Rates {
  const per = (n: number, digits = 2) => (r.agreed === 0 ? 'n/a' : fmt(n / r.agreed, digits))
  const { nodes: s } = r
  console.log(title)
  console.log(`  transfers agreed ${fmt(r.agreed)} (refused ${r.refused}), wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s`)
  console.log(`  transfers per wall second ${fmt(r.agreed / r.wall)}; per CPU second ${fmt(r.agreed / r.cpu)}`)
  console.log(
    `  per transfer: ${per(r.verifies)} signature verifies (counterparty ${per(r.byRole.counterparty)}, proposer ${per(r.byRole.proposer)}, other ${per(r.byRole.other)}), ${per(r.signs)} signs, ${per(r.requests)} requests, ${fmt(r.agreed === 0 ? 0 : r.bytes / r.agreed)} bytes on the network`,
  )
  console.log(`  SHA-256 digests per transfer: ${per(r.hashing.digests, 1)} (${per(r.hashing.bytes, 0)} bytes hashed)`)
  console.log(`  verifies per wall second ÷ raw verify rate: ${(r.verifies / r.wall / rawBefore).toFixed(3)}`)
  console.log(
    `  signed: ${fmt(s.proposalsSigned)} proposals, ${fmt(s.agreementsSigned)} agreements, ${fmt(s.refusalsSigned)} refusals, ${fmt(s.voids)} voids, ${fmt(r.rounds.checkpoints)} checkpoints (${r.rounds.rounds} rounds, ${fmt(r.rounds.certified)} certified)`,
  )
  console.log(
    `  frames: ${fmt(s.framesSent)} sent (${per(s.framesSent, 3)} per transfer, ${fmt(r.agreed / Math.max(1, s.framesSent), 1)} transfers per frame), ${fmt(s.resends)} resends`,
  )
  console.log(`  transfer outcomes: ${[...r.outcomes].map(([status, n]) => `${status} ${fmt(n)}`).join(', ')}`)
  console.log(`  peak heap in use ${fmt(r.peakHeapBytes / 2 ** 20)} MiB (all ${MEMBERS} nodes in this process)`)
  if (r.errors > 0) console.log(`  node errors: ${r.errors}`)
  console.log(`  issue 16's target of at most 12 verifies per transfer: ${r.verifies / r.agreed <= 12 ? 'met' : 'NOT met'}`)
  return { wall: r.agreed / r.wall, cpu: r.agreed / r.cpu }
}

function reportFrames(r: AnchoredFlowResult): void {
  const per = (n: number, digits = 1) => (r.agreed === 0 ? 'n/a' : fmt(n / r.agreed, digits))
  const f = r.frames
  console.log(
    `  frames (instrumented rerun, ${fmt(r.agreed)} transfers): ${per(f.blocks)} blocks carried per transfer (${per(f.proposals, 2)} of them proposals to the receiver), ${fmt(f.blocks / Math.max(1, r.nodes.framesSent), 1)} blocks per frame; ${per(f.requestBytes, 0)} frame bytes and ${per(f.responseBytes, 0)} answer bytes per transfer`,
  )
}

const common = { members: MEMBERS, virtualS: VIRTUAL_S, roundMs: ROUND_MS, seed: SEED, balance: 1_000_000 }
const batchedOptions = { ...common, batch: BATCH, concurrency: CONCURRENCY }
const batched = report(
  `anchored, batched: ${MEMBERS} nodes, ${CONCURRENCY} calls of ${BATCH} transfers in flight per node, ${VIRTUAL_S} virtual s, a round every ${ROUND_MS} virtual ms`,
  await runAnchoredFlow(base, { ...batchedOptions, instrumented: false }),
)
if (DETAIL) reportFrames(await runAnchoredFlow(base, { ...batchedOptions, instrumented: true }))
const single = SINGLE
  ? report(
      `anchored, one at a time: ${MEMBERS} nodes, 8 calls of 1 transfer in flight per node, ${VIRTUAL_S} virtual s`,
      await runAnchoredFlow(base, { ...common, batch: 1, concurrency: 8, instrumented: false }),
    )
  : undefined

if (CRAWL) {
  const r = await runCrawlFlow(base, { members: MEMBERS, virtualS: 3, concurrency: 8, seed: 'trustchain-crawl', instrumented: false })
  const per = (n: number) => (r.done === 0 ? Number.NaN : n / r.done)
  const crawl = { wall: r.done / r.wall, cpu: r.done / r.cpu }
  console.log(`crawl flow (the bench:crawl load): ${MEMBERS} nodes, 8 transfers in flight per node, 3 virtual s`)
  console.log(`  transfers completed ${fmt(r.done)} (failed ${r.failed}), wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s`)
  console.log(`  transfers per wall second ${fmt(crawl.wall)}; per CPU second ${fmt(crawl.cpu)}`)
  console.log(
    `  per transfer: ${per(r.verifies).toFixed(2)} signature verifies, ${per(r.requests).toFixed(2)} requests, ${fmt(per(r.bytes))} bytes on the network`,
  )
  const ratio = (anchored: Rates, by: keyof Rates) => `${(anchored[by] / crawl[by]).toFixed(1)}x`
  for (const by of ['wall', 'cpu'] as const) {
    console.log(
      `anchored ÷ crawl, transfers per ${by === 'wall' ? 'wall' : 'CPU'} second: batched ${ratio(batched, by)}${single === undefined ? '' : `, one at a time ${ratio(single, by)}`} (issue 16's target: ≥ 10x per wall second)`,
    )
  }
}
const rawAfter = rawVerifyRate(base)
console.log(`\nraw ed25519 verify after the runs: ${fmt(rawAfter)}/s; load average ${load()}`)
