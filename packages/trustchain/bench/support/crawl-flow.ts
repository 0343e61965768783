/**
 * The crawl flow under load: `MEMBERS` TrustChain nodes (`createTrustChainNode`) on @constellation/gossip's
 * `SimNetwork` (one-way latency uniform 10–50 ms, virtual clock), without broadcasts, each running `concurrency`
 * loops of `propose(other, { transfer: 1 })` for `virtualS` virtual seconds. Each counterparty's default policy
 * (`signFullyValid`) crawls the proposer's chain up to the proposal before it countersigns.
 *
 * Shared by `crawl.bench.ts` (this flow on its own) and `anchored.bench.ts` (its same-run baseline).
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { SimNetwork, uniformLatency } from '@constellation/gossip'
import type { MessageNetwork } from '@constellation/interface'
import {
  blockHash,
  type BlockStore,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createNetworkMessenger,
  createTrustChainNode,
  decodeBlock,
  isTrustChainError,
  type TrustChainNode,
} from '../../src/index.js'
import { decodeMessage, RequestCodec, ResponseCodec } from '../../src/wire.js'
import { countingCrypto } from '../../test/helpers.js'
import { benchKeyPair } from './bench-key-pair.js'

export interface CrawlFlowOptions {
  readonly members: number
  readonly virtualS: number
  readonly concurrency: number
  readonly seed: string
  /**
   * Wraps each node's network to look inside crawl answers (decoding them costs time and adds awaits), so a timed
   * run leaves it out and a second run of the same seed reports the crawl traffic.
   */
  readonly instrumented: boolean
}

export interface CrawlTraffic {
  crawls: number
  crawledBlocks: number
  /** Crawled blocks the crawler already held when the answer arrived. */
  crawledKnown: number
}

export interface CrawlFlowResult {
  readonly done: number
  readonly failed: number
  /** Seconds. */
  readonly wall: number
  readonly cpu: number
  readonly verifies: number
  readonly bytes: number
  readonly requests: number
  readonly traffic: CrawlTraffic
  readonly errors: number
  readonly failures: ReadonlyMap<string, number>
}

type MessengerTransport = Pick<MessageNetwork, 'request' | 'handle' | 'publish' | 'subscribe'>

/** The node's network, counting TrustChain requests and what crawls bring back (and whether it was already held). */
function counted(base: Crypto, network: MessengerTransport, store: BlockStore, traffic: CrawlTraffic): MessengerTransport {
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

export async function runCrawlFlow(base: Crypto, options: CrawlFlowOptions): Promise<CrawlFlowResult> {
  const { members, concurrency } = options
  const crypto = countingCrypto(base)
  const net = new SimNetwork({ crypto: base, seed: options.seed, latency: uniformLatency(10, 50), degree: Math.min(6, members - 1) })
  const traffic: CrawlTraffic = { crawls: 0, crawledBlocks: 0, crawledKnown: 0 }
  const errors: unknown[] = []
  const nodes: TrustChainNode[] = []
  for (let i = 0; i < members; i++) {
    const keyPair = benchKeyPair(base, 'crawl-bench', i)
    const sim = net.addNode(keyPair)
    await sim.start()
    const store = createMemoryBlockStore({ crypto: base })
    await createLedger({ crypto: base, store }).ingest([createGenesisBlock({ crypto: base, keyPair }, { balance: 1_000_000, timestamp: 0 })])
    const node = createTrustChainNode({
      crypto,
      keyPair,
      store,
      messenger: createNetworkMessenger(options.instrumented ? counted(base, sim, store, traffic) : sim, { broadcasts: false }),
      clock: net.clock,
      seed: i,
      onError: (error) => errors.push(error),
    })
    await node.start()
    nodes.push(node)
  }
  await net.run({ until: net.clock.now() + 1_000 }) // joins settle
  const end = net.clock.now() + options.virtualS * 1_000
  let done = 0
  let failed = 0
  const failures = new Map<string, number>()
  let running = true
  const loop = async (i: number, lane: number) => {
    const me = nodes[i]!
    let k = lane
    while (running) {
      // A fixed walk over the others, different per lane: same seed, same run.
      const other = nodes[(i + 1 + ((k * 7 + lane * 13) % (members - 1))) % members]!
      k++
      try {
        await me.propose(other.publicKey, { transfer: 1 })
        if (running) done++
      } catch (error) {
        if (!running) continue
        failed++
        const reason = isTrustChainError(error)
          ? `${error.code}${Array.isArray(error.detail.reasons) ? ` ${error.detail.reasons.join(',')}` : ''}`
          : String(error)
        failures.set(reason, (failures.get(reason) ?? 0) + 1)
      }
    }
  }
  const bytesBefore = net.stats.bytes
  const requestsBefore = net.stats.sent.request
  const verifiesBefore = crypto.verifies
  for (let i = 0; i < members; i++) for (let lane = 0; lane < concurrency; lane++) void loop(i, lane)
  const cpuStart = process.cpuUsage()
  const wallStart = performance.now()
  await net.run({ until: end })
  const wall = (performance.now() - wallStart) / 1_000
  const cpu = process.cpuUsage(cpuStart)
  running = false
  const result: CrawlFlowResult = {
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
