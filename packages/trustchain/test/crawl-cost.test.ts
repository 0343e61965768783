/**
 * What ingesting and crawling cost: signatures verified once per block, duplicates recognised before any
 * verification, and crawls that ask only for the blocks the crawler lacks. Counted with a `Crypto` that counts
 * its verifications and a messenger that looks inside crawl answers.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  createProposal,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createNetworkMessenger,
  createTrustChainNode,
  decodeBlock,
  encodeBlock,
  type HalfBlock,
  type IngestOutcome,
  signBlock,
  TrustChainErrorCode,
  type TrustChainMessenger,
  ValidationReason,
} from '../src/index.js'
import { decodeMessage, RequestCodec, ResponseCodec } from '../src/wire.js'
import { countingCrypto, keyPairOf, settle, TestChain, testCrypto } from './helpers.js'
import { SimHarness } from './protocol-harness.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const statuses = (outcomes: readonly IngestOutcome[]) => outcomes.map((outcome) => outcome.status)
/** A fresh object with the same bytes, as a block arrives again from the network. */
const copyOf = (block: HalfBlock) => decodeBlock(crypto, Uint8Array.from(encodeBlock(block)))

/** Alice (genesis 100) pays Bob (genesis 50) `payments` times, 1 each. */
function history(payments: number) {
  const alice = new TestChain(crypto, keyPairOf(crypto, 1))
  const bob = new TestChain(crypto, keyPairOf(crypto, 2))
  alice.genesis(100)
  bob.genesis(50)
  for (let i = 0; i < payments; i++) alice.pay(bob, 1, 2_000 + i)
  return { alice, bob }
}

describe('the ledger verifies each signature once', () => {
  it('a block byte for byte like the stored one is a duplicate, answered without verifying its signature', async () => {
    const counting = countingCrypto(crypto)
    const { alice } = history(2)
    const store = createMemoryBlockStore({ crypto })
    const ledger = createLedger({ crypto: counting, store })
    expect(statuses(await ledger.ingest(alice.blocks))).toEqual(['stored', 'stored', 'stored'])
    expect(counting.verifies).toBe(3)
    const again = await ledger.ingest(alice.blocks.map(copyOf))
    expect(statuses(again)).toEqual(['duplicate', 'duplicate', 'duplicate'])
    expect(counting.verifies).toBe(3)
  })

  it('a different block at a stored position is verified, then proven double-signed; a forged copy is refused', async () => {
    const counting = countingCrypto(crypto)
    const { alice, bob } = history(1)
    const store = createMemoryBlockStore({ crypto })
    const ledger = createLedger({ crypto: counting, store })
    await ledger.ingest([...alice.blocks, ...bob.blocks])
    const stored = alice.blocks[1]!
    const { signature: _signature, ...unsigned } = stored
    const fork = signBlock(crypto, alice.keyPair, { ...unsigned, timestamp: stored.timestamp + 1 })
    const before = counting.verifies
    const [forked] = await ledger.ingest([fork])
    expect(counting.verifies).toBe(before + 1)
    expect(forked?.status === 'rejected' && forked.error.detail.reasons).toContain(ValidationReason.DOUBLE_SIGN)
    expect((await store.fraudProofs(alice.publicKey)).map((proof) => proof.kind)).toEqual(['double-sign'])
    // Same hash as the stored block, another (invalid) signature: not a duplicate, so verified, and refused.
    const forged = Object.freeze({ ...stored, signature: new Uint8Array(64).fill(7) })
    const [refused] = await ledger.ingest([forged])
    expect(counting.verifies).toBe(before + 2)
    expect(refused?.status === 'rejected' && refused.error.detail.reasons).toEqual([ValidationReason.BAD_SIGNATURE])
  })

  it('a block refused for a missing dependency is not verified again when it comes back with it', async () => {
    const counting = countingCrypto(crypto)
    const { alice } = history(3)
    const ledger = createLedger({ crypto: counting, store: createMemoryBlockStore({ crypto }) })
    const last = alice.blocks.at(-1)!
    const [waiting] = await ledger.ingest([last])
    expect(waiting?.status === 'rejected' && waiting.error.code).toBe(TrustChainErrorCode.MISSING_DEPENDENCY)
    expect(counting.verifies).toBe(1)
    // Held blocks go after what was fetched, in reverse order: the batch retries them after each block it stores.
    const outcomes = await ledger.ingest([...alice.blocks.slice(0, -1).reverse(), last])
    expect(statuses(outcomes)).toEqual(['stored', 'stored', 'stored', 'stored'])
    expect(counting.verifies).toBe(4) // one per block, however often it was tried
  })

  it('a missing dependency names where the run of blocks to fetch with it starts, past blocks held without a balance', async () => {
    const alice = new TestChain(crypto, keyPairOf(crypto, 1))
    const bob = new TestChain(crypto, keyPairOf(crypto, 2))
    alice.genesis(100)
    bob.genesis(50)
    for (let i = 0; i < 3; i++) alice.pay(bob, 1, 2_000 + i) // alice 2..4
    alice.append(createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload: { kind: 'note', text: 'no value' }, timestamp: 3_000 })) // 5
    alice.pay(bob, 1, 3_001) // 6
    alice.pay(bob, 1, 3_002) // 7
    const ledger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }) })
    // Held: 1, 2 and the note 5 (no balance: stored without its predecessors). Block 7 needs 6, which needs 5's
    // predecessor 4, which needs 3.
    expect(statuses(await ledger.ingest([alice.blocks[0]!, alice.blocks[1]!, alice.blocks[4]!]))).toEqual(['stored', 'stored', 'stored'])
    const [waiting] = await ledger.ingest([alice.blocks[6]!])
    expect(waiting?.status === 'rejected' && waiting.error.detail.missing).toEqual({ publicKey: toHex(alice.publicKey), sequenceNumber: 6, from: 3 })
  })
})

describe('a counterparty crawls only what it lacks', () => {
  it('fetches the proposer blocks it has not seen, verifying each once', async () => {
    const counting = countingCrypto(crypto)
    const sim = new SimHarness(crypto, { seed: 41 })
    const crawled: { known: boolean }[] = []
    const peers = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const keyPair = keyPairOf(crypto, 140 + i)
        const store = createMemoryBlockStore({ crypto })
        await createLedger({ crypto, store }).ingest([createGenesisBlock({ crypto, keyPair }, { balance: 1_000, timestamp: 1 })])
        // No broadcasts: blocks reach only counterparties and crawlers. Crawl answers are looked into.
        const inner = createNetworkMessenger(await sim.network(keyPair), { broadcasts: false })
        const messenger: TrustChainMessenger = {
          handle: (handler) => inner.handle(handler),
          onBroadcast: (handler) => inner.onBroadcast(handler),
          broadcast: (message) => inner.broadcast(message),
          async request(peer, bytes) {
            const answer = await inner.request(peer, bytes)
            const request = decodeMessage(RequestCodec, bytes)
            const response = decodeMessage(ResponseCodec, answer)
            if (request.type === 'crawl' && response.type === 'blocks') {
              for (const wire of response.blocks) {
                const block = decodeBlock(crypto, wire)
                const held = await store.get(block.publicKey, block.sequenceNumber)
                crawled.push({ known: held !== undefined && toHex(blockHash(crypto, held)) === toHex(blockHash(crypto, block)) })
              }
            }
            return answer
          },
        }
        // Only Bob counts: his verifications are the counterparty's cost.
        const node = createTrustChainNode({ crypto: i === 1 ? counting : crypto, keyPair, store, messenger, clock: sim.net.clock, seed: i })
        await node.start()
        return { node, store }
      }),
    )
    const [alice, bob, carol] = peers as [(typeof peers)[number], (typeof peers)[number], (typeof peers)[number]]
    const run = () => sim.run(() => peers.some((peer) => !peer.node.idle()))
    const pay = async (to: typeof bob) => {
      const done = settle(alice.node.propose(to.node.publicKey, { transfer: 1 }))
      await run()
      expect((await done).ok).toBe(true)
    }
    await pay(bob)
    await pay(bob)
    for (let i = 0; i < 3; i++) await pay(carol) // Bob does not see these
    crawled.length = 0
    counting.verifies = 0
    await pay(bob)
    // Bob held Alice's blocks 1..3; he fetches 4..6 (her payments to Carol) and nothing else.
    expect(crawled).toEqual([{ known: false }, { known: false }, { known: false }])
    // Her proposal once, the three crawled blocks once each, and his own agreement as his ledger stores it.
    expect(counting.verifies).toBe(5)
    expect(await bob.store.get(alice.node.publicKey, 7)).toBeDefined()
  })
})
