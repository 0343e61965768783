import { type Crypto, toHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createNetworkMessenger,
  createTrustChainNode,
  type HalfBlock,
  isTrustChainError,
  TrustChainErrorCode,
} from '../src/index.js'
import { keyPairOf, settle, testCrypto } from './helpers.js'
import { checkOwnChain, SimHarness, type SimPeer, simPeers } from './protocol-harness.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const resultHash = (n: number) => new Uint8Array(32).fill(n)

describe('TrustChainNode.checkpoint', () => {
  it('appends a checkpoint block at head + 1 committing to the result and the previous head, stores and broadcasts it', async () => {
    const { peers, run } = await simPeers(crypto, 2, { seed: 21 })
    const [alice, bob] = peers as [SimPeer, SimPeer]
    const before = alice.node.head()
    // Bob holds alice's chain below the checkpoint, so he can check the balance it states.
    await bob.node.ledger.ingest([(await alice.store.get(alice.node.publicKey, 1))!])
    const done = settle(alice.node.checkpoint({ consensusResultHash: resultHash(7), round: 3 }))
    await run()
    const result = await done
    if (!result.ok) throw result.error
    const block = result.value
    expect(block).toMatchObject({ type: 'checkpoint', sequenceNumber: before.sequenceNumber + 1, previousHash: before.hash })
    expect(block.payload).toEqual({
      consensusResultHash: resultHash(7),
      round: 3,
      headSequenceNumber: before.sequenceNumber,
      headHash: before.hash,
      balance: before.balance,
    })
    const stored = await alice.store.get(alice.node.publicKey, before.sequenceNumber + 1)
    expect(stored && toHex(blockHash(crypto, stored))).toBe(toHex(blockHash(crypto, block)))
    expect(alice.node.head()).toMatchObject({ sequenceNumber: 2, hash: blockHash(crypto, block), balance: before.balance })
    // Broadcast as other own blocks are: Bob, who holds the chain below it, stores it too.
    expect(await bob.store.getByHash(blockHash(crypto, block))).toBeDefined()
    await checkOwnChain(crypto, alice)
  })

  it('interleaved with concurrent proposals and agreements, keeps one chain: one block per sequence number, links valid', async () => {
    const { sim, peers, run } = await simPeers(crypto, 3, { seed: 22, duplicateRate: 0.1, minDelayMs: 1, maxDelayMs: 40 })
    const [alice, bob, carol] = peers as [SimPeer, SimPeer, SimPeer]
    const pending: Promise<unknown>[] = []
    const checkpoints: Promise<HalfBlock>[] = []
    const checkpoint = (round: number) => checkpoints.push(alice.node.checkpoint({ consensusResultHash: resultHash(1 + round), round }))
    // Also asked while the node is busy with others' proposals: each completed transaction of Alice's asks for one.
    alice.node.onTransaction(() => checkpoint(100 + checkpoints.length))
    for (let round = 0; round < 6; round++) {
      pending.push(alice.node.propose(bob.node.publicKey, { transfer: 1 + round }))
      checkpoint(round)
      pending.push(carol.node.propose(alice.node.publicKey, { transfer: 2 }))
    }
    await run()
    expect((await Promise.all([...pending, ...checkpoints].map(settle))).filter((r) => !r.ok)).toEqual([])
    expect(sim.faults.duplicated).toBeGreaterThan(0)
    const chain = await checkOwnChain(crypto, alice)
    expect(checkpoints.length).toBe(6 + 12)
    expect(chain.length).toBe(1 + 6 + 6 + checkpoints.length)
    // Checkpoints sit between agreements, not only between Alice's own proposals.
    const kinds = chain.map((block) => (block.type === 'checkpoint' ? 'C' : block.linkSequenceNumber > 0 ? 'A' : 'P')).join('')
    expect(kinds).toMatch(/AC.*A/)
    const settled = new Set((await Promise.all(checkpoints)).map((block) => toHex(blockHash(crypto, block))))
    const cps = chain.filter((block) => block.type === 'checkpoint')
    expect(new Set(cps.map((block) => toHex(blockHash(crypto, block))))).toEqual(settled)
    for (const cp of cps) expect(cp.payload).toMatchObject({ headSequenceNumber: cp.sequenceNumber - 1, headHash: cp.previousHash })
    await checkOwnChain(crypto, bob)
    await checkOwnChain(crypto, carol)
  })

  it('refuses bad inputs with INVALID_INPUT without touching the chain, and keeps working', async () => {
    const { peers, run } = await simPeers(crypto, 1, { seed: 23 })
    const alice = peers[0] as SimPeer
    const attempts = [
      alice.node.checkpoint({ consensusResultHash: new Uint8Array(31), round: 1 }),
      alice.node.checkpoint({ consensusResultHash: 'ab' as unknown as Uint8Array, round: 1 }),
      alice.node.checkpoint({ consensusResultHash: resultHash(1), round: -1 }),
      alice.node.checkpoint({ consensusResultHash: resultHash(1), round: 2.5 }),
      alice.node.checkpoint({ consensusResultHash: resultHash(1), round: Number.MAX_SAFE_INTEGER + 1 }),
    ].map(settle)
    await run()
    for (const attempt of await Promise.all(attempts)) expect(!attempt.ok && isTrustChainError(attempt.error, TrustChainErrorCode.INVALID_INPUT)).toBe(true)
    expect(alice.node.head().sequenceNumber).toBe(1)
    const fine = settle(alice.node.checkpoint({ consensusResultHash: resultHash(1), round: 0 }))
    await run()
    expect((await fine).ok).toBe(true)
  })

  it('signs the hash as it was when called, not as the caller later changed its buffer', async () => {
    const { peers, run } = await simPeers(crypto, 1, { seed: 24 })
    const hash = resultHash(9)
    const done = settle(peers[0]!.node.checkpoint({ consensusResultHash: hash, round: 1 }))
    hash.fill(0)
    await run()
    const result = await done
    expect(result.ok && result.value.payload).toMatchObject({ consensusResultHash: resultHash(9) })
  })

  it('after stop(), and for a checkpoint cut off by the stop, rejects with NODE_STOPPED', async () => {
    const { peers, run } = await simPeers(crypto, 1, { seed: 25 })
    const alice = peers[0] as SimPeer
    const cut = settle(alice.node.checkpoint({ consensusResultHash: resultHash(1), round: 1 }))
    await alice.node.stop()
    const after = settle(alice.node.checkpoint({ consensusResultHash: resultHash(1), round: 2 }))
    await run()
    for (const attempt of [await cut, await after]) expect(!attempt.ok && isTrustChainError(attempt.error, TrustChainErrorCode.NODE_STOPPED)).toBe(true)
    expect(await alice.store.latest(alice.node.publicKey)).toMatchObject({ sequenceNumber: 1 })
  })

  it('a checkpoint the ledger refuses rejects with its typed error and leaves the head as it was', async () => {
    const sim = new SimHarness(crypto, { seed: 26 })
    const keyPair = keyPairOf(crypto, 130)
    const store = createMemoryBlockStore({ crypto })
    // A genesis stamped an hour ahead: the checkpoint after it cannot be older, so the node's ledger (60 s skew) refuses it.
    await createLedger({ crypto, store }).ingest([
      createGenesisBlock({ crypto, keyPair }, { balance: 10, timestamp: Math.floor(sim.net.clock.now()) + 3_600_000 }),
    ])
    const errors: unknown[] = []
    const node = createTrustChainNode({
      crypto,
      keyPair,
      store,
      messenger: createNetworkMessenger(await sim.network(keyPair)),
      clock: sim.net.clock,
      onError: (e) => errors.push(e),
    })
    await node.start()
    const before = node.head()
    const done = settle(node.checkpoint({ consensusResultHash: resultHash(1), round: 1 }))
    await sim.run(() => !node.idle())
    const result = await done
    expect(!result.ok && isTrustChainError(result.error, TrustChainErrorCode.INVALID_BLOCK)).toBe(true)
    expect(node.head()).toEqual(before)
    expect(errors).toEqual([])
    await node.stop()
  })
})
