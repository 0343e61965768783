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
import { loadCrypto, toHex } from '@constellation/crypto'
import { SimNetwork, uniformLatency } from '@constellation/gossip'
import {
  blockHash,
  type BlockStore,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createNetworkMessenger,
  createTrustChainNode,
  decodeBlock,
  decodeMessage,
  fromDelayClock,
  isTrustChainError,
  type MessengerNetwork,
  RequestCodec,
  ResponseCodec,
  type TrustChainNode,
} from '../src/index.js'
import { countingCrypto } from '../test/helpers.js'

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 64)
const VIRTUAL_S = Number(process.env.BENCH_VIRTUAL_S ?? 3)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)
const SEED = process.env.BENCH_SEED ?? 'trustchain-crawl'

const base = await loadCrypto()

function rawVerifyRate(): number {
  const keyPair = base.keyPairFromSeed(new Uint8Array(32).fill(7))
  const messages = Array.from({ length: 2_000 }, (_, i) => base.sha256(new Uint8Array([i & 0xff, i >> 8])))
  const signatures = messages.map((message) => base.sign(message, keyPair))
  const start = performance.now()
  let rounds = 0
  while (performance.now() - start < 500) {
    for (let i = 0; i < messages.length; i++) if (!base.verify(signatures[i]!, messages[i]!, keyPair.publicKey)) throw new Error('bad signature')
    rounds++
  }
  return (rounds * messages.length) / ((performance.now() - start) / 1_000)
}

interface Traffic {
  crawls: number
  crawledBlocks: number
  /** Crawled blocks the crawler already held when the answer arrived. */
  crawledKnown: number
}

/** The node's network, counting TrustChain requests and what crawls bring back (and whether it was already held). */
function counted(network: MessengerNetwork, store: BlockStore, traffic: Traffic): MessengerNetwork {
  return {
    handle: (protocol, handler) => network.handle(protocol, handler),
    publish: (topic, data) => network.publish(topic, data),
    subscribe: (topic, handler) => network.subscribe(topic, handler),
    async request(peer, protocol, data, options) {
      const request = decodeMessage(RequestCodec, data)
      const answer = await network.request(peer, protocol, data, options)
      if (request.type === 'crawl') {
        traffic.crawls++
        const response = decodeMessage(ResponseCodec, answer)
        if (response.type === 'blocks') {
          traffic.crawledBlocks += response.blocks.length
          for (const bytes of response.blocks) {
            const block = decodeBlock(base, bytes)
            const held = await store.get(block.publicKey, block.sequenceNumber)
            if (held !== undefined && toHex(blockHash(base, held)) === toHex(blockHash(base, block))) traffic.crawledKnown++
          }
        }
      }
      return answer
    },
  }
}

/**
 * One run. `instrumented` wraps each node's network to look inside crawl answers (decoding them costs time and
 * adds awaits), so the timed run leaves it out and a second run of the same seed reports the crawl traffic.
 */
async function run(instrumented: boolean) {
  const crypto = countingCrypto(base)
  const net = new SimNetwork({ crypto: base, seed: SEED, latency: uniformLatency(10, 50), degree: Math.min(6, MEMBERS - 1) })
  const traffic: Traffic = { crawls: 0, crawledBlocks: 0, crawledKnown: 0 }
  const errors: unknown[] = []
  const nodes: TrustChainNode[] = []
  for (let i = 0; i < MEMBERS; i++) {
    const seed = new Uint8Array(32)
    seed.set(new TextEncoder().encode(`crawl-bench/${i}`).subarray(0, 31))
    seed[31] = i
    const keyPair = base.keyPairFromSeed(seed)
    const sim = net.addNode(keyPair)
    await sim.start()
    const store = createMemoryBlockStore({ crypto: base })
    await createLedger({ crypto: base, store }).ingest([createGenesisBlock({ crypto: base, keyPair }, { balance: 1_000_000, timestamp: 0 })])
    const node = createTrustChainNode({
      crypto,
      keyPair,
      store,
      messenger: createNetworkMessenger(instrumented ? counted(sim, store, traffic) : sim, { broadcasts: false }),
      clock: fromDelayClock(net.clock),
      seed: i,
      onError: (error) => errors.push(error),
    })
    await node.start()
    nodes.push(node)
  }
  await net.run({ until: net.clock.now() + 1_000 }) // joins settle
  const end = net.clock.now() + VIRTUAL_S * 1_000
  let done = 0
  let failed = 0
  const failures = new Map<string, number>()
  let running = true
  const loop = async (i: number, lane: number) => {
    const me = nodes[i]!
    let k = lane
    while (running) {
      // A fixed walk over the others, different per lane: same seed, same run.
      const other = nodes[(i + 1 + ((k * 7 + lane * 13) % (MEMBERS - 1))) % MEMBERS]!
      k++
      try {
        await me.propose(other.publicKey, { transfer: 1 })
        if (running) done++
      } catch (error) {
        if (!running) continue
        failed++
        const reason = isTrustChainError(error) ? `${error.code}${Array.isArray(error.detail.reasons) ? ` ${error.detail.reasons.join(',')}` : ''}` : String(error)
        failures.set(reason, (failures.get(reason) ?? 0) + 1)
      }
    }
  }
  const bytesBefore = net.stats.bytes
  const requestsBefore = net.stats.sent.request
  const verifiesBefore = crypto.verifies
  for (let i = 0; i < MEMBERS; i++) for (let lane = 0; lane < CONCURRENCY; lane++) void loop(i, lane)
  const cpuStart = process.cpuUsage()
  const wallStart = performance.now()
  await net.run({ until: end })
  const wall = (performance.now() - wallStart) / 1_000
  const cpu = process.cpuUsage(cpuStart)
  running = false
  const result = {
    done,
    failed,
    wall,
    cpu: (cpu.user + cpu.system) / 1e6,
    verifies: crypto.verifies - verifiesBefore,
    bytes: net.stats.bytes - bytesBefore,
    requests: net.stats.sent.request - requestsBefore,
    traffic,
    errors: errors.length,
    failures,
  }
  for (const node of nodes) await node.stop()
  return result
}

console.log(`@constellation/trustchain crawl benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, backend ${base.backend}`)
const raw = rawVerifyRate()
console.log(`raw ed25519 verify, this thread: ${Math.round(raw).toLocaleString('en-US')}/s (the baseline; a transfer needs >= 2 verifies: bound ${Math.round(raw / 2).toLocaleString('en-US')} tx/s)\n`)
const r = await run(false)
const detail = process.env.BENCH_DETAIL === '0' ? undefined : await run(true)
const per = (n: number) => (r.done === 0 ? Number.NaN : n / r.done)
console.log(`${MEMBERS} nodes, ${CONCURRENCY} transfers in flight per node, ${VIRTUAL_S} virtual s, no broadcasts (counterparties crawl)`)
console.log(`  transfers completed ${r.done.toLocaleString('en-US')} (failed ${r.failed}), wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s`)
console.log(`  transfers per wall second ${(r.done / r.wall).toFixed(0)}; ratio to raw verify / 2: ${(r.done / r.wall / (raw / 2)).toFixed(3)}`)
console.log(
  `  signature verifies per wall second ÷ raw verify rate: ${(r.verifies / r.wall / raw).toFixed(3)} (the share of the run spent on verifications; each node verifies each half-block it takes in once, so a transfer costs about 2 x ${MEMBERS} once every node has crawled everyone)`,
)
console.log(`  per transfer: ${per(r.verifies).toFixed(2)} signature verifies, ${per(r.requests).toFixed(2)} requests, ${Math.round(per(r.bytes)).toLocaleString('en-US')} bytes on the network`)
if (detail !== undefined) {
  const t = detail.traffic
  const perDetail = (n: number) => (detail.done === 0 ? Number.NaN : n / detail.done)
  console.log(
    `  crawls (instrumented rerun, ${detail.done.toLocaleString('en-US')} transfers): ${perDetail(t.crawls).toFixed(2)} per transfer, ${perDetail(t.crawledBlocks).toFixed(1)} blocks each transfer's crawls carried, ${perDetail(t.crawledKnown).toFixed(1)} of them already held`,
  )
}
if (r.failed > 0) console.log(`  failures: ${[...r.failures].map(([reason, n]) => `${reason} x${n}`).join('; ')}`)
if (r.errors > 0) console.log(`  node errors: ${r.errors}`)
