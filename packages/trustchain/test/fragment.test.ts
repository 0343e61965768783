import type { Crypto } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type AgreementFragment,
  checkFragment,
  containsExactlyOnce,
  createAgreement,
  createCheckpoint,
  createLedger,
  createMemoryBlockStore,
  extractFragment,
  type HalfBlock,
  isTrustChainError,
  TrustChainErrorCode,
} from '../src/index.js'
import { keyPairOf, TestChain, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

async function setup() {
  const alice = new TestChain(crypto, keyPairOf(crypto, 1))
  const bob = new TestChain(crypto, keyPairOf(crypto, 2))
  alice.genesis(100)
  bob.genesis(100)
  const checkpoint = (chain: TestChain, round: number) =>
    chain.append(createCheckpoint(chain.author, chain.head, { consensusResultHash: new Uint8Array(32).fill(round), round, timestamp: 5_000 + round }))
  const before = alice.pay(bob, 10, 3_000) // outside the fragment
  const open = checkpoint(alice, 1)
  const inside = alice.pay(bob, 5, 6_000)
  const answered = bob.pay(alice, 7, 6_100) // alice's agreement, inside
  const close = checkpoint(alice, 2)
  const store = createMemoryBlockStore({ crypto })
  await createLedger({ crypto, store }).ingest([...alice.blocks, ...bob.blocks])
  return { alice, bob, before, open, inside, answered, close, store }
}

describe('agreement fragments', () => {
  it('extracts the fragment between two checkpoints and finds the halves inside it exactly once', async () => {
    const { before, open, inside, answered, close, store } = await setup()
    const fragment = await extractFragment(crypto, store, open, close)
    expect(fragment.blocks.map((b) => b.sequenceNumber)).toEqual([3, 4, 5, 6])
    expect(checkFragment(crypto, fragment)).toBeUndefined()
    expect(containsExactlyOnce(crypto, fragment, inside.proposal)).toBe(true)
    expect(containsExactlyOnce(crypto, fragment, answered.agreement)).toBe(true)
    expect(containsExactlyOnce(crypto, fragment, before.proposal)).toBe(false) // before the opening checkpoint
    expect(containsExactlyOnce(crypto, fragment, open)).toBe(false) // the delimiters are not inside
    expect(containsExactlyOnce(crypto, fragment, inside.agreement)).toBe(false) // another chain's half
  })

  it('refuses fragments that are not one whole, signed hash chain between checkpoints', async () => {
    const { alice, open, close, inside, store } = await setup()
    const base = await extractFragment(crypto, store, open, close)
    const forged = (blocks: readonly HalfBlock[]): AgreementFragment => ({ publicKey: alice.publicKey, blocks })
    expect(checkFragment(crypto, forged(base.blocks.slice(0, -1)))).toMatch(/checkpoint/)
    expect(checkFragment(crypto, forged([base.blocks[0]!, base.blocks[2]!, base.blocks[3]!]))).toMatch(/sequence/)
    const swapped = [...base.blocks]
    swapped[1] = Object.freeze({ ...inside.proposal, signature: new Uint8Array(64) })
    expect(checkFragment(crypto, forged(swapped))).toMatch(/signed/)
    expect(containsExactlyOnce(crypto, forged(swapped), inside.proposal)).toBe(false)
    const wrongOrder = await extractFragment(crypto, store, close, open).catch((e: unknown) => e)
    expect(isTrustChainError(wrongOrder, TrustChainErrorCode.INVALID_FRAGMENT)).toBe(true)
  })

  it('a second agreement to the same proposal inside the fragment makes inclusion ambiguous', async () => {
    const { alice, open, answered } = await setup()
    // Alice countersigns Bob's proposal again, then closes the fragment: a fraudulent chain.
    const twice = alice.append(createAgreement(alice.author, alice.head, answered.proposal, { timestamp: 6_200 }))
    const close = alice.append(createCheckpoint(alice.author, alice.head, { consensusResultHash: new Uint8Array(32), round: 3, timestamp: 7_000 }))
    const blocks = alice.blocks.slice(open.sequenceNumber - 1, close.sequenceNumber)
    const fragment = { publicKey: alice.publicKey, blocks }
    expect(checkFragment(crypto, fragment)).toBeUndefined()
    expect(containsExactlyOnce(crypto, fragment, answered.agreement)).toBe(false)
    expect(containsExactlyOnce(crypto, fragment, twice)).toBe(false)
  })

  it('reports missing blocks between the checkpoints', async () => {
    const { open, close } = await setup()
    const sparse = createMemoryBlockStore({ crypto })
    await sparse.write({ blocks: [open, close] })
    const error = await extractFragment(crypto, sparse, open, close).catch((e: unknown) => e)
    expect(isTrustChainError(error, TrustChainErrorCode.INVALID_FRAGMENT)).toBe(true)
  })
})
