import { type Crypto, toHex } from '@constellation/crypto'
import { beforeAll, expect, it } from 'vitest'
import { blockHash, type BlockStore, createLedger, createMemoryBlockStore, TrustChainError, TrustChainErrorCode } from '../src/index.js'
import { keyPairOf, TestChain, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

function history(pairs: number) {
  const alice = new TestChain(crypto, keyPairOf(crypto, 1))
  const bob = new TestChain(crypto, keyPairOf(crypto, 2))
  alice.genesis(1_000)
  bob.genesis(1_000)
  const blocks = [...alice.blocks, ...bob.blocks]
  for (let i = 0; i < pairs; i++) {
    const { proposal, agreement } = i % 2 === 0 ? alice.pay(bob, 3) : bob.pay(alice, 2)
    blocks.push(proposal, agreement)
  }
  return blocks
}

/** A memory store whose writes can be made to fail, and whose writes only finish when released. */
function slowStore(): { store: BlockStore; release: () => void; failNext: () => void } {
  const inner = createMemoryBlockStore({ crypto })
  const gates: (() => void)[] = []
  let fail = false
  return {
    store: {
      get: (publicKey, sequenceNumber) => inner.get(publicKey, sequenceNumber),
      getMany: (keys) => inner.getMany(keys),
      getByHash: (hash) => inner.getByHash(hash),
      getLinked: (publicKey, sequenceNumber) => inner.getLinked(publicKey, sequenceNumber),
      getLinkedMany: (targets) => inner.getLinkedMany(targets),
      latest: (publicKey) => inner.latest(publicKey),
      range: (publicKey, from, to) => inner.range(publicKey, from, to),
      fraudProofs: (publicKey) => inner.fraudProofs(publicKey),
      close: () => inner.close(),
      async write(batch) {
        await new Promise<void>((resolve) => gates.push(resolve))
        if (fail) {
          fail = false
          throw new TrustChainError(TrustChainErrorCode.STORE_CLOSED, 'disk gone')
        }
        return inner.write(batch)
      },
    },
    release: () => {
      for (const open of gates.splice(0)) open()
    },
    failNext: () => {
      fail = true
    },
  }
}

it('batches ingested while earlier writes are in flight validate against them, and are acknowledged in order', async () => {
  const blocks = history(30)
  const { store, release } = slowStore()
  const ledger = createLedger({ crypto, store })
  const batches = [blocks.slice(0, 20), blocks.slice(20, 40), blocks.slice(40)]
  const order: number[] = []
  const results = batches.map((batch, i) =>
    ledger.ingest(batch).then((outcomes) => {
      order.push(i)
      return outcomes
    }),
  )
  // Let all three validate (their writes wait at the gate), then let the writes through.
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
  release()
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    release()
  }
  const outcomes = (await Promise.all(results)).flat()
  expect(outcomes.map((o) => o.status)).toEqual(blocks.map(() => 'stored'))
  // Chain-linked validation across batches: the first block of batch 2 saw its predecessor from batch 1.
  expect(outcomes[20]?.validation?.reasons).not.toContain('previous-unknown')
  expect(order).toEqual([0, 1, 2])
  const stored = await store.range(blocks[0]!.publicKey, 1, 100)
  expect(stored.map((b) => toHex(blockHash(crypto, b)))).toEqual(
    blocks.filter((b) => toHex(b.publicKey) === toHex(blocks[0]!.publicKey)).map((b) => toHex(blockHash(crypto, b))),
  )
})

it('a failed write fails its batch and every batch validated against it, then the ledger recovers', async () => {
  const blocks = history(10)
  const { store, release, failNext } = slowStore()
  const ledger = createLedger({ crypto, store })
  failNext()
  const first = ledger.ingest(blocks.slice(0, 10)).catch((e: unknown) => e)
  const second = ledger.ingest(blocks.slice(10, 16)).catch((e: unknown) => e)
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    release()
  }
  expect(((await first) as TrustChainError).code).toBe(TrustChainErrorCode.STORE_CLOSED)
  expect(((await second) as TrustChainError).code).toBe(TrustChainErrorCode.STORE_CLOSED)
  expect(await store.latest(blocks[0]!.publicKey)).toBeUndefined()
  // Nothing of the failed batches is believed stored: ingesting them again stores them.
  const again = ledger.ingest(blocks)
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    release()
  }
  expect((await again).every((o) => o.status === 'stored')).toBe(true)
})

it('an earlier write that completes while a batch is being validated does not hide its blocks from that batch', async () => {
  const blocks = history(4)
  const { store, release } = slowStore()
  // The second batch waits on the verifier after reading the store, while the first batch's write completes.
  let verified: (() => void) | undefined
  const verifier = {
    verifyBatch: async (items: readonly unknown[]) => {
      await new Promise<void>((resolve) => (verified = resolve))
      return items.map(() => true)
    },
  }
  const ledger = createLedger({ crypto, store, verifier, minVerifyBatch: 4 })
  const first = ledger.ingest(blocks.slice(0, 2)) // the two genesis blocks: below minVerifyBatch, verified here
  const second = ledger.ingest(blocks.slice(2)) // transfers whose balances start at those genesis blocks
  let firstDone = false
  void first.then(() => (firstDone = true))
  // Both batches reach their waits: the first at the store's gate, the second at the verifier, after its reads.
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
  for (let i = 0; i < 20 && !firstDone; i++) {
    release()
    await new Promise((resolve) => setImmediate(resolve))
  }
  expect((await first).map((o) => o.status)).toEqual(['stored', 'stored'])
  expect(verified).toBeDefined()
  verified?.()
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    release()
  }
  const outcomes = await second
  expect(outcomes.map((o) => o.status)).toEqual(blocks.slice(2).map(() => 'stored'))
  expect(outcomes[0]?.validation?.reasons).not.toContain('balance-unchecked')
})
