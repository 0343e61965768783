/**
 * TrustChain nodes on @constellation/gossip's seeded `SimNetwork` and its virtual clock, each with its own memory
 * store seeded with a genesis block and a messenger over its simulated node.
 *
 * The simulator loses and duplicates gossip only (requests ride reliable streams there); these tests also make
 * requests unreliable — a request or its answer lost, a request delivered twice — with the same rates, so that the
 * protocol's retries, idempotency and crawls are tested under both. There is no anti-entropy: lost blocks come back
 * only through the protocol itself, and a node that joins later has not pulled the broadcasts before it.
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { createRandom, type Random, SimNetwork, type SimNode, uniformLatency } from '@constellation/gossip'
import { type MessageNetwork, sleep } from '@constellation/interface'
import { expect } from 'vitest'
import {
  blockHash,
  type BlockStore,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createNetworkMessenger,
  createTrustChainNode,
  type HalfBlock,
  type SigningPolicy,
  type TrustChainMessenger,
  type TrustChainNode,
  type TrustChainNodeOptions,
  ValidationLevel,
} from '../src/index.js'
import { keyPairOf } from './helpers.js'

export interface SimOptions {
  readonly seed: number
  /** Probability that a request (or its answer) is lost, and that a gossip transmission is (default 0). */
  readonly lossRate?: number
  /** Probability that a request is delivered twice, and that a gossip transmission arrives twice (default 0). */
  readonly duplicateRate?: number
  /** One-way delay, uniform between these (default 1–20 ms). */
  readonly minDelayMs?: number
  readonly maxDelayMs?: number
}

/** What the unreliable requests did. */
export interface RequestFaults {
  lost: number
  duplicated: number
}

type MessengerTransport = Pick<MessageNetwork, 'request' | 'handle' | 'publish' | 'subscribe'>

/** A requester learns that its request (or the answer) was lost after this long: a connection reset, say. */
const LOST_AFTER_MS = 1_000

export class SimHarness {
  readonly net: SimNetwork
  readonly faults: RequestFaults = { lost: 0, duplicated: 0 }
  readonly #options: SimOptions
  readonly #random: Random

  constructor(crypto: Crypto, options: SimOptions) {
    this.#options = options
    this.net = new SimNetwork({
      crypto,
      seed: options.seed,
      latency: uniformLatency(options.minDelayMs ?? 1, options.maxDelayMs ?? 20),
      lossRate: options.lossRate ?? 0,
      duplicateRate: options.duplicateRate ?? 0,
      antiEntropyIntervalMs: 0,
    })
    this.#random = createRandom(`${options.seed}/requests`)
  }

  /** A started simulated node for `keyPair`, with requests as unreliable as the options say. */
  async network(keyPair: KeyPair): Promise<MessengerTransport> {
    const sim = this.net.addNode(keyPair)
    await sim.start()
    const { lossRate = 0, duplicateRate = 0 } = this.#options
    return lossRate === 0 && duplicateRate === 0 ? sim : this.#unreliable(sim, this.#random.fork(), lossRate, duplicateRate)
  }

  /** A messenger on a new simulated node for `keyPair`, reliable: a test's probe speaking the protocol by hand. */
  async probe(keyPair: KeyPair): Promise<TrustChainMessenger> {
    const sim = this.net.addNode(keyPair)
    await sim.start()
    return createNetworkMessenger(sim)
  }

  /**
   * Runs until nothing is left to do, or until `done`. Time moves on (the next event on the virtual clock runs) only
   * once nothing is `busy`: a node's own work — validating, storing — is not traffic the simulator tracks, and must
   * finish at the virtual instant it began, as on a fast machine.
   */
  async run(busy: () => boolean, done: () => boolean = () => false): Promise<void> {
    for (;;) {
      do await new Promise((resolve) => setImmediate(resolve))
      while (busy() && !done())
      if (done() || !this.net.clock.step()) return
    }
  }

  #unreliable(sim: SimNode, random: Random, lossRate: number, duplicateRate: number): MessengerTransport {
    const faults = this.faults
    const lost = () =>
      sleep(this.net.clock, LOST_AFTER_MS).then(() => {
        throw new Error('lost in the simulated network')
      })
    return {
      handle: (protocol, handler) => sim.handle(protocol, handler),
      publish: (topic, data) => sim.publish(topic, data),
      subscribe: (topic, handler) => sim.subscribe(topic, handler),
      request(peer, protocol, data, options) {
        if (random.next() < duplicateRate) {
          faults.duplicated++
          sim.request(peer, protocol, data, options).catch(() => undefined)
        }
        const draw = random.next()
        if (draw < lossRate) faults.lost++
        if (draw < lossRate / 2) return lost()
        // The request arrives and is handled, its answer is lost.
        if (draw < lossRate) return sim.request(peer, protocol, data, options).then(() => lost())
        return sim.request(peer, protocol, data, options)
      },
    }
  }
}

export interface SimPeer {
  readonly node: TrustChainNode
  readonly store: BlockStore
}

export interface SimPeerOptions {
  readonly balance?: number
  readonly shouldSign?: SigningPolicy
  readonly deadlineMs?: number
  readonly maxClockSkewMs?: number
}

/**
 * `count` started TrustChain nodes on one `SimHarness`, and `run`, which runs the network until every node is idle.
 * A node that fails fails the run.
 */
export async function simPeers(
  crypto: Crypto,
  count: number,
  network: SimOptions,
  options: SimPeerOptions = {},
): Promise<{
  sim: SimHarness
  net: SimNetwork
  peers: SimPeer[]
  errors: unknown[]
  run: () => Promise<void>
  join: (keyPair: KeyPair, balance: number, node?: Partial<TrustChainNodeOptions>) => Promise<SimPeer>
}> {
  const sim = new SimHarness(crypto, network)
  const peers: SimPeer[] = []
  const errors: unknown[] = []
  const join = async (keyPair: KeyPair, balance: number, node: Partial<TrustChainNodeOptions> = {}): Promise<SimPeer> => {
    const store = createMemoryBlockStore({ crypto })
    await createLedger({ crypto, store }).ingest([createGenesisBlock({ crypto, keyPair }, { balance, timestamp: 1 })])
    const peer = {
      node: createTrustChainNode({
        crypto,
        keyPair,
        store,
        messenger: createNetworkMessenger(await sim.network(keyPair)),
        clock: sim.net.clock,
        onError: (error) => errors.push(error),
        ...node,
      }),
      store,
    }
    await peer.node.start()
    peers.push(peer)
    return peer
  }
  for (let i = 0; i < count; i++) {
    await join(keyPairOf(crypto, 100 + i), options.balance ?? 1_000, {
      seed: network.seed + i,
      retry: { initialDelayMs: 200, maxDelayMs: 2_000, jitter: 0.25, deadlineMs: options.deadlineMs ?? 60_000 },
      ...(options.shouldSign === undefined ? {} : { shouldSign: options.shouldSign }),
      ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
    })
  }
  return {
    sim,
    net: sim.net,
    peers: [...peers],
    errors,
    // A node that failed must fail the test, not leave it waiting.
    run: async () => {
      await sim.run(() => errors.length === 0 && peers.some((peer) => !peer.node.idle()))
      if (errors.length > 0) throw errors[0]
    },
    join,
  }
}

/**
 * Checks a peer's own chain in its own store and returns it: one block per sequence number from 1, each linked to
 * the one before, none invalid, ending at the engine's head.
 */
export async function checkOwnChain(crypto: Crypto, peer: SimPeer): Promise<HalfBlock[]> {
  const head = peer.node.head()
  const chain = await peer.store.range(peer.node.publicKey, 1, head.sequenceNumber)
  expect(chain.map((block) => block.sequenceNumber)).toEqual(Array.from({ length: head.sequenceNumber }, (_, i) => i + 1))
  for (let i = 1; i < chain.length; i++) expect(toHex(chain[i]!.previousHash)).toBe(toHex(blockHash(crypto, chain[i - 1]!)))
  expect(toHex(blockHash(crypto, chain.at(-1)!))).toBe(toHex(head.hash))
  const ledger = createLedger({ crypto, store: peer.store })
  for (const block of chain) expect((await ledger.validate(block)).level).not.toBe(ValidationLevel.INVALID)
  return chain
}
