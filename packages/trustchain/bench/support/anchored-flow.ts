/**
 * The anchored flow under load: `members` anchored TrustChain nodes (`createAnchoredNode`) on @constellation/gossip's
 * `SimNetwork` (one-way latency uniform 10–50 ms, virtual clock — the crawl flow's network), each with a memory store
 * and a genesis balance, each running `concurrency` loops of `transfer(orders)` with `batch` transfers of 1 to random
 * other nodes for `virtualS` virtual seconds. Anchors move by the stand-in of `checkpoint-rounds.ts`.
 *
 * Signature work is counted with @constellation/crypto's `countingCrypto`; verifications are also told apart by
 * role — the counterparty checking the proposals of a frame, the proposer checking the agreements that came back —
 * from the call stack of each `verifyMany` call (one per frame or answer, not per signature) — and SHA-256 digests
 * are counted too (a counterparty hashes every block a frame carries).
 */
import { type Crypto, countingCrypto, type SignedMessage, toHex } from '@constellation/crypto'
import { createRandom, SimNetwork, uniformLatency } from '@constellation/gossip'
import {
  type AnchoredNode,
  type AnchoredNodeStats,
  createAnchoredNode,
  createGenesisBlock,
  createMemoryBlockStore,
  decodeBlock,
  type ExchangeNetwork,
  isProposal,
  isTrustChainError,
  type TransferOrder,
} from '../../src/index.js'
import { decodeExchangeRequest, TRANSFER_PROTOCOL } from '../../src/wire.js'
import { TestAnchors } from '../../test/anchored-harness.js'
import { type CheckpointRoundsStats, startCheckpointRounds } from './checkpoint-rounds.js'
import { benchKeyPair } from './bench-key-pair.js'

export interface AnchoredFlowOptions {
  readonly members: number
  readonly virtualS: number
  /** Transfers per `transfer` call, and calls in flight per node. */
  readonly batch: number
  readonly concurrency: number
  /** Virtual milliseconds between the stand-in's rounds (a checkpoint is certified one round after it is appended). */
  readonly roundMs: number
  readonly seed: string
  readonly balance: number
  /**
   * Wraps each node's network to look inside its frames (decoding them costs time), so a timed run leaves it out and
   * a second run of the same seed reports the frames' contents.
   */
  readonly instrumented: boolean
}

export interface FrameTraffic {
  /** Blocks the transfer frames carried (the proposer's stretch the counterparty lacked, up to its proposals). */
  blocks: number
  /** Of them, proposals addressed to the frame's receiver. */
  proposals: number
  requestBytes: number
  responseBytes: number
}

export interface VerifiesByRole {
  /** Proposals of the frames a node read as counterparty. */
  counterparty: number
  /** Agreements a node checked as proposer. */
  proposer: number
  /** Anything else (none expected). */
  other: number
}

/** SHA-256 digests computed through the nodes' crypto (block hashes), and the bytes they hashed. */
export interface Hashing {
  digests: number
  bytes: number
}

export interface AnchoredFlowResult {
  /** Own proposals agreed by their counterparty within the window (heard through `onSettled`). */
  readonly agreed: number
  /** Settled as refused (voided) within the window. */
  readonly refused: number
  /** `transfer` outcomes within the window, by status (rejected ones by error code). */
  readonly outcomes: ReadonlyMap<string, number>
  /** Seconds. */
  readonly wall: number
  readonly cpu: number
  readonly verifies: number
  readonly byRole: VerifiesByRole
  readonly hashing: Hashing
  readonly signs: number
  /** Node counters summed over the nodes, within the window. */
  readonly nodes: AnchoredNodeStats
  readonly rounds: CheckpointRoundsStats
  readonly requests: number
  readonly bytes: number
  readonly errors: number
  readonly frames: FrameTraffic
  /** The most heap in use at a sample (every 100 virtual ms), in bytes: all nodes' state is in this one process. */
  readonly peakHeapBytes: number
}

/** `crypto` with each verification attributed to the node method it was called from. */
function attributed(crypto: Crypto): { crypto: Crypto; byRole: VerifiesByRole; hashing: Hashing } {
  const byRole: VerifiesByRole = { counterparty: 0, proposer: 0, other: 0 }
  const hashing: Hashing = { digests: 0, bytes: 0 }
  const site: { stack?: unknown } = {}
  // The raw call sites, not the formatted stack: formatting maps every frame through the source maps, which costs
  // more than the verification it attributes.
  const callSites = (_error: Error, sites: NodeJS.CallSite[]) => sites
  const attribute = (n: number) => {
    const format = Error.prepareStackTrace
    Error.prepareStackTrace = callSites
    Error.captureStackTrace(site, attribute)
    const sites = site.stack as NodeJS.CallSite[]
    Error.prepareStackTrace = format
    const names = sites.map((frame) => frame.getFunctionName() ?? '')
    if (names.some((name) => name.endsWith('onFrame'))) byRole.counterparty += n
    else if (names.some((name) => name.endsWith('onAnswers'))) byRole.proposer += n
    else byRole.other += n
  }
  return {
    byRole,
    hashing,
    crypto: {
      ...crypto,
      verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) {
        attribute(1)
        return crypto.verify(signature, message, publicKey)
      },
      verifyMany(items: readonly SignedMessage[]) {
        attribute(items.length)
        return crypto.verifyMany(items)
      },
      sha256(data: Uint8Array) {
        hashing.digests++
        hashing.bytes += data.length
        return crypto.sha256(data)
      },
    },
  }
}

/** The node's network, counting what its transfer frames carry. */
function counted(base: Crypto, network: ExchangeNetwork, traffic: FrameTraffic): ExchangeNetwork {
  return {
    handle: (protocol, handler) => network.handle(protocol, handler),
    async request(peer, protocol, data, options) {
      if (protocol !== TRANSFER_PROTOCOL) return network.request(peer, protocol, data, options)
      const request = decodeExchangeRequest(data)
      if (request.type === 'transfers') {
        traffic.blocks += request.blocks.length
        for (const bytes of request.blocks) {
          const block = decodeBlock(base, bytes)
          if (isProposal(block) && toHex(block.linkPublicKey) === peer) traffic.proposals++
        }
      }
      traffic.requestBytes += data.length
      const answer = await network.request(peer, protocol, data, options)
      traffic.responseBytes += answer.length
      return answer
    },
  }
}

const sumStats = (nodes: readonly AnchoredNode[]): AnchoredNodeStats => {
  const sum = { framesSent: 0, framesReceived: 0, resends: 0, proposalsSigned: 0, agreementsSigned: 0, refusalsSigned: 0, voids: 0 }
  for (const node of nodes) for (const key of Object.keys(sum) as (keyof typeof sum)[]) sum[key] += node.stats[key]
  return sum
}

const minus = (a: AnchoredNodeStats, b: AnchoredNodeStats): AnchoredNodeStats =>
  Object.fromEntries(Object.keys(a).map((key) => [key, a[key as keyof AnchoredNodeStats] - b[key as keyof AnchoredNodeStats]])) as unknown as AnchoredNodeStats

export async function runAnchoredFlow(base: Crypto, options: AnchoredFlowOptions): Promise<AnchoredFlowResult> {
  const { members, batch, concurrency } = options
  const counting = countingCrypto(base)
  const { crypto, byRole, hashing } = attributed(counting.crypto)
  const net = new SimNetwork({ crypto: base, seed: options.seed, latency: uniformLatency(10, 50), degree: Math.min(6, members - 1) })
  const clock = net.clock
  const anchors = new TestAnchors()
  const errors: unknown[] = []
  const nodes: AnchoredNode[] = []
  const frames: FrameTraffic = { blocks: 0, proposals: 0, requestBytes: 0, responseBytes: 0 }
  for (let i = 0; i < members; i++) {
    const keyPair = benchKeyPair(base, 'anchored-bench', i)
    const sim = net.addNode(keyPair)
    await sim.start()
    const store = createMemoryBlockStore({ crypto: base })
    await store.write({ blocks: [createGenesisBlock({ crypto: base, keyPair }, { balance: options.balance, timestamp: 0 })] })
    anchors.open(keyPair.publicKey, options.balance)
    const node = createAnchoredNode({
      crypto,
      keyPair,
      store,
      network: options.instrumented ? counted(base, sim, frames) : sim,
      anchors,
      clock,
      onError: (error) => errors.push(error),
    })
    await node.start()
    nodes.push(node)
  }
  await net.run({ until: net.clock.now() + 1_000 }) // joins settle

  let running = true
  let agreed = 0
  let refused = 0
  for (const node of nodes) {
    node.onSettled((settled) => {
      if (!running) return
      if (settled.status === 'agreed') agreed++
      else refused++
    })
  }
  const outcomes = new Map<string, number>()
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
  const pause = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve))
  const loop = async (i: number, lane: number) => {
    const me = nodes[i] as AnchoredNode
    // Seeded per node and lane: same seed, same run.
    const random = createRandom(`${options.seed}/${i}/${lane}`)
    while (running) {
      const orders: TransferOrder[] = Array.from({ length: batch }, () => ({
        to: (nodes[(i + 1 + random.int(members - 1)) % members] as AnchoredNode).publicKey,
        amount: 1,
      }))
      const answers = await me.transfer(orders)
      if (!running) return
      let retryAfterMs = 0
      for (const outcome of answers) {
        if (outcome.status !== 'rejected') {
          count(outcome.status)
          continue
        }
        count(isTrustChainError(outcome.error) ? outcome.error.code : String(outcome.error))
        const hint = outcome.error.detail.retryAfterMs
        retryAfterMs = Math.max(retryAfterMs, typeof hint === 'number' ? hint : 100)
      }
      // Nothing signed (BUSY, or funds): wait as told, in virtual time, instead of spinning.
      if (answers.every((outcome) => outcome.status === 'rejected')) await pause(retryAfterMs)
    }
  }

  let peakHeapBytes = 0
  const sample = () => {
    peakHeapBytes = Math.max(peakHeapBytes, process.memoryUsage().heapUsed)
    if (running) clock.setTimer(100, sample)
  }
  sample()
  const rounds = startCheckpointRounds({ crypto: base, clock, anchors, nodes, roundMs: options.roundMs })
  const end = net.clock.now() + options.virtualS * 1_000
  const framesBefore = { ...frames }
  const before = {
    bytes: net.stats.bytes,
    requests: net.stats.sent.request,
    counts: counting.counts(),
    byRole: { ...byRole },
    hashing: { ...hashing },
    nodes: sumStats(nodes),
  }
  for (let i = 0; i < members; i++) for (let lane = 0; lane < concurrency; lane++) void loop(i, lane)
  const cpuStart = process.cpuUsage()
  const wallStart = performance.now()
  await net.run({ until: end })
  const wall = (performance.now() - wallStart) / 1_000
  const cpu = process.cpuUsage(cpuStart)
  running = false
  rounds.stop()
  const after = counting.counts()
  const result: AnchoredFlowResult = {
    agreed,
    refused,
    outcomes,
    wall,
    cpu: (cpu.user + cpu.system) / 1e6,
    verifies: after.verifies - before.counts.verifies,
    byRole: {
      counterparty: byRole.counterparty - before.byRole.counterparty,
      proposer: byRole.proposer - before.byRole.proposer,
      other: byRole.other - before.byRole.other,
    },
    hashing: { digests: hashing.digests - before.hashing.digests, bytes: hashing.bytes - before.hashing.bytes },
    signs: after.signs - before.counts.signs,
    nodes: minus(sumStats(nodes), before.nodes),
    rounds: { ...rounds.stats },
    requests: net.stats.sent.request - before.requests,
    bytes: net.stats.bytes - before.bytes,
    errors: errors.length,
    frames: {
      blocks: frames.blocks - framesBefore.blocks,
      proposals: frames.proposals - framesBefore.proposals,
      requestBytes: frames.requestBytes - framesBefore.requestBytes,
      responseBytes: frames.responseBytes - framesBefore.responseBytes,
    },
    peakHeapBytes,
  }
  for (const node of nodes) await node.stop()
  return result
}
