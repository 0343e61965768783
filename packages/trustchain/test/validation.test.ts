import type { CborValue, Crypto } from '@constellation/crypto'
import fc from 'fast-check'
import * as t from 'io-ts'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  createAgreement,
  createCheckpoint,
  createProposal,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
  NO_LINK,
  PayloadRegistry,
  signBlock,
  type UnsignedHalfBlock,
  type ValidationContext,
  ValidationLevel,
  ValidationReason,
  validateBlock,
  verifyFraudProof,
  ZERO_HASH,
} from '../src/index.js'
import { keyPairOf, propertyOptions, TestChain, testCrypto, twoPartyHistory } from './helpers.js'

let crypto: Crypto
const registry = new PayloadRegistry()
const none: ValidationContext = {
  existing: undefined,
  previous: undefined,
  next: undefined,
  chainKnown: false,
  linkedProposal: undefined,
  agreements: [],
  previousBalance: undefined,
}

beforeAll(async () => {
  crypto = await testCrypto()
})

const history = () => twoPartyHistory(crypto)

const resign = (author: TestChain, block: HalfBlock, change: Partial<UnsignedHalfBlock>): HalfBlock => {
  const { signature: _s, ...unsigned } = block
  return signBlock(crypto, author.keyPair, { ...unsigned, ...change })
}

describe('levels', () => {
  it('valid, partial-next, partial-previous, partial and no-info by what is known around the block', () => {
    const { alice, first } = history()
    const [genesis, proposal, agreement] = alice.blocks as [HalfBlock, HalfBlock, HalfBlock]
    expect(validateBlock(crypto, registry, genesis, { ...none, next: proposal, chainKnown: true }).level).toBe(ValidationLevel.VALID)
    expect(validateBlock(crypto, registry, genesis, none).level).toBe(ValidationLevel.PARTIAL_NEXT)
    const ctx = { ...none, previousBalance: 100, agreements: [first.agreement] }
    expect(validateBlock(crypto, registry, proposal, { ...ctx, previous: genesis, next: agreement, chainKnown: true }).level).toBe(ValidationLevel.VALID)
    expect(validateBlock(crypto, registry, proposal, { ...ctx, next: agreement, chainKnown: true }).level).toBe(ValidationLevel.PARTIAL_PREVIOUS)
    expect(validateBlock(crypto, registry, proposal, { ...ctx, chainKnown: true }).level).toBe(ValidationLevel.PARTIAL)
    const unknown = validateBlock(crypto, registry, proposal, { ...none })
    expect(unknown.level).toBe(ValidationLevel.NO_INFO)
    expect(unknown.reasons).toEqual([ValidationReason.PREVIOUS_UNKNOWN, ValidationReason.NEXT_UNKNOWN, ValidationReason.BALANCE_UNCHECKED])
  })
})

describe('invariants', () => {
  it('a wrong signature, self-link, missing link, misplaced genesis and bad first previousHash are invalid', () => {
    const { alice, bob, first } = history()
    const forged = { ...first.proposal, signature: bob.blocks[0]!.signature }
    const cases: [HalfBlock, ValidationReason][] = [
      [Object.freeze(forged), ValidationReason.BAD_SIGNATURE],
      [resign(alice, first.proposal, { linkPublicKey: alice.publicKey }), ValidationReason.SELF_LINK],
      [resign(alice, first.proposal, { linkPublicKey: NO_LINK }), ValidationReason.BAD_LINK],
      [resign(alice, alice.blocks[0]!, { linkPublicKey: bob.publicKey }), ValidationReason.BAD_LINK],
      [resign(alice, alice.blocks[0]!, { sequenceNumber: 3, previousHash: blockHash(crypto, first.proposal) }), ValidationReason.GENESIS_NOT_FIRST],
      [resign(alice, alice.blocks[0]!, { previousHash: new Uint8Array(32).fill(1) }), ValidationReason.FIRST_PREVIOUS_HASH_NOT_ZERO],
      [resign(alice, alice.blocks[0]!, { payload: { balance: -1 } }), ValidationReason.BAD_PAYLOAD],
      [resign(alice, first.proposal, { payload: { kind: 'transfer', amount: 0, balance: 90 } }), ValidationReason.BAD_PAYLOAD],
      [resign(alice, first.proposal, { payload: 'just a string' }), ValidationReason.BAD_PAYLOAD],
    ]
    for (const [block, reason] of cases) {
      const result = validateBlock(crypto, registry, block, { ...none, previousBalance: 100 })
      expect(result.level, reason).toBe(ValidationLevel.INVALID)
      expect(result.reasons, reason).toContain(reason)
    }
  })

  it('checkpoints must commit to their own chain head; the future is refused only when a clock is given', () => {
    const { alice } = history()
    const good = createCheckpoint(alice.author, alice.head, { consensusResultHash: new Uint8Array(32).fill(7), round: 3, timestamp: 9_000 })
    expect(validateBlock(crypto, registry, good, { ...none, previous: alice.blocks.at(-1) }).level).toBe(ValidationLevel.PARTIAL_NEXT)
    const lying = resign(alice, good, { payload: { ...(good.payload as Record<string, CborValue>), headSequenceNumber: 1 } })
    expect(validateBlock(crypto, registry, lying, none).reasons).toContain(ValidationReason.BAD_CHECKPOINT_HEAD)
    expect(validateBlock(crypto, registry, good, none, { now: 1_000, maxClockSkewMs: 5_000 }).reasons).toContain(ValidationReason.TIMESTAMP_IN_FUTURE)
    expect(validateBlock(crypto, registry, good, none, { now: 4_000, maxClockSkewMs: 5_000 }).level).not.toBe(ValidationLevel.INVALID)
  })

  it('registered payload kinds are checked by their codec; unknown kinds pass as opaque data', () => {
    const { alice, bob } = history()
    const note = (payload: CborValue) => createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload, timestamp: 9_000 })
    const strict = new PayloadRegistry().register({ kind: 'note', codec: t.type({ kind: t.literal('note'), text: t.string }) })
    expect(validateBlock(crypto, strict, note({ kind: 'note', text: 'hi' }), none).level).not.toBe(ValidationLevel.INVALID)
    expect(validateBlock(crypto, strict, note({ kind: 'note', text: 3 }), none).reasons).toContain(ValidationReason.BAD_PAYLOAD)
    expect(validateBlock(crypto, registry, note({ kind: 'note', text: 3 }), none).level).not.toBe(ValidationLevel.INVALID)
  })
})

describe('consistency', () => {
  it('double sign: another block at the same position is invalid and yields a verifiable fraud proof', () => {
    const { alice, first } = history()
    const fork = resign(alice, first.proposal, { payload: { kind: 'transfer', amount: 1, balance: 99 } })
    const result = validateBlock(crypto, registry, fork, { ...none, existing: first.proposal, previous: alice.blocks[0], previousBalance: 100 })
    expect(result.level).toBe(ValidationLevel.INVALID)
    expect(result.reasons).toContain(ValidationReason.DOUBLE_SIGN)
    expect(result.fraudProof?.kind).toBe('double-sign')
    expect(verifyFraudProof(crypto, result.fraudProof!)).toBe(true)
    // The same block again is not fraud.
    expect(validateBlock(crypto, registry, first.proposal, { ...none, existing: first.proposal, previous: alice.blocks[0], previousBalance: 100 }).level).toBe(
      ValidationLevel.PARTIAL_NEXT,
    )
  })

  it('double countersign: a second agreement to one proposal is invalid and yields a fraud proof', () => {
    const { bob, first } = history()
    const again = createAgreement(bob.author, bob.head, first.proposal, { timestamp: 9_000 })
    const result = validateBlock(crypto, registry, again, {
      ...none,
      linkedProposal: first.proposal,
      agreements: [first.agreement],
      previousBalance: bob.head.balance,
    })
    expect(result.reasons).toContain(ValidationReason.DOUBLE_COUNTERSIGN)
    expect(result.fraudProof?.kind).toBe('double-countersign')
    expect(verifyFraudProof(crypto, result.fraudProof!)).toBe(true)
  })

  it('link consistency: an agreement must answer a proposal addressed to its author, for the same amount', () => {
    const { alice, bob, first } = history()
    const carol = new TestChain(crypto, keyPairOf(crypto, 3))
    const wrongAmount = resign(bob, first.agreement, { payload: { kind: 'transfer', amount: 11, balance: 61 } })
    expect(validateBlock(crypto, registry, wrongAmount, { ...none, linkedProposal: first.proposal, previousBalance: 50 }).reasons).toContain(
      ValidationReason.LINK_MISMATCH,
    )
    const notAddressed = createAgreement(carol.author, EMPTY_CHAIN_HEAD, first.proposal, { timestamp: 9_000 })
    expect(validateBlock(crypto, registry, notAddressed, { ...none, linkedProposal: first.proposal, previousBalance: 0 }).reasons).toContain(
      ValidationReason.LINK_MISMATCH,
    )
    const toAnAgreement = resign(alice, first.agreement, { publicKey: alice.publicKey, linkPublicKey: bob.publicKey })
    expect(validateBlock(crypto, registry, toAnAgreement, { ...none, linkedProposal: first.agreement }).level).toBe(ValidationLevel.INVALID)
    // A proposal whose counterparty's stored agreement disagrees with it is refused too.
    expect(validateBlock(crypto, registry, first.proposal, { ...none, agreements: [wrongAmount], previousBalance: 100 }).reasons).toContain(
      ValidationReason.LINK_MISMATCH,
    )
  })

  it("link consistency: an agreement must repeat its proposal's payload, so it cannot be shown beside a fork", () => {
    const alice = new TestChain(crypto, keyPairOf(crypto, 1))
    const bob = new TestChain(crypto, keyPairOf(crypto, 2))
    alice.genesis(100)
    bob.genesis(0)
    const small = createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload: { kind: 'deed', house: 'small' }, timestamp: 2_000 })
    const castle = createProposal(alice.author, alice.head, { counterparty: bob.publicKey, payload: { kind: 'deed', house: 'castle' }, timestamp: 2_000 })
    const toSmall = createAgreement(bob.author, bob.head, small, { timestamp: 3_000 })
    expect(validateBlock(crypto, registry, toSmall, { ...none, linkedProposal: small }).reasons).not.toContain(ValidationReason.LINK_MISMATCH)
    expect(validateBlock(crypto, registry, toSmall, { ...none, linkedProposal: castle }).reasons).toContain(ValidationReason.LINK_MISMATCH)
    expect(validateBlock(crypto, registry, castle, { ...none, agreements: [toSmall] }).reasons).toContain(ValidationReason.LINK_MISMATCH)
    // A transfer answered by something that is not a transfer (and the other way round) does not match either.
    const pay = createProposal(alice.author, alice.head, {
      counterparty: bob.publicKey,
      payload: { kind: 'transfer', amount: 5, balance: 95 },
      timestamp: 2_000,
    })
    const noteToPay = resign(bob, toSmall, { linkSequenceNumber: pay.sequenceNumber })
    expect(validateBlock(crypto, registry, noteToPay, { ...none, linkedProposal: pay }).reasons).toContain(ValidationReason.LINK_MISMATCH)
    const payToSmall = createAgreement(bob.author, bob.head, pay, { timestamp: 3_000 })
    expect(validateBlock(crypto, registry, payToSmall, { ...none, linkedProposal: small, previousBalance: 0 }).reasons).toContain(
      ValidationReason.LINK_MISMATCH,
    )
  })

  it('chain consistency: previousHash and timestamps must fit the neighbours', () => {
    const { alice } = history()
    const [genesis, proposal, agreement] = alice.blocks as [HalfBlock, HalfBlock, HalfBlock]
    const otherGenesis = resign(alice, genesis, { timestamp: 1_001 })
    expect(validateBlock(crypto, registry, proposal, { ...none, previous: otherGenesis, previousBalance: 100 }).reasons).toContain(
      ValidationReason.PREVIOUS_HASH_MISMATCH,
    )
    const otherNext = resign(alice, agreement, { previousHash: ZERO_HASH })
    expect(validateBlock(crypto, registry, proposal, { ...none, previous: genesis, next: otherNext, previousBalance: 100 }).reasons).toContain(
      ValidationReason.NEXT_HASH_MISMATCH,
    )
    const early = resign(alice, proposal, { timestamp: 10 })
    expect(validateBlock(crypto, registry, early, { ...none, previous: genesis, previousBalance: 100 }).reasons).toContain(
      ValidationReason.TIMESTAMP_BEFORE_PREVIOUS,
    )
    const late = resign(alice, genesis, { timestamp: 50_000 })
    expect(validateBlock(crypto, registry, late, { ...none, next: proposal }).reasons).toContain(ValidationReason.TIMESTAMP_AFTER_NEXT)
  })

  it('balance rules: the proposer pays, the counterparty receives, nobody goes below zero', () => {
    const { first } = history()
    expect(validateBlock(crypto, registry, first.proposal, { ...none, previousBalance: 100 }).reasons).not.toContain(ValidationReason.BALANCE_MISMATCH)
    expect(validateBlock(crypto, registry, first.proposal, { ...none, previousBalance: 99 }).reasons).toContain(ValidationReason.BALANCE_MISMATCH)
    expect(validateBlock(crypto, registry, first.proposal, { ...none, previousBalance: 5 }).reasons).toContain(ValidationReason.INSUFFICIENT_BALANCE)
    expect(validateBlock(crypto, registry, first.agreement, { ...none, linkedProposal: first.proposal, previousBalance: 50 }).level).not.toBe(
      ValidationLevel.INVALID,
    )
    expect(validateBlock(crypto, registry, first.agreement, { ...none, linkedProposal: first.proposal, previousBalance: 49 }).reasons).toContain(
      ValidationReason.BALANCE_MISMATCH,
    )
  })
})

describe('fuzz', () => {
  it('the validator never throws and never accepts a block whose bytes were altered after signing', () => {
    const { alice, bob } = history()
    const blocks = [...alice.blocks, ...bob.blocks]
    const pick = fc.option(fc.constantFrom(...blocks), { nil: undefined })
    const context = fc.record({
      existing: pick,
      previous: pick,
      next: pick,
      chainKnown: fc.boolean(),
      linkedProposal: pick,
      agreements: fc.array(fc.constantFrom(...blocks), { maxLength: 3 }),
      previousBalance: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
    })
    const tamper = fc.record({
      block: fc.constantFrom(...blocks),
      field: fc.constantFrom<string>('sequenceNumber', 'linkSequenceNumber', 'timestamp', 'payload', 'previousHash', 'linkPublicKey'),
      value: fc.integer({ min: 1, max: 1000 }),
    })
    fc.assert(
      fc.property(fc.constantFrom(...blocks), context, tamper, fc.boolean(), (block, ctx, change, tampered) => {
        let subject = block
        if (tampered) {
          const changed: Record<string, unknown> = { ...change.block }
          const original = changed[change.field]
          changed[change.field] =
            typeof original === 'number'
              ? original + change.value
              : original instanceof Uint8Array
                ? Uint8Array.from(original, (b, i) => (i === 0 ? b ^ 1 : b))
                : { kind: 'transfer', amount: change.value, balance: 0 }
          subject = Object.freeze(changed) as unknown as HalfBlock
        }
        const result = validateBlock(crypto, registry, subject, ctx)
        if (tampered) expect(result.level).toBe(ValidationLevel.INVALID)
        expect(Object.values(ValidationLevel)).toContain(result.level)
      }),
      propertyOptions(600),
    )
  })
})
