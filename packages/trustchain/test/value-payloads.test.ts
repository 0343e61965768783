/**
 * Payloads of other kinds carrying value through a `value: { amount, balance }` field: they move balances exactly
 * like transfers (heads, stored heads, ledger validation, the engine's propose check), their agreements must carry
 * the same amount and otherwise repeat the proposal, and a malformed `value` is refused everywhere.
 */
import type { CborValue, Crypto } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { agreementPayload } from '../src/block/block-builder.js'
import {
  createAgreement,
  createLedger,
  createMemoryBlockStore,
  createProposal,
  DEFAULT_RETRY_POLICY,
  type HalfBlock,
  type IngestOutcome,
  isTrustChainError,
  PayloadRegistry,
  readChainHead,
  signBlock,
  transferOf,
  TrustChainErrorCode,
  ValidationReason,
  withValue,
} from '../src/index.js'
import { type EngineConfig, initialEngineState, step } from '../src/engine.js'
import { keyPairOf, TestChain, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const order = { kind: 'order', item: 'coffee' } as const

function parties() {
  const alice = new TestChain(crypto, keyPairOf(crypto, 1))
  const bob = new TestChain(crypto, keyPairOf(crypto, 2))
  alice.genesis(100)
  bob.genesis(50)
  return { alice, bob }
}

/** A tx block of `chain` at its next position with a hand-written payload (signed, but not built by the builders). */
function handWritten(chain: TestChain, payload: CborValue, link: { publicKey: Uint8Array; sequenceNumber: number }): HalfBlock {
  return signBlock(crypto, chain.keyPair, {
    publicKey: chain.publicKey,
    sequenceNumber: chain.head.sequenceNumber + 1,
    linkPublicKey: link.publicKey,
    linkSequenceNumber: link.sequenceNumber,
    previousHash: chain.head.hash,
    timestamp: 2_000,
    type: 'tx',
    payload,
  })
}

const reasonsOf = (outcome: IngestOutcome | undefined) => (outcome?.status === 'rejected' ? outcome.error.detail.reasons : undefined)

describe('value-carrying payloads', () => {
  it('a proposal/agreement pair moves both balances: heads, stored heads and the ledger agree', async () => {
    const { alice, bob } = parties()
    const payload = withValue(alice.head, order, 30)
    expect(payload).toEqual({ kind: 'order', item: 'coffee', value: { amount: 30, balance: 70 } })
    const proposal = alice.append(createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload, timestamp: 2_000 }))
    expect(agreementPayload(bob.head, proposal)).toEqual({ kind: 'order', item: 'coffee', value: { amount: 30, balance: 80 } })
    const agreement = bob.append(createAgreement(bob.author, bob.head, proposal, { timestamp: 2_000 }))
    expect(transferOf(agreement.type, agreement.payload)).toEqual({ kind: 'order', amount: 30, balance: 80 })
    expect([alice.head.balance, bob.head.balance]).toEqual([70, 80])

    const store = createMemoryBlockStore({ crypto })
    const ledger = createLedger({ crypto, store })
    const outcomes = await ledger.ingest([...alice.blocks, ...bob.blocks])
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['stored', 'stored', 'stored', 'stored'])
    expect((await readChainHead(crypto, store, alice.publicKey)).balance).toBe(70)
    expect((await readChainHead(crypto, store, bob.publicKey)).balance).toBe(80)
  })

  it('an overdraft is refused by withValue and, written by hand, by the ledger', async () => {
    const { alice, bob } = parties()
    let caught: unknown
    try {
      withValue(alice.head, order, 101)
    } catch (error) {
      caught = error
    }
    expect(isTrustChainError(caught) && caught.code).toBe(TrustChainErrorCode.INVALID_INPUT)

    const ledger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }) })
    await ledger.ingest([...alice.blocks, ...bob.blocks])
    const overdraft = handWritten(alice, { ...order, value: { amount: 101, balance: 0 } }, { publicKey: bob.publicKey, sequenceNumber: 0 })
    expect(reasonsOf((await ledger.ingest([overdraft]))[0])).toContain(ValidationReason.INSUFFICIENT_BALANCE)
    const misstated = handWritten(alice, { ...order, value: { amount: 10, balance: 95 } }, { publicKey: bob.publicKey, sequenceNumber: 0 })
    expect(reasonsOf((await ledger.ingest([misstated]))[0])).toContain(ValidationReason.BALANCE_MISMATCH)
  })

  it('an agreement with another amount, other fields or a wrong own balance is refused', async () => {
    const { alice, bob } = parties()
    const proposal = alice.append(
      createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload: withValue(alice.head, order, 30), timestamp: 2_000 }),
    )
    const ledger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }) })
    await ledger.ingest([...alice.blocks, ...bob.blocks.slice(0, 1)])
    const link = { publicKey: alice.publicKey, sequenceNumber: proposal.sequenceNumber }
    const otherAmount = handWritten(bob, { ...order, value: { amount: 31, balance: 81 } }, link)
    expect(reasonsOf((await ledger.ingest([otherAmount]))[0])).toContain(ValidationReason.LINK_MISMATCH)
    const otherItem = handWritten(bob, { kind: 'order', item: 'tea', value: { amount: 30, balance: 80 } }, link)
    expect(reasonsOf((await ledger.ingest([otherItem]))[0])).toContain(ValidationReason.LINK_MISMATCH)
    const otherKind = handWritten(bob, { kind: 'transfer', amount: 30, balance: 80 }, link)
    expect(reasonsOf((await ledger.ingest([otherKind]))[0])).toContain(ValidationReason.LINK_MISMATCH)
    const noValue = handWritten(bob, order, link)
    expect(reasonsOf((await ledger.ingest([noValue]))[0])).toContain(ValidationReason.LINK_MISMATCH)
    const minted = handWritten(bob, { ...order, value: { amount: 30, balance: 1_000 } }, link)
    expect(reasonsOf((await ledger.ingest([minted]))[0])).toContain(ValidationReason.BALANCE_MISMATCH)
    const honest = handWritten(bob, { ...order, value: { amount: 30, balance: 80 } }, link)
    expect((await ledger.ingest([honest]))[0]?.status).toBe('stored')
  })

  it('a malformed `value` moves nothing and is refused as a bad payload, known kind or not', async () => {
    const malformed: CborValue[] = [
      { amount: 0, balance: 10 },
      { amount: 10, balance: -1 },
      { amount: 1.5, balance: 10 },
      { amount: 10 },
      { amount: 10, balance: 90, note: 'extra' },
      10,
      null,
    ]
    const registry = new PayloadRegistry()
    for (const value of malformed) {
      const payload = { ...order, value }
      expect(transferOf('tx', payload)).toBeUndefined()
      expect(registry.check('tx', payload).ok).toBe(false)
    }
    // A transfer's own shape is unchanged: a `value` inside it is an unknown field of a closed record.
    expect(transferOf('tx', { kind: 'transfer', amount: 1, balance: 9, value: { amount: 1, balance: 9 } })).toBeUndefined()

    const { alice, bob } = parties()
    const ledger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }) })
    await ledger.ingest([...alice.blocks, ...bob.blocks])
    const bad = handWritten(alice, { ...order, value: { amount: 10, balance: 90, note: 'extra' } }, { publicKey: bob.publicKey, sequenceNumber: 0 })
    expect(reasonsOf((await ledger.ingest([bad]))[0])).toContain(ValidationReason.BAD_PAYLOAD)
  })

  it("the engine's propose check holds a hand-written value to the chain's balance", () => {
    const config: EngineConfig = { crypto, keyPair: keyPairOf(crypto, 1), retry: DEFAULT_RETRY_POLICY, maxCrawlBlocks: 50 }
    const state = initialEngineState({ publicKey: config.keyPair.publicKey, head: { ...parties().alice.head }, seed: 7 })
    const counterparty = keyPairOf(crypto, 2).publicKey
    const propose = (payload: CborValue) => step(config, state, { type: 'propose', now: 10, requestId: 1, counterparty, content: { payload } })
    const wrong = propose({ ...order, value: { amount: 10, balance: 100 } })
    const settled = wrong.effects[0]
    expect(settled?.type === 'settle' && !settled.settlement.ok && settled.settlement.error.code).toBe(TrustChainErrorCode.INVALID_INPUT)
    expect(wrong.state).toBe(state)
    const right = propose(withValue(state.head, order, 10))
    expect(right.effects[0]?.type).toBe('ingest')
  })
})
