import { type Crypto, toHex } from '@constellation/crypto'
import { SimNetwork } from '@constellation/gossip'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createNetworkMessenger,
  createTrustChainNode,
  isTrustChainError,
  TrustChainErrorCode,
  type TrustChainNode,
} from '../src/index.js'
import { keyPairOf, settle, testCrypto } from './helpers.js'
import { SimHarness } from './protocol-harness.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

describe('createNetworkMessenger over the gossip SimNetwork', () => {
  it('carries proposals by request/response and broadcasts own blocks to third parties', async () => {
    const net = new SimNetwork({ crypto, seed: 'messenger', degree: 2 })
    const nodes: { node: TrustChainNode; store: ReturnType<typeof createMemoryBlockStore> }[] = []
    for (let i = 0; i < 3; i++) {
      const keyPair = keyPairOf(crypto, 300 + i)
      const sim = net.addNode(keyPair)
      await sim.start()
      const store = createMemoryBlockStore({ crypto })
      await createLedger({ crypto, store }).ingest([createGenesisBlock({ crypto, keyPair }, { balance: 100, timestamp: 0 })])
      const node = createTrustChainNode({ crypto, keyPair, store, messenger: createNetworkMessenger(sim), clock: net.clock })
      await node.start()
      nodes.push({ node, store })
    }
    const [alice, bob, carol] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    // A third party stores the broadcast blocks it can check: it holds alice's genesis, so the transaction's broadcast
    // brings alice's proposal, and the checkpoint after it follows.
    await createLedger({ crypto, store: carol.store }).ingest([(await alice.store.get(alice.node.publicKey, 1))!])
    const tx = await net.runUntil(alice.node.propose(bob.node.publicKey, { transfer: 10 }))
    expect(toHex(tx.agreement.linkPublicKey)).toBe(toHex(alice.node.publicKey))
    expect(await bob.store.getByHash(blockHash(crypto, tx.proposal))).toBeDefined()
    const checkpoint = await net.runUntil(alice.node.checkpoint({ consensusResultHash: new Uint8Array(32), round: 0 }))
    await net.run({ until: net.clock.now() + 5_000 })
    const seen = await carol.store.getByHash(blockHash(crypto, checkpoint))
    expect(seen && toHex(blockHash(crypto, seen))).toBe(toHex(blockHash(crypto, checkpoint)))
    for (const { node } of nodes) await node.stop()
  })
})

describe('createNetworkMessenger without broadcasts', () => {
  it('still transacts, but publishes nothing and takes in no broadcasts', async () => {
    const net = new SimNetwork({ crypto, seed: 'quiet', degree: 2 })
    const nodes: { node: TrustChainNode; store: ReturnType<typeof createMemoryBlockStore> }[] = []
    for (let i = 0; i < 3; i++) {
      const keyPair = keyPairOf(crypto, 400 + i)
      const sim = net.addNode(keyPair)
      await sim.start()
      const store = createMemoryBlockStore({ crypto })
      await createLedger({ crypto, store }).ingest([createGenesisBlock({ crypto, keyPair }, { balance: 100, timestamp: 0 })])
      const node = createTrustChainNode({
        crypto,
        keyPair,
        store,
        messenger: createNetworkMessenger(sim, { broadcasts: false }),
        clock: net.clock,
      })
      await node.start()
      nodes.push({ node, store })
    }
    const [alice, bob, carol] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    // A third party stores the broadcast blocks it can check: it holds alice's genesis, so the transaction's broadcast
    // brings alice's proposal, and the checkpoint after it follows.
    await createLedger({ crypto, store: carol.store }).ingest([(await alice.store.get(alice.node.publicKey, 1))!])
    const tx = await net.runUntil(alice.node.propose(bob.node.publicKey, { transfer: 10 }))
    expect(await bob.store.getByHash(blockHash(crypto, tx.agreement))).toBeDefined()
    const checkpoint = await net.runUntil(alice.node.checkpoint({ consensusResultHash: new Uint8Array(32), round: 0 }))
    await net.run({ until: net.clock.now() + 5_000 })
    expect(await carol.store.getByHash(blockHash(crypto, checkpoint))).toBeUndefined()
    expect(net.stats.sent.gossip).toBe(0)
  })
})

describe('a node on the virtual clock', () => {
  it('stamps blocks in whole milliseconds and fires its timers at their time', async () => {
    const sim = new SimHarness(crypto, { seed: 12 })
    const keyPair = keyPairOf(crypto, 500)
    const store = createMemoryBlockStore({ crypto })
    await createLedger({ crypto, store }).ingest([createGenesisBlock({ crypto, keyPair }, { balance: 100, timestamp: 0 })])
    const messenger = createNetworkMessenger(await sim.network(keyPair))
    const node = createTrustChainNode({ crypto, keyPair, store, messenger, clock: sim.net.clock, retry: { deadlineMs: 1_000 } })
    await node.start()
    const run = () => sim.run(() => !node.idle())
    sim.net.clock.advanceTo(12.75)
    const checkpoint = settle(node.checkpoint({ consensusResultHash: new Uint8Array(32), round: 0 }))
    await run()
    const made = await checkpoint
    expect(made.ok && made.value.timestamp).toBe(12)
    // A proposal to a peer that is not there fails at its deadline, counted from the whole millisecond it was made in.
    const failed = settle(node.propose(keyPairOf(crypto, 501).publicKey, { transfer: 1 }))
    let failedAt: number | undefined
    void failed.then(() => (failedAt = sim.net.clock.now()))
    await run()
    const outcome = await failed
    expect(!outcome.ok && isTrustChainError(outcome.error, TrustChainErrorCode.PROPOSAL_TIMEOUT)).toBe(true)
    expect(failedAt).toBe(12 + 1_000)
    await node.stop()
  })
})
