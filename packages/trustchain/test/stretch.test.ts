import { type Crypto, toHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  checkRefusal,
  checkStretch,
  createCheckpoint,
  createLedger,
  createMemoryBlockStore,
  createProposal,
  createVoid,
  extendStretch,
  rebaseStretch,
  type HalfBlock,
  PayloadRegistry,
  signBlock,
  signRefusal,
  stretchFrom,
  transferPayload,
  ZERO_HASH,
} from '../src/index.js'
import { countingCrypto, keyPairOf, TestChain, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const registry = new PayloadRegistry()
const opening = (balance: number) => ({ sequenceNumber: 0, hash: ZERO_HASH, balance })

/** alice (100) pays bob 10 and carol 5, receives 20 from bob, then checkpoints: blocks 1..5 of alice's chain. */
function aliceHistory() {
  const alice = new TestChain(crypto, keyPairOf(crypto, 1))
  const bob = new TestChain(crypto, keyPairOf(crypto, 2))
  const carol = new TestChain(crypto, keyPairOf(crypto, 3))
  alice.genesis(100)
  bob.genesis(50)
  carol.genesis(0)
  const toBob = alice.pay(bob, 10)
  const toCarol = alice.pay(carol, 5)
  const fromBob = bob.pay(alice, 20)
  alice.append(createCheckpoint(alice.author, alice.head, { consensusResultHash: new Uint8Array(32).fill(9), round: 1, timestamp: 3_000 }))
  return { alice, bob, carol, toBob, toCarol, fromBob }
}

describe('checkStretch', () => {
  it('summarises what a stretch pays out, receives and where it ends, checking every block from the anchor', () => {
    const { alice, bob, carol, toBob, toCarol, fromBob } = aliceHistory()
    const check = checkStretch(alice.publicKey, opening(100), alice.blocks, { crypto, registry })
    if (!check.ok) throw new Error(check.reasons.join())
    const { summary } = check.tail
    expect(summary.anchor).toBe(0)
    expect(summary.head).toEqual({ sequenceNumber: 5, hash: blockHash(crypto, alice.blocks[4]!), balance: 105 })
    expect(summary.debits).toEqual([
      { sequenceNumber: 2, hash: blockHash(crypto, toBob.proposal), counterparty: bob.publicKey, amount: 10 },
      { sequenceNumber: 3, hash: blockHash(crypto, toCarol.proposal), counterparty: carol.publicKey, amount: 5 },
    ])
    expect(summary.credits).toEqual([
      { sequenceNumber: 4, hash: blockHash(crypto, fromBob.agreement), proposer: bob.publicKey, proposalSequenceNumber: 3, amount: 20 },
    ])
    expect(summary.spent).toBe(15)
  })

  it('continues incrementally to the same summary, and from a certified checkpoint as its anchor', () => {
    const { alice, bob } = aliceHistory()
    const whole = checkStretch(alice.publicKey, opening(100), alice.blocks, { crypto, registry })
    const first = checkStretch(alice.publicKey, opening(100), alice.blocks.slice(0, 2), { crypto, registry })
    if (!whole.ok || !first.ok) throw new Error('refused')
    const rest = extendStretch(stretchFrom(alice.publicKey, opening(100)), alice.blocks.slice(0, 2), { crypto, registry })
    const more = rest.ok ? extendStretch(rest.tail, alice.blocks.slice(2), { crypto, registry }) : rest
    expect(more.ok && more.tail.summary).toEqual(whole.tail.summary)
    expect(first.ok && first.tail.summary).toEqual(rest.ok && rest.tail.summary)
    // The tail seen from block 3 as a newer anchor: only block 4 on counts; from a hash it does not hold, nothing.
    const rebased = rebaseStretch(whole.tail, { sequenceNumber: 3, hash: blockHash(crypto, alice.blocks[2]!), balance: 85 })
    expect(rebased?.summary).toMatchObject({ anchor: 3, debits: [], spent: 0, credits: [{ sequenceNumber: 4 }] })
    expect(rebaseStretch(whole.tail, { sequenceNumber: 3, hash: blockHash(crypto, alice.blocks[1]!), balance: 85 })).toBeUndefined()
    expect(rebaseStretch(whole.tail, { sequenceNumber: 9, hash: ZERO_HASH, balance: 0 })).toBeUndefined()
    // After the checkpoint at 5: only what follows it counts.
    const checkpoint = alice.blocks[4]!
    const later = alice.pay(bob, 30, 4_000)
    const anchored = checkStretch(alice.publicKey, { sequenceNumber: 5, hash: blockHash(crypto, checkpoint), balance: 105 }, [later.proposal], {
      crypto,
      registry,
    })
    expect(anchored.ok && anchored.tail.summary).toMatchObject({ anchor: 5, spent: 30, head: { sequenceNumber: 6, balance: 75 } })
  })

  it('refuses a stretch that does not continue its anchor, withholds a block or states a false balance', () => {
    const { alice, bob } = aliceHistory()
    const wrongAnchor = checkStretch(
      alice.publicKey,
      { sequenceNumber: 5, hash: new Uint8Array(32).fill(1), balance: 105 },
      [alice.pay(bob, 1, 4_000).proposal],
      {
        crypto,
        registry,
      },
    )
    expect(!wrongAnchor.ok && wrongAnchor.reasons).toEqual(['previous-hash-mismatch'])
    // Block 3 withheld: 4 does not follow 2.
    const withheld = checkStretch(alice.publicKey, opening(100), [...alice.blocks.slice(0, 2), ...alice.blocks.slice(3)], { crypto, registry })
    expect(!withheld.ok && withheld.index).toBe(2)
    // A proposal that claims more balance than the chain has left.
    const liar = new TestChain(crypto, keyPairOf(crypto, 7))
    liar.genesis(10)
    const forged = signBlock(crypto, liar.keyPair, {
      publicKey: liar.publicKey,
      sequenceNumber: 2,
      linkPublicKey: bob.publicKey,
      linkSequenceNumber: 0,
      previousHash: liar.head.hash,
      timestamp: 2_000,
      type: 'tx',
      payload: { kind: 'transfer', amount: 5, balance: 1_000 },
    })
    const lie = checkStretch(liar.publicKey, opening(10), [...liar.blocks, forged], { crypto, registry })
    expect(!lie.ok && lie.reasons).toEqual(['balance-mismatch'])
    // An opening balance other than the anchor's.
    const inflated = checkStretch(liar.publicKey, opening(5), liar.blocks, { crypto, registry })
    expect(!inflated.ok && inflated.reasons).toEqual(['balance-mismatch'])
  })

  it('checks every signature, none, or the verdicts it is given', () => {
    const { alice } = aliceHistory()
    const bad = { ...alice.blocks[1]!, signature: new Uint8Array(64).fill(3) } as HalfBlock
    const blocks = [alice.blocks[0]!, bad]
    const counting = countingCrypto(crypto)
    const all = checkStretch(alice.publicKey, opening(100), blocks, { crypto: counting, registry })
    expect(!all.ok && all.reasons).toEqual(['bad-signature'])
    const verifiesSoFar = counting.verifies
    expect(checkStretch(alice.publicKey, opening(100), blocks, { crypto: counting, registry, signatures: 'none' }).ok).toBe(true)
    expect(counting.verifies).toBe(verifiesSoFar)
    const given = checkStretch(alice.publicKey, opening(100), blocks, { crypto, registry, signatures: [true, false] })
    expect(!given.ok && given.index).toBe(1)
  })

  it('refuses a second answer to one proposal with a fraud proof', () => {
    const bob = new TestChain(crypto, keyPairOf(crypto, 2))
    const alice = new TestChain(crypto, keyPairOf(crypto, 1))
    alice.genesis(100)
    bob.genesis(0)
    const { proposal } = alice.pay(bob, 10)
    // Bob answers the same proposal again further down his chain.
    const again = bob.append(
      signBlock(crypto, bob.keyPair, {
        publicKey: bob.publicKey,
        sequenceNumber: 3,
        linkPublicKey: alice.publicKey,
        linkSequenceNumber: proposal.sequenceNumber,
        previousHash: bob.head.hash,
        timestamp: 2_500,
        type: 'tx',
        payload: { kind: 'transfer', amount: 10, balance: 20 },
      }),
    )
    const check = checkStretch(bob.publicKey, opening(0), bob.blocks, { crypto, registry })
    expect(!check.ok && check.index).toBe(2)
    expect(!check.ok && check.reasons).toContain('double-countersign')
    expect(!check.ok && check.fraudProof?.kind).toBe('double-countersign')
    expect(toHex(blockHash(crypto, again))).not.toBe(toHex(blockHash(crypto, bob.blocks[1]!)))
  })
})

describe('refusals and voids', () => {
  it('a void returns a refused proposal’s amount, in a stretch and in the ledger', async () => {
    const alice = new TestChain(crypto, keyPairOf(crypto, 1))
    const bob = new TestChain(crypto, keyPairOf(crypto, 2))
    alice.genesis(100)
    const proposal = alice.append(
      createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload: transferPayload(alice.head, 40), timestamp: 2_000 }),
    )
    const refusal = signRefusal(crypto, bob.keyPair, proposal)
    expect(checkRefusal(crypto, { hash: blockHash(crypto, proposal), counterparty: bob.publicKey }, refusal)).toBe(true)
    expect(checkRefusal(crypto, { hash: blockHash(crypto, proposal), counterparty: alice.publicKey }, refusal)).toBe(false)
    const voided = alice.append(createVoid(alice.author, alice.head, proposal, { refusal, timestamp: 2_100 }))
    expect(voided).toMatchObject({ type: 'void', linkPublicKey: alice.publicKey, linkSequenceNumber: 2, payload: { amount: 40, balance: 100 } })
    const check = checkStretch(alice.publicKey, opening(100), alice.blocks, { crypto, registry })
    expect(check.ok && check.tail.summary).toMatchObject({
      spent: 40,
      voids: [{ sequenceNumber: 3, proposalSequenceNumber: 2, amount: 40 }],
      head: { balance: 100 },
    })
    const store = createMemoryBlockStore({ crypto })
    const outcomes = await createLedger({ crypto, store }).ingest(alice.blocks)
    expect(outcomes.map((o) => o.status)).toEqual(['stored', 'stored', 'stored'])
  })

  it('refuses a void without the counterparty’s refusal, a second void, and an agreement to a voided proposal', async () => {
    const alice = new TestChain(crypto, keyPairOf(crypto, 1))
    const bob = new TestChain(crypto, keyPairOf(crypto, 2))
    alice.genesis(100)
    bob.genesis(0)
    const proposal = alice.append(
      createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload: transferPayload(alice.head, 40), timestamp: 2_000 }),
    )
    expect(() =>
      createVoid(alice.author, alice.head, proposal, {
        refusal: signRefusal(crypto, alice.keyPair, { ...proposal, linkPublicKey: alice.publicKey }),
        timestamp: 2_100,
      }),
    ).toThrow(/refusal/)
    // Forged refusal: signed by alice herself.
    const forged = signBlock(crypto, alice.keyPair, {
      publicKey: alice.publicKey,
      sequenceNumber: 3,
      linkPublicKey: alice.publicKey,
      linkSequenceNumber: 2,
      previousHash: alice.head.hash,
      timestamp: 2_100,
      type: 'void',
      payload: { amount: 40, balance: 100, refusal: crypto.sign(new Uint8Array(32), alice.keyPair) },
    })
    const bad = checkStretch(alice.publicKey, opening(100), [...alice.blocks, forged], { crypto, registry })
    expect(!bad.ok && bad.reasons).toEqual(['bad-refusal'])
    const refusal = signRefusal(crypto, bob.keyPair, proposal)
    alice.append(createVoid(alice.author, alice.head, proposal, { refusal, timestamp: 2_100 }))
    const twice = createVoid(alice.author, alice.head, proposal, { refusal, timestamp: 2_200 })
    const again = checkStretch(alice.publicKey, opening(100), [...alice.blocks, twice], { crypto, registry })
    expect(!again.ok && again.reasons).toContain('double-void')
    // Bob agrees after refusing: any ledger holding the void refuses his agreement.
    const store = createMemoryBlockStore({ crypto })
    const ledger = createLedger({ crypto, store })
    await ledger.ingest([...alice.blocks, ...bob.blocks])
    const agreement = bob.append(
      signBlock(crypto, bob.keyPair, {
        publicKey: bob.publicKey,
        sequenceNumber: 2,
        linkPublicKey: alice.publicKey,
        linkSequenceNumber: 2,
        previousHash: bob.head.hash,
        timestamp: 2_300,
        type: 'tx',
        payload: { kind: 'transfer', amount: 40, balance: 40 },
      }),
    )
    const [outcome] = await ledger.ingest([agreement])
    expect(outcome?.status === 'rejected' && outcome.error.detail.reasons).toEqual(['proposal-voided'])
  })
})
