/**
 * The ledger with a batch verifier: each signature is verified once, by this thread or by the verifier; the
 * verifier's answers count; its share of a batch follows how fast it answers; a failing verifier costs nothing but
 * time.
 */
import type { Crypto, SignedMessage } from '@constellation/crypto'
import { beforeAll, expect, it } from 'vitest'
import { type BatchVerifier, createLedger, createMemoryBlockStore, type HalfBlock, signBlock } from '../src/index.js'
import { countingCrypto, keyPairOf, TestChain, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

/** Genesis blocks and `pairs` transfers back and forth between two chains, in the order a node receives them. */
function history(pairs: number): HalfBlock[] {
  const alice = new TestChain(crypto, keyPairOf(crypto, 1))
  const bob = new TestChain(crypto, keyPairOf(crypto, 2))
  const blocks = [alice.genesis(1_000_000), bob.genesis(1_000_000)]
  for (let i = 0; i < pairs; i++) {
    const { proposal, agreement } = i % 2 === 0 ? alice.pay(bob, 3) : bob.pay(alice, 2)
    blocks.push(proposal, agreement)
  }
  return blocks
}

const batchesOf = (blocks: readonly HalfBlock[], size: number) =>
  Array.from({ length: Math.ceil(blocks.length / size) }, (_, i) => blocks.slice(i * size, (i + 1) * size))

/** A verifier that really verifies, counting what it was given, answering after `delay` turns of the event loop. */
function countingVerifier(delay: number): BatchVerifier & { items: number; batches: number[] } {
  const verifier = {
    items: 0,
    batches: [] as number[],
    async verifyBatch(items: readonly SignedMessage[]) {
      verifier.items += items.length
      verifier.batches.push(items.length)
      for (let i = 0; i < delay; i++) await new Promise((resolve) => setImmediate(resolve))
      return crypto.verifyMany(items)
    },
  }
  return verifier
}

it('every signature is verified once, by this thread or by the verifier, and every block is stored', async () => {
  const blocks = history(100)
  const counting = countingCrypto(crypto)
  const verifier = countingVerifier(0)
  const ledger = createLedger({ crypto: counting, store: createMemoryBlockStore({ crypto }), verifier, minVerifyBatch: 8 })
  for (const batch of batchesOf(blocks, 40)) expect((await ledger.ingest(batch)).every((o) => o.status === 'stored')).toBe(true)
  expect(counting.verifies + verifier.items).toBe(blocks.length)
  expect(verifier.items).toBeGreaterThan(0)
  expect(counting.verifies).toBeGreaterThan(0) // the first batch is shared half and half
})

it("the verifier's answer counts: a block it finds badly signed is refused as bad-signature", async () => {
  const blocks = history(20)
  const last = blocks.at(-1) as HalfBlock
  const { signature: _signature, ...unsigned } = last
  // Signed by the wrong key: only the verifier, which gets the end of the batch, looks at the signature.
  const forged = { ...signBlock(crypto, keyPairOf(crypto, 3), unsigned), publicKey: last.publicKey } as HalfBlock
  const ledger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }), verifier: countingVerifier(0), minVerifyBatch: 4 })
  const outcomes = await ledger.ingest([...blocks.slice(0, -1), forged])
  expect(outcomes.slice(0, -1).every((o) => o.status === 'stored')).toBe(true)
  const refused = outcomes.at(-1)
  expect(refused?.status).toBe('rejected')
  expect(refused?.validation?.reasons).toContain('bad-signature')
})

it("the verifier's share grows while its answers are ready in time and shrinks while validation waits for them", async () => {
  const blocks = history(400)
  const quick = countingVerifier(0)
  const quickLedger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }), verifier: quick, minVerifyBatch: 8 })
  for (const batch of batchesOf(blocks, 40)) await quickLedger.ingest(batch)
  expect(quick.batches.at(-1)).toBeGreaterThan(quick.batches[0] as number)
  expect(quick.batches.at(-1)).toBe(40)

  const slow = countingVerifier(50)
  const slowLedger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }), verifier: slow, minVerifyBatch: 8 })
  for (const batch of batchesOf(blocks, 40)) await slowLedger.ingest(batch)
  expect(slow.batches.at(-1)).toBeLessThan(slow.batches[0] as number)
  expect(slow.batches.at(-1)).toBeLessThanOrEqual(4)
})

it('a failing verifier: this thread verifies everything itself', async () => {
  const blocks = history(30)
  const counting = countingCrypto(crypto)
  const failing: BatchVerifier = { verifyBatch: async () => Promise.reject(new Error('worker gone')) }
  const ledger = createLedger({ crypto: counting, store: createMemoryBlockStore({ crypto }), verifier: failing, minVerifyBatch: 4 })
  expect((await ledger.ingest(blocks)).every((o) => o.status === 'stored')).toBe(true)
  expect(counting.verifies).toBe(blocks.length)
})
