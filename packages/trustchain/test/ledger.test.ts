import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  type BlockStore,
  createAgreement,
  createLedger,
  createMemoryBlockStore,
  createProposal,
  encodeBlock,
  type HalfBlock,
  type IngestOutcome,
  signBlock,
  transferPayload,
  TrustChainErrorCode,
  ValidationLevel,
  ValidationReason,
  verifyFraudProof,
} from '../src/index.js'
import { keyPairOf, propertyOptions, TestChain, testCrypto, twoPartyHistory } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

function world() {
  const store = createMemoryBlockStore({ crypto })
  return { ...twoPartyHistory(crypto), store, ledger: createLedger({ crypto, store }) }
}

/** Everything a store holds about the given chains, as comparable text. */
async function snapshot(store: BlockStore, chains: readonly TestChain[]): Promise<string> {
  const parts: string[] = []
  for (const chain of chains) {
    for (const block of await store.range(chain.publicKey, 1, 1_000)) parts.push(`${block.sequenceNumber}:${toHex(blockHash(crypto, block))}`)
  }
  parts.push(`proofs:${(await store.fraudProofs()).length}`)
  return parts.join(' ')
}

const statuses = (outcomes: readonly IngestOutcome[]) => outcomes.map((o) => o.status)
const codeOf = (outcome: IngestOutcome | undefined) => (outcome?.status === 'rejected' ? outcome.error.code : undefined)

describe('validate and store', () => {
  it('stores a valid history in one batch, and reports replays as duplicates without writing', async () => {
    const { alice, bob, ledger, store } = world()
    expect(statuses(await ledger.ingest([...alice.blocks, ...bob.blocks]))).toEqual(Array(6).fill('stored'))
    const before = await snapshot(store, [alice, bob])
    expect(statuses(await ledger.ingestWire(alice.blocks.map((b) => encodeBlock(b))))).toEqual(['duplicate', 'duplicate', 'duplicate'])
    expect(await snapshot(store, [alice, bob])).toBe(before)
    expect((await ledger.validate(alice.blocks[1]!)).level).toBe(ValidationLevel.VALID)
  })

  it('accepts out-of-order blocks, but stores a value-carrying block only once what it depends on is known', async () => {
    const { alice, bob, second, ledger, store } = world()
    const reversed = [...alice.blocks].reverse()
    const outcomes = await ledger.ingest(reversed)
    // Alice's agreement answers Bob's proposal, which is unknown here: retriable, naming what to fetch. Her transfer
    // waits for her genesis block later in the same batch.
    expect(statuses(outcomes)).toEqual(['rejected', 'stored', 'stored'])
    expect(codeOf(outcomes[0])).toBe(TrustChainErrorCode.MISSING_DEPENDENCY)
    expect(outcomes[0]?.status === 'rejected' && outcomes[0].error.detail.missing).toEqual({ publicKey: toHex(bob.publicKey), sequenceNumber: 3, from: 1 }) // Bob's chain is unknown: fetch 1..3
    expect(outcomes[0]?.validation?.level).toBe(ValidationLevel.PARTIAL_NEXT) // the DESIGN level is still reported
    expect((await ledger.ingest(bob.blocks)).map((o) => o.status)).toEqual(['stored', 'stored', 'stored'])
    expect(statuses(await ledger.ingest([second.agreement]))).toEqual(['stored'])
    expect((await store.latest(alice.publicKey))?.sequenceNumber).toBe(3)
  })

  it('a malformed in-process block gets its own rejection; the rest of the batch is stored, with or without a verifier', async () => {
    const { alice, bob, store } = world()
    const bad = { ...bob.blocks[0]!, publicKey: new Uint8Array(31) } as HalfBlock
    const plain = createLedger({ crypto, store })
    const outcomes = await plain.ingest([alice.blocks[0]!, bad])
    expect(statuses(outcomes)).toEqual(['stored', 'rejected'])
    expect(codeOf(outcomes[1])).toBe(TrustChainErrorCode.MALFORMED_BLOCK)
    const pooled = createLedger({ crypto, store, verifier: { verifyBatch: async (items) => items.map(() => true) }, minVerifyBatch: 1 })
    const ingesting = pooled.ingest([bad, alice.blocks[1]!])
    expect(ingesting).toBeInstanceOf(Promise)
    expect(statuses(await ingesting)).toEqual(['rejected', 'stored'])
  })

  it('a block stored early never turns invalid later, and never gets an honest block refused', async () => {
    const alice = new TestChain(crypto, keyPairOf(crypto, 1))
    const bob = new TestChain(crypto, keyPairOf(crypto, 2))
    alice.genesis(100)
    bob.genesis(0)
    const ledger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }) })
    expect(statuses(await ledger.ingest([...alice.blocks, ...bob.blocks]))).toEqual(['stored', 'stored'])
    const proposal = alice.append(
      createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload: transferPayload(alice.head, 10), timestamp: 2_000 }),
    )
    // Bob "agrees" to a million before anyone here has seen the proposal, minting himself a balance.
    const minted = signBlock(crypto, bob.keyPair, {
      publicKey: bob.publicKey,
      sequenceNumber: 2,
      linkPublicKey: alice.publicKey,
      linkSequenceNumber: 2,
      previousHash: bob.head.hash,
      timestamp: 2_000,
      type: 'tx',
      payload: { kind: 'transfer', amount: 1_000_000, balance: 1_000_000 },
    })
    const [early] = await ledger.ingest([minted])
    expect(codeOf(early)).toBe(TrustChainErrorCode.MISSING_DEPENDENCY)
    expect(statuses(await ledger.ingest([proposal]))).toEqual(['stored'])
    const [late] = await ledger.ingest([minted])
    expect(late?.status === 'rejected' && late.error.detail.reasons).toContain(ValidationReason.LINK_MISMATCH)

    // An overspend ahead of a gap waits for the gap, then is refused like it would have been in order.
    const carol = new TestChain(crypto, keyPairOf(crypto, 3))
    carol.genesis(10)
    const note = carol.append(createProposal(carol.author, carol.head, { counterparty: alice.publicKey, payload: { kind: 'note' }, timestamp: 2_000 }))
    const overspend = signBlock(crypto, carol.keyPair, {
      publicKey: carol.publicKey,
      sequenceNumber: 3,
      linkPublicKey: bob.publicKey,
      linkSequenceNumber: 0,
      previousHash: carol.head.hash,
      timestamp: 3_000,
      type: 'tx',
      payload: { kind: 'transfer', amount: 500, balance: 0 },
    })
    expect(statuses(await ledger.ingest([carol.blocks[0]!]))).toEqual(['stored'])
    const [ahead] = await ledger.ingest([overspend])
    expect(codeOf(ahead)).toBe(TrustChainErrorCode.MISSING_DEPENDENCY)
    expect(ahead?.status === 'rejected' && ahead.error.detail.missing).toEqual({ publicKey: toHex(carol.publicKey), sequenceNumber: 2, from: 2 })
    expect(statuses(await ledger.ingest([note]))).toEqual(['stored'])
    const [inOrder] = await ledger.ingest([overspend])
    expect(inOrder?.status === 'rejected' && inOrder.error.detail.reasons).toContain(ValidationReason.INSUFFICIENT_BALANCE)
  })

  it('every kind of bad block gets a typed rejection and leaves the store as it was', async () => {
    const { alice, bob, ledger, store, first } = world()
    await ledger.ingest([...alice.blocks, ...bob.blocks])
    const before = await snapshot(store, [alice, bob])
    const { signature: _s, ...unsigned } = first.proposal
    const generous = { maxBlockBytes: 20_000, maxPayloadBytes: 10_000 }
    const oversized = signBlock(crypto, alice.keyPair, { ...unsigned, payload: { kind: 'blob', data: new Uint8Array(8_300) } }, generous)
    const wrongSignature = encodeCanonical([encodeCanonical(unsigned), bob.blocks[0]!.signature])
    const outOfChain = signBlock(crypto, alice.keyPair, { ...unsigned, sequenceNumber: 9, previousHash: new Uint8Array(32).fill(3) }) // fine on its own
    const fork = signBlock(crypto, alice.keyPair, { ...unsigned, timestamp: unsigned.timestamp + 1 })
    const outcomes = await ledger.ingestWire([
      new Uint8Array([1, 2, 3]),
      new Uint8Array(20_000),
      encodeBlock(oversized, generous),
      wrongSignature,
      encodeBlock(fork),
    ])
    expect(outcomes.map(codeOf)).toEqual([
      TrustChainErrorCode.MALFORMED_BLOCK,
      TrustChainErrorCode.BLOCK_TOO_LARGE,
      TrustChainErrorCode.PAYLOAD_TOO_LARGE,
      TrustChainErrorCode.INVALID_BLOCK,
      TrustChainErrorCode.INVALID_BLOCK,
    ])
    const forkOutcome = outcomes[4]!
    expect(forkOutcome.status === 'rejected' && forkOutcome.error.detail.reasons).toContain(ValidationReason.DOUBLE_SIGN)
    // The fork is refused, but the proof of it is kept and can be queried by anyone.
    const proofs = await store.fraudProofs(alice.publicKey)
    expect(proofs.length).toBe(1)
    expect(verifyFraudProof(crypto, proofs[0]!)).toBe(true)
    expect(await snapshot(store, [alice, bob])).toBe(before.replace('proofs:0', 'proofs:1'))
    // A block that fits nowhere yet is stored as partial information, not rejected.
    expect((await ledger.ingest([outOfChain]))[0]?.validation?.level).toBe(ValidationLevel.PARTIAL)
  })

  it('a second agreement to one proposal is refused and its fraud proof stored', async () => {
    const { alice, bob, ledger, store, first } = world()
    await ledger.ingest([...alice.blocks, ...bob.blocks])
    const again = createAgreement(bob.author, bob.head, first.proposal, { timestamp: 9_000 })
    const [outcome] = await ledger.ingest([again])
    expect(codeOf(outcome)).toBe(TrustChainErrorCode.INVALID_BLOCK)
    const proofs = await store.fraudProofs(bob.publicKey)
    expect(proofs.map((p) => p.kind)).toEqual(['double-countersign'])
    expect(await store.get(bob.publicKey, again.sequenceNumber)).toBeUndefined()
  })

  it('conflicting blocks inside one batch: the first wins, the second is fraud', async () => {
    const { alice, ledger, first } = world()
    const { signature: _s, ...unsigned } = first.proposal
    const fork = signBlock(crypto, alice.keyPair, { ...unsigned, timestamp: unsigned.timestamp + 5 })
    const outcomes = await ledger.ingest([alice.blocks[0]!, first.proposal, fork])
    expect(statuses(outcomes)).toEqual(['stored', 'stored', 'rejected'])
  })

  it('fuzz: random bytes and mutated blocks never change the store and never throw', async () => {
    const { alice, bob, ledger, store } = world()
    await ledger.ingest([...alice.blocks, ...bob.blocks])
    const before = await snapshot(store, [alice, bob])
    const wires = [...alice.blocks, ...bob.blocks].map((b) => encodeBlock(b))
    const mutated = fc
      .record({ which: fc.integer({ min: 0, max: wires.length - 1 }), at: fc.nat(), flip: fc.integer({ min: 1, max: 255 }) })
      .map(({ which, at, flip }) => {
        const bytes = Uint8Array.from(wires[which]!)
        bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ flip
        return bytes
      })
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated), { maxLength: 4 }), async (inputs) => {
        const outcomes = await ledger.ingestWire(inputs)
        // A flipped byte inside a payload map may still decode, but then the signature no longer matches.
        for (const outcome of outcomes) expect(outcome.status === 'rejected' || outcome.status === 'duplicate').toBe(true)
      }),
      propertyOptions(300),
    )
    expect(await snapshot(store, [alice, bob])).toBe(before)
  })
})

describe('balances across a batch', () => {
  it('walks back over non-transfer blocks to the last stated balance', async () => {
    const { alice, bob, ledger } = world()
    const carol = new TestChain(crypto, keyPairOf(crypto, 3))
    carol.genesis(0)
    alice.append(
      signBlock(crypto, alice.keyPair, {
        publicKey: alice.publicKey,
        sequenceNumber: alice.head.sequenceNumber + 1,
        linkPublicKey: carol.publicKey,
        linkSequenceNumber: 0,
        previousHash: alice.head.hash,
        timestamp: 3_000,
        type: 'tx',
        payload: { kind: 'note', text: 'no balance here' },
      }),
    )
    const paid = alice.pay(carol, 30, 4_000)
    const outcomes = await ledger.ingest([...alice.blocks, ...bob.blocks, ...carol.blocks])
    expect(outcomes.every((o) => o.status === 'stored')).toBe(true)
    expect((paid.proposal.payload as { balance: number }).balance).toBe(100 - 10 + 20 - 30)
    const tooMuch = alice.append(
      signBlock(crypto, alice.keyPair, {
        publicKey: alice.publicKey,
        sequenceNumber: alice.head.sequenceNumber + 1,
        linkPublicKey: carol.publicKey,
        linkSequenceNumber: 0,
        previousHash: alice.head.hash,
        timestamp: 5_000,
        type: 'tx',
        payload: { kind: 'transfer', amount: 81, balance: 0 },
      }),
    )
    const [rejected] = await ledger.ingest([tooMuch])
    expect(rejected?.status === 'rejected' && rejected.error.detail.reasons).toContain(ValidationReason.INSUFFICIENT_BALANCE)
  })
})
