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
  fromDelayClock,
  type TrustChainNode,
} from '../src/index.js'
import { keyPairOf, testCrypto } from './helpers.js'

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
      const node = createTrustChainNode({ crypto, keyPair, store, messenger: createNetworkMessenger(sim), clock: fromDelayClock(net.clock) })
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
        clock: fromDelayClock(net.clock),
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

describe('fromDelayClock', () => {
  it('floors virtual fractions to whole milliseconds and fires timers at their absolute time', async () => {
    const net = new SimNetwork({ crypto, seed: 'clock' })
    const clock = fromDelayClock(net.clock)
    await net.run({ until: 12.75 })
    expect(clock.now()).toBe(12)
    const fired: number[] = []
    clock.setTimer(100, () => fired.push(net.clock.now()))
    const cancel = clock.setTimer(50, () => fired.push(-1))
    cancel()
    await net.run({ until: 200 })
    expect(fired).toEqual([100])
  })
})
