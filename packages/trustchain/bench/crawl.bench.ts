/**
 * Transfers per wall second of 64 TrustChain nodes on one core, without broadcasts: blocks travel only between
 * counterparties and to the nodes that crawl them, so each counterparty's default policy (`signFullyValid`) crawls
 * the proposer's chain up to the proposal before it countersigns. This is the cost a large network pays per
 * transaction: the proposal, the crawl for what the counterparty does not hold yet, the agreement.
 *
 * The nodes run on @constellation/gossip's `SimNetwork` (one-way latency uniform 10–50 ms) and its virtual clock;
 * each runs `CONCURRENCY` loops of `propose(random other, { transfer: 1 })` for `BENCH_VIRTUAL_S` virtual seconds.
 * Printed beside the figures: the raw Ed25519 verify rate measured in the same run (the baseline: a transaction
 * needs at least two verifies, one per half), signature verifications, requests and bytes per transaction, and the
 * blocks crawl responses carried that the crawler already held.
 *
 * Run: pnpm bench:crawl (in packages/trustchain). BENCH_MEMBERS, BENCH_VIRTUAL_S, BENCH_CONCURRENCY and BENCH_SEED
 * change the work done; BENCH_DETAIL=0 skips the instrumented rerun. Profile with `node --import tsx --conditions=source --cpu-prof bench/crawl.bench.ts`.
 */
import { cpus } from 'node:os'
import { loadCrypto } from '@constellation/crypto'
import { runCrawlFlow } from './support/crawl-flow.js'
import { rawVerifyRate } from './support/raw-verify-rate.js'

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 64)
const VIRTUAL_S = Number(process.env.BENCH_VIRTUAL_S ?? 3)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)
const SEED = process.env.BENCH_SEED ?? 'trustchain-crawl'

const base = await loadCrypto()
const run = (instrumented: boolean) => runCrawlFlow(base, { members: MEMBERS, virtualS: VIRTUAL_S, concurrency: CONCURRENCY, seed: SEED, instrumented })

console.log(
  `@constellation/trustchain crawl benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, backend ${base.backend}`,
)
const raw = rawVerifyRate(base)
console.log(
  `raw ed25519 verify, this thread: ${Math.round(raw).toLocaleString('en-US')}/s (the baseline; a transfer needs >= 2 verifies: bound ${Math.round(raw / 2).toLocaleString('en-US')} tx/s)\n`,
)
const r = await run(false)
const detail = process.env.BENCH_DETAIL === '0' ? undefined : await run(true)
const per = (n: number) => (r.done === 0 ? Number.NaN : n / r.done)
console.log(`${MEMBERS} nodes, ${CONCURRENCY} transfers in flight per node, ${VIRTUAL_S} virtual s, no broadcasts (counterparties crawl)`)
console.log(`  transfers completed ${r.done.toLocaleString('en-US')} (failed ${r.failed}), wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s`)
console.log(`  transfers per wall second ${(r.done / r.wall).toFixed(0)}; ratio to raw verify / 2: ${(r.done / r.wall / (raw / 2)).toFixed(3)}`)
console.log(
  `  signature verifies per wall second ÷ raw verify rate: ${(r.verifies / r.wall / raw).toFixed(3)} (the share of the run spent on verifications; each node verifies each half-block it takes in once, so a transfer costs about 2 x ${MEMBERS} once every node has crawled everyone)`,
)
console.log(
  `  per transfer: ${per(r.verifies).toFixed(2)} signature verifies, ${per(r.requests).toFixed(2)} requests, ${Math.round(per(r.bytes)).toLocaleString('en-US')} bytes on the network`,
)
if (detail !== undefined) {
  const t = detail.traffic
  const perDetail = (n: number) => (detail.done === 0 ? Number.NaN : n / detail.done)
  console.log(
    `  crawls (instrumented rerun, ${detail.done.toLocaleString('en-US')} transfers): ${perDetail(t.crawls).toFixed(2)} per transfer, ${perDetail(t.crawledBlocks).toFixed(1)} blocks each transfer's crawls carried, ${perDetail(t.crawledKnown).toFixed(1)} of them already held`,
  )
}
if (r.failed > 0) console.log(`  failures: ${[...r.failures].map(([reason, n]) => `${reason} x${n}`).join('; ')}`)
if (r.errors > 0) console.log(`  node errors: ${r.errors}`)
