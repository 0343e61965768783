/**
 * The `BlockStore` conformance suite, written once and run against every implementation (memory, LevelDB).
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type BlockStore,
  blockHash,
  createFraudProof,
  createProposal,
  type HalfBlock,
  isTrustChainError,
  TrustChainErrorCode,
  verifyFraudProof,
} from '../src/index.js'
import { keyPairOf, TestChain, testCrypto } from './helpers.js'

export interface StoreHarness {
  open(): Promise<BlockStore>
  /** Closes and reopens the same store (only for durable stores). */
  reopen?(store: BlockStore): Promise<BlockStore>
  cleanup(): Promise<void>
}

const hashes = (crypto: Crypto, blocks: readonly (HalfBlock | undefined)[]) =>
  blocks.map((b) => (b === undefined ? undefined : Buffer.from(blockHash(crypto, b)).toString('hex')))

export function blockStoreConformance(name: string, makeHarness: () => StoreHarness, options: { durable: boolean }): void {
  describe(`BlockStore conformance: ${name}`, () => {
    let crypto: Crypto
    let harness: StoreHarness
    let store: BlockStore
    let alice: TestChain
    let bob: TestChain

    beforeAll(async () => {
      crypto = await testCrypto()
    })
    beforeEach(async () => {
      harness = makeHarness()
      store = await harness.open()
      alice = new TestChain(crypto, keyPairOf(crypto, 1))
      bob = new TestChain(crypto, keyPairOf(crypto, 2))
      alice.genesis(100)
      bob.genesis(50)
      alice.pay(bob, 10)
      bob.pay(alice, 20)
      alice.pay(bob, 5)
    })
    afterEach(async () => {
      await store.close()
      await harness.cleanup()
    })

    it('a batch with a block that cannot be hashed writes nothing, not even the good blocks before it', async () => {
      const broken = { ...bob.blocks[0]!, sequenceNumber: 0 } as HalfBlock
      const failed = await store.write({ blocks: [alice.blocks[0]!, broken] }).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(isTrustChainError(failed)).toBe(true)
      expect(await store.get(alice.publicKey, 1)).toBeUndefined()
      expect(await store.latest(alice.publicKey)).toBeUndefined()
      expect(await store.getByHash(blockHash(crypto, alice.blocks[0]!))).toBeUndefined()
    })

    it('refuses a fraud proof that proves nothing, writing nothing of its batch; later reads still work', async () => {
      const [genesis, proposal] = alice.blocks as [HalfBlock, HalfBlock]
      const bogus = createFraudProof(crypto, 'double-sign', genesis, proposal) // different positions: no fraud
      const failed = await store.write({ blocks: [genesis], fraudProofs: [bogus] }).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(isTrustChainError(failed, TrustChainErrorCode.INVALID_FRAUD_PROOF)).toBe(true)
      expect(await store.get(alice.publicKey, 1)).toBeUndefined()
      expect(await store.fraudProofs()).toEqual([])
      expect(await store.fraudProofs(alice.publicKey)).toEqual([])
    })

    it('a write after close() rejects with STORE_CLOSED, it does not throw', async () => {
      await store.close()
      let result: Promise<void> | undefined
      expect(() => {
        result = store.write({ blocks: alice.blocks })
      }).not.toThrow()
      const failed = await result?.then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(isTrustChainError(failed, TrustChainErrorCode.STORE_CLOSED)).toBe(true)
    })

    it('"already stored" is decided by hash: the same block with other signature bytes is skipped, not a conflict', async () => {
      const genesis = alice.blocks[0]!
      await store.write({ blocks: [genesis] })
      const resigned = { ...genesis, signature: new Uint8Array(64).fill(7) }
      await store.write({ blocks: [resigned] })
      expect((await store.get(alice.publicKey, 1))?.signature).toEqual(genesis.signature)
    })

    it('finds a written block by position, by hash, in ranges and as the latest', async () => {
      await store.write({ blocks: [...alice.blocks, ...bob.blocks] })
      for (const block of [...alice.blocks, ...bob.blocks]) {
        expect(hashes(crypto, [await store.get(block.publicKey, block.sequenceNumber)])).toEqual(hashes(crypto, [block]))
        expect(hashes(crypto, [await store.getByHash(blockHash(crypto, block))])).toEqual(hashes(crypto, [block]))
      }
      expect(hashes(crypto, await store.range(alice.publicKey, 1, 100))).toEqual(hashes(crypto, alice.blocks))
      expect(hashes(crypto, await store.range(alice.publicKey, 2, 3))).toEqual(hashes(crypto, alice.blocks.slice(1, 3)))
      expect(await store.range(alice.publicKey, 3, 2)).toEqual([])
      expect(hashes(crypto, [await store.latest(bob.publicKey)])).toEqual(hashes(crypto, [bob.blocks.at(-1)]))
      expect(await store.latest(keyPairOf(crypto, 9).publicKey)).toBeUndefined()
      expect(await store.get(alice.publicKey, 99)).toBeUndefined()
      expect(await store.getByHash(new Uint8Array(32))).toBeUndefined()
    })

    it('answers getMany in the order asked, with undefined for holes', async () => {
      await store.write({ blocks: alice.blocks })
      const answers = await store.getMany([
        { publicKey: alice.publicKey, sequenceNumber: 3 },
        { publicKey: bob.publicKey, sequenceNumber: 1 },
        { publicKey: alice.publicKey, sequenceNumber: 1 },
      ])
      expect(hashes(crypto, answers)).toEqual(hashes(crypto, [alice.blocks[2], undefined, alice.blocks[0]]))
      expect(await store.getMany([])).toEqual([])
    })

    it('indexes agreements by the proposal they link to', async () => {
      await store.write({ blocks: [...alice.blocks, ...bob.blocks] })
      const proposal = alice.blocks[1] as HalfBlock
      const linked = await store.getLinked(proposal.publicKey, proposal.sequenceNumber)
      expect(hashes(crypto, linked)).toEqual(hashes(crypto, [bob.blocks[1]]))
      expect(await store.getLinked(alice.publicKey, 1)).toEqual([])
    })

    it('answers from what is stored now: lookups past a chain’s end and link lists asked before a write see the write', async () => {
      const [genesis, proposal] = alice.blocks as [HalfBlock, HalfBlock]
      await store.write({ blocks: [genesis] })
      // Asked before the blocks exist (the answers a read cache could keep), then asked again after each write.
      expect(await store.get(alice.publicKey, 2)).toBeUndefined()
      expect(await store.getLinked(proposal.publicKey, proposal.sequenceNumber)).toEqual([])
      expect(await store.getMany([{ publicKey: bob.publicKey, sequenceNumber: 2 }])).toEqual([undefined])
      await store.write({ blocks: [proposal] })
      expect(hashes(crypto, [await store.get(alice.publicKey, 2)])).toEqual(hashes(crypto, [proposal]))
      expect(await store.getLinked(proposal.publicKey, proposal.sequenceNumber)).toEqual([])
      await store.write({ blocks: bob.blocks.slice(0, 2) })
      expect(hashes(crypto, await store.getLinked(proposal.publicKey, proposal.sequenceNumber))).toEqual(hashes(crypto, [bob.blocks[1]]))
      expect(hashes(crypto, await store.getMany([{ publicKey: bob.publicKey, sequenceNumber: 2 }]))).toEqual(hashes(crypto, [bob.blocks[1]]))
      // Again once later writes may have pushed it out of any cache of recent blocks.
      expect(hashes(crypto, [await store.get(alice.publicKey, 2)])).toEqual(hashes(crypto, [proposal]))
      // Reads racing writes: every answer is either before or after the write, and the last read sees everything.
      await Promise.all([store.write({ blocks: alice.blocks.slice(2) }), store.get(alice.publicKey, 3), store.getLinked(bob.publicKey, 3)])
      expect(hashes(crypto, await store.range(alice.publicKey, 1, 100))).toEqual(hashes(crypto, alice.blocks))
      expect(hashes(crypto, [await store.latest(alice.publicKey)])).toEqual(hashes(crypto, [alice.blocks.at(-1)]))
    })

    it('keeps gaps as gaps in ranges and reports the highest block as latest', async () => {
      await store.write({ blocks: [alice.blocks[0] as HalfBlock, alice.blocks[3] as HalfBlock] })
      expect(hashes(crypto, await store.range(alice.publicKey, 1, 4))).toEqual(hashes(crypto, [alice.blocks[0], alice.blocks[3]]))
      expect((await store.latest(alice.publicKey))?.sequenceNumber).toBe(4)
    })

    it('skips blocks it already holds and refuses a different block at an occupied position, atomically', async () => {
      await store.write({ blocks: alice.blocks.slice(0, 2) })
      await store.write({ blocks: alice.blocks.slice(0, 3) }) // the first two again, plus one
      expect((await store.range(alice.publicKey, 1, 10)).length).toBe(3)
      const fork = createProposal(
        alice.author,
        { sequenceNumber: 1, hash: blockHash(crypto, alice.blocks[0] as HalfBlock), balance: 100, timestamp: 1_000 },
        {
          counterparty: bob.publicKey,
          payload: { kind: 'note', text: 'a fork at 2' },
          timestamp: 5_000,
        },
      )
      const error = await store.write({ blocks: [bob.blocks[0] as HalfBlock, fork] }).catch((e: unknown) => e)
      expect(isTrustChainError(error, TrustChainErrorCode.INVALID_INPUT)).toBe(true)
      // Nothing of the failed batch was written, not even the innocent block in it.
      expect(await store.get(bob.publicKey, 1)).toBeUndefined()
      expect(hashes(crypto, [await store.get(alice.publicKey, 2)])).toEqual(hashes(crypto, [alice.blocks[1]]))
      const twice = await store.write({ blocks: [fork, alice.blocks[1] as HalfBlock].reverse().concat([fork]) }).catch((e: unknown) => e)
      expect(isTrustChainError(twice, TrustChainErrorCode.INVALID_INPUT)).toBe(true)
    })

    it('stores fraud proofs and finds them by author', async () => {
      const other = createProposal(
        alice.author,
        { sequenceNumber: 1, hash: blockHash(crypto, alice.blocks[0] as HalfBlock), balance: 100, timestamp: 1_000 },
        {
          counterparty: bob.publicKey,
          payload: { kind: 'note' },
          timestamp: 5_000,
        },
      )
      const proof = createFraudProof(crypto, 'double-sign', alice.blocks[1] as HalfBlock, other)
      await store.write({ blocks: alice.blocks.slice(0, 2), fraudProofs: [proof, proof] })
      const all = await store.fraudProofs()
      expect(all.length).toBe(1)
      expect(verifyFraudProof(crypto, all[0]!)).toBe(true)
      expect(all[0]!.kind).toBe('double-sign')
      expect((await store.fraudProofs(alice.publicKey)).length).toBe(1)
      expect(await store.fraudProofs(bob.publicKey)).toEqual([])
    })

    it('fails every call after close with STORE_CLOSED', async () => {
      await store.close()
      const error = await store.get(alice.publicKey, 1).catch((e: unknown) => e)
      expect(isTrustChainError(error, TrustChainErrorCode.STORE_CLOSED)).toBe(true)
      store = await harness.open() // so afterEach has something to close
    })

    // Only durable stores promise to keep anything across a reopen.
    if (options.durable)
      it('keeps everything across a reopen', async () => {
        await store.write({ blocks: [...alice.blocks, ...bob.blocks] })
        store = await harness.reopen!(store)
        expect(hashes(crypto, await store.range(alice.publicKey, 1, 100))).toEqual(hashes(crypto, alice.blocks))
        const proposal = alice.blocks[1] as HalfBlock
        const linked = await store.getLinked(proposal.publicKey, proposal.sequenceNumber)
        expect(linked.length).toBe(1)
        expect(equalBytes(blockHash(crypto, linked[0]!), blockHash(crypto, bob.blocks[1]!))).toBe(true)
      })
  })
}
