/**
 * The LevelDB store answers from memory what it knows (each chain's highest block, the highest position others
 * link to, recent link lists): these cases check that what it answers from memory is what is on disk, whatever the
 * order of writes, with or without a cache, across reopening and with reads racing writes.
 */
import type { Crypto } from '@constellation/crypto'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type BlockStore, createProposal, type HalfBlock, openLevelBlockStore, TrustChainErrorCode, transferPayload } from '../src/index.js'
import { keyPairOf, TestChain, tempDir, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const dirs: { remove: () => void }[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove()
})

function twoChains() {
  const alice = new TestChain(crypto, keyPairOf(crypto, 1))
  const bob = new TestChain(crypto, keyPairOf(crypto, 2))
  alice.genesis(1_000)
  bob.genesis(1_000)
  const first = alice.pay(bob, 10)
  const second = alice.pay(bob, 20)
  const third = bob.pay(alice, 5)
  return { alice, bob, first, second, third }
}

const sequences = (blocks: readonly (HalfBlock | undefined)[]) => blocks.map((block) => block?.sequenceNumber)
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error as { code?: string }).code,
  )

for (const cacheSize of [undefined, 2, 0]) {
  describe(`LevelDB store with cacheSize ${cacheSize ?? 'default'}`, () => {
    const open = async (location?: string): Promise<{ store: BlockStore; location: string }> => {
      let at = location
      if (at === undefined) {
        const dir = tempDir('marks')
        dirs.push(dir)
        at = `${dir.path}/db`
      }
      return { store: await openLevelBlockStore({ crypto, location: at, ...(cacheSize === undefined ? {} : { cacheSize }) }), location: at }
    }

    it('agreements written before their proposal, and proposals above every link: getLinked is right, before and after reopening', async () => {
      const { alice, bob, first, second } = twoChains()
      let { store, location } = await open()
      await store.write({ blocks: [alice.blocks[0]!, bob.blocks[0]!] })
      // Learn the marks while nothing links anywhere.
      expect(
        await store.getLinkedMany([
          { publicKey: alice.publicKey, sequenceNumber: 2 },
          { publicKey: alice.publicKey, sequenceNumber: 3 },
        ]),
      ).toEqual([[], []])
      expect(await store.get(alice.publicKey, 2)).toBeUndefined()
      // The second agreement first (a store does not validate), then the rest.
      await store.write({ blocks: [second.agreement] })
      expect(sequences(await store.getLinked(alice.publicKey, 3))).toEqual([3])
      await store.write({ blocks: [first.proposal, second.proposal, first.agreement] })
      expect(sequences(await store.getLinked(alice.publicKey, 2))).toEqual([2])
      expect(sequences(await store.getLinked(alice.publicKey, 3))).toEqual([3])
      expect(await store.getLinked(alice.publicKey, 4)).toEqual([])
      expect(sequences(await store.getMany([1, 2, 3, 4].map((sequenceNumber) => ({ publicKey: alice.publicKey, sequenceNumber }))))).toEqual([
        1,
        2,
        3,
        undefined,
      ])
      await store.close()
      ;({ store } = await open(location))
      expect(sequences(await store.getLinked(alice.publicKey, 3))).toEqual([3])
      expect(await store.getLinked(alice.publicKey, 4)).toEqual([])
      expect(sequences(await store.getMany([3, 4].map((sequenceNumber) => ({ publicKey: bob.publicKey, sequenceNumber }))))).toEqual([3, undefined])
      await store.close()
    })

    it('a different block at a taken position is refused, the same block skipped, gaps filled later', async () => {
      const { alice, bob, first, second } = twoChains()
      const { store } = await open()
      await store.write({ blocks: [alice.blocks[0]!, first.proposal] })
      await store.get(alice.publicKey, 3) // the chain's head is now known
      const fork = createProposal(
        alice.author,
        { ...alice.head, sequenceNumber: 1, hash: new Uint8Array(32) },
        {
          counterparty: bob.publicKey,
          payload: transferPayload({ ...alice.head, balance: 1_000 }, 1),
          timestamp: 9_000,
        },
      )
      expect(fork.sequenceNumber).toBe(2)
      expect(await codeOf(store.write({ blocks: [fork] }))).toBe(TrustChainErrorCode.INVALID_INPUT)
      await store.write({ blocks: [first.proposal] })
      // Above the head with a gap (alice's 4 is the agreement to bob's proposal), then part of the gap.
      const fifth = alice.pay(bob, 1).proposal
      expect(fifth.sequenceNumber).toBe(5)
      await store.write({ blocks: [fifth] })
      await store.write({ blocks: [second.proposal] })
      expect(sequences(await store.range(alice.publicKey, 1, 10))).toEqual([1, 2, 3, 5])
      expect(await codeOf(store.write({ blocks: [second.proposal, fork] }))).toBe(TrustChainErrorCode.INVALID_INPUT)
      expect(sequences(await store.range(alice.publicKey, 1, 10))).toEqual([1, 2, 3, 5])
      await store.close()
    })

    it('reads racing writes never leave a stale answer behind', async () => {
      const { alice, bob, first, second, third } = twoChains()
      const { store } = await open()
      await store.write({ blocks: [alice.blocks[0]!, bob.blocks[0]!, first.proposal] })
      const racing = [
        store.getLinked(alice.publicKey, 2),
        store.write({ blocks: [first.agreement, second.proposal] }),
        store.get(alice.publicKey, 3),
        store.getLinked(alice.publicKey, 3),
        store.write({ blocks: [second.agreement, third.proposal, third.agreement] }),
        store.getLinked(bob.publicKey, 4),
      ]
      await Promise.all(racing)
      expect(sequences(await store.getLinked(alice.publicKey, 2))).toEqual([2])
      expect(sequences(await store.getLinked(alice.publicKey, 3))).toEqual([3])
      expect(sequences(await store.getLinked(bob.publicKey, 4))).toEqual([4])
      expect((await store.get(alice.publicKey, 3))?.sequenceNumber).toBe(3)
      expect((await store.latest(bob.publicKey))?.sequenceNumber).toBe(4)
      await store.close()
    })
  })
}
