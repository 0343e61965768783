import { type Crypto, toHex } from '@constellation/crypto'
import { signRefusal, type StretchSummary, createProposal, EMPTY_CHAIN_HEAD, blockHash } from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import { finalisedLeaf, type TransferLedger } from '../../src/index.js'
import { applyLedgerDelta, AWAITING_ROUNDS, FOREIGN_AWAITING_ROUNDS, genesisLedger, settleLedger } from '../../src/round.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const key = (n: number) => new Uint8Array(32).fill(n)
const hash = (n: number) => new Uint8Array(32).fill(100 + n)
const A = toHex(key(1))
const B = toHex(key(2))
const C = toHex(key(3))

/** A summary of `member`'s stretch with the given debits, credits and voids (positions and hashes made up). */
function stretch(member: number, parts: Partial<Pick<StretchSummary, 'debits' | 'credits' | 'voids'>>): { member: string; summary: StretchSummary } {
  const debits = parts.debits ?? []
  return {
    member: toHex(key(member)),
    summary: {
      publicKey: key(member),
      anchor: 0,
      head: { sequenceNumber: 99, hash: hash(99), balance: 0 },
      debits,
      credits: parts.credits ?? [],
      voids: parts.voids ?? [],
      spent: debits.reduce((sum, debit) => sum + debit.amount, 0),
    },
  }
}

/** Settles one round and applies its delta, as a follower does: the ledger after it, the leaves, the delta. */
function round(ledger: TransferLedger, number: number, stretches: ReturnType<typeof stretch>[], certified: Record<string, number> = {}) {
  const settled = settleLedger({ crypto, ledger, round: number, certifiedThrough: (member) => certified[member] ?? 0, stretches })
  return { ...settled, ledger: applyLedgerDelta(ledger, settled.delta, number) }
}

describe('settleLedger', () => {
  it('a transfer whose halves are certified in one round is final: it leaves the payer and reaches the payee', () => {
    const start = genesisLedger(new Map([[A, 100]]))
    const { ledger, leaves, delta } = round(start, 1, [
      stretch(1, { debits: [{ sequenceNumber: 2, hash: hash(1), counterparty: key(2), amount: 30 }] }),
      stretch(2, { credits: [{ sequenceNumber: 1, hash: hash(2), proposer: key(1), proposalSequenceNumber: 2, amount: 30 }] }),
    ])
    expect(leaves).toEqual([finalisedLeaf(hash(1), hash(2))])
    expect(delta).toMatchObject({
      opened: [],
      awaiting: [],
      closed: [],
      finalisedCount: 1,
      spendable: [
        { member: A, amount: 70 },
        { member: B, amount: 30 },
      ].sort((x, y) => (x.member < y.member ? -1 : 1)),
    })
    expect(ledger.spendable.get(A)).toBe(70)
    expect(ledger.spendable.get(B)).toBe(30)
    expect(ledger.open.size + ledger.awaiting.size).toBe(0)
  })

  it('halves certified in different rounds wait for each other, in either order', () => {
    const start = genesisLedger(new Map([[A, 100]]))
    // The proposal first: it waits, the payer has paid, the payee has nothing yet.
    const first = round(start, 1, [stretch(1, { debits: [{ sequenceNumber: 2, hash: hash(1), counterparty: key(2), amount: 30 }] })])
    expect(first.ledger.open.size).toBe(1)
    expect(first.ledger.spendable.get(B)).toBeUndefined()
    const second = round(
      first.ledger,
      2,
      [stretch(2, { credits: [{ sequenceNumber: 1, hash: hash(2), proposer: key(1), proposalSequenceNumber: 2, amount: 30 }] })],
      { [A]: 3 },
    )
    expect(second.leaves).toHaveLength(1)
    expect(second.ledger.spendable.get(B)).toBe(30)
    expect(second.ledger.open.size).toBe(0)
    // The agreement first: it waits for the proposal, and credits nothing until then.
    const early = round(start, 1, [stretch(2, { credits: [{ sequenceNumber: 1, hash: hash(2), proposer: key(1), proposalSequenceNumber: 2, amount: 30 }] })])
    expect(early.ledger.awaiting.size).toBe(1)
    expect(early.ledger.spendable.get(B)).toBeUndefined()
    const late = round(early.ledger, 2, [stretch(1, { debits: [{ sequenceNumber: 2, hash: hash(1), counterparty: key(2), amount: 30 }] })])
    expect(late.leaves).toEqual([finalisedLeaf(hash(1), hash(2))])
    expect(late.ledger.spendable.get(B)).toBe(30)
    expect(late.ledger.awaiting.size).toBe(0)
  })

  it('an agreement to a fork credits nothing: the certified proposal at that position went elsewhere', () => {
    const start = genesisLedger(new Map([[A, 100]]))
    // C agreed to a proposal of A at position 2 that A's certified chain does not hold: it holds one to B.
    const early = round(start, 1, [stretch(3, { credits: [{ sequenceNumber: 1, hash: hash(3), proposer: key(1), proposalSequenceNumber: 2, amount: 100 }] })])
    const settled = round(early.ledger, 2, [
      stretch(1, { debits: [{ sequenceNumber: 2, hash: hash(1), counterparty: key(2), amount: 100 }] }),
      stretch(2, { credits: [{ sequenceNumber: 1, hash: hash(2), proposer: key(1), proposalSequenceNumber: 2, amount: 100 }] }),
    ])
    expect(settled.leaves).toEqual([finalisedLeaf(hash(1), hash(2))])
    expect(settled.ledger.spendable.get(B)).toBe(100)
    expect(settled.ledger.spendable.get(C)).toBeUndefined()
    // And an agreement to a position already certified and settled credits nothing either.
    const after = round(
      settled.ledger,
      3,
      [stretch(3, { credits: [{ sequenceNumber: 2, hash: hash(4), proposer: key(1), proposalSequenceNumber: 2, amount: 100 }] })],
      { [A]: 3 },
    )
    expect(after.leaves).toEqual([])
    expect(after.ledger.awaiting.size).toBe(0)
  })

  it('a void with the counterparty’s refusal returns an open proposal’s amount; without one it does nothing; an agreement in the same round wins', () => {
    const alice = crypto.keyPairFromSeed(key(1))
    const bob = crypto.keyPairFromSeed(key(2))
    const a = toHex(alice.publicKey)
    const proposal = createProposal(
      { crypto, keyPair: alice },
      { ...EMPTY_CHAIN_HEAD, sequenceNumber: 1, balance: 100 },
      {
        counterparty: bob.publicKey,
        payload: { kind: 'transfer', amount: 40, balance: 60 },
        timestamp: 1,
      },
    )
    const refusal = signRefusal(crypto, bob, proposal)
    const debit = { sequenceNumber: proposal.sequenceNumber, hash: blockHash(crypto, proposal), counterparty: bob.publicKey, amount: 40 }
    const start = genesisLedger(new Map([[a, 100]]))
    const asMember = (summary: ReturnType<typeof stretch>) => ({ member: a, summary: { ...summary.summary, publicKey: alice.publicKey } })
    const opened = round(start, 1, [asMember(stretch(1, { debits: [debit] }))])
    expect(opened.ledger.spendable.get(a)).toBe(60)
    const forged = round(opened.ledger, 2, [
      asMember(stretch(1, { voids: [{ sequenceNumber: 3, proposalSequenceNumber: 2, amount: 40, refusal: new Uint8Array(64) }] })),
    ])
    expect(forged.ledger.spendable.get(a)).toBe(60)
    const voided = round(opened.ledger, 2, [asMember(stretch(1, { voids: [{ sequenceNumber: 3, proposalSequenceNumber: 2, amount: 40, refusal }] }))])
    expect(voided.ledger.spendable.get(a)).toBe(100)
    expect(voided.ledger.open.size).toBe(0)
    // Bob refused and agreed (a Byzantine counterparty): certified together, the agreement counts and the void does not.
    const b = toHex(bob.publicKey)
    const both = round(
      opened.ledger,
      2,
      [
        asMember(stretch(1, { voids: [{ sequenceNumber: 3, proposalSequenceNumber: 2, amount: 40, refusal }] })),
        {
          member: b,
          summary: {
            ...stretch(2, { credits: [{ sequenceNumber: 1, hash: hash(2), proposer: alice.publicKey, proposalSequenceNumber: 2, amount: 40 }] }).summary,
            publicKey: bob.publicKey,
          },
        },
      ].sort((x, y) => (x.member < y.member ? -1 : 1)),
    )
    expect(both.leaves).toHaveLength(1)
    expect(both.ledger.spendable.get(a)).toBe(60)
    expect(both.ledger.spendable.get(b)).toBe(40)
    // Once voided, a later agreement credits nothing.
    const late = round(
      voided.ledger,
      3,
      [
        {
          member: b,
          summary: {
            ...stretch(2, { credits: [{ sequenceNumber: 1, hash: hash(2), proposer: alice.publicKey, proposalSequenceNumber: 2, amount: 40 }] }).summary,
            publicKey: bob.publicKey,
          },
        },
      ],
      { [a]: 3 },
    )
    expect(late.leaves).toEqual([])
    expect(late.ledger.spendable.get(b)).toBeUndefined()
  })

  it('an agreement whose proposal never comes is dropped after the waiting window', () => {
    const start = genesisLedger(new Map())
    const waiting = round(start, 1, [stretch(3, { credits: [{ sequenceNumber: 1, hash: hash(3), proposer: key(1), proposalSequenceNumber: 9, amount: 5 }] })])
    expect(waiting.ledger.awaiting.size).toBe(1)
    expect(round(waiting.ledger, AWAITING_ROUNDS, []).ledger.awaiting.size).toBe(1)
    const expired = round(waiting.ledger, AWAITING_ROUNDS + 1, [])
    expect(expired.ledger.awaiting.size).toBe(0)
    expect(expired.delta.closed).toEqual([{ proposer: A, sequenceNumber: 9 }])
  })

  describe('across solar systems', () => {
    // Two ledgers: P (A a member, B not) and C (B a member, A not).
    const inP = (member: string) => member === A
    const inC = (member: string) => member === B
    const settle = (
      ledger: TransferLedger,
      number: number,
      stretches: ReturnType<typeof stretch>[],
      isMember: (member: string) => boolean,
      settlements: Parameters<typeof settleLedger>[0]['settlements'] = [],
    ) => {
      const settled = settleLedger({ crypto, ledger, round: number, certifiedThrough: () => 0, stretches, isMember, settlements })
      return { ...settled, ledger: applyLedgerDelta(ledger, settled.delta, number) }
    }
    const debit = { sequenceNumber: 2, hash: hash(1), counterparty: key(2), amount: 30 }
    const credit = { sequenceNumber: 5, hash: hash(2), proposer: key(1), proposalSequenceNumber: 2, amount: 30 }
    const agreed = { kind: 'agreed', proposer: A, sequenceNumber: 2, proposal: hash(1), agreement: hash(2) } as const
    const final = { ...agreed, kind: 'final' } as const

    it('the proposer’s system finalises on the agreement without crediting; the counterparty’s credits on the proof', () => {
      const p1 = settle(genesisLedger(new Map([[A, 100]])), 1, [stretch(1, { debits: [debit] })], inP)
      expect(p1.ledger.open.size).toBe(1)
      // The agreement of another proposal, or of another position, settles nothing.
      const wrong = settle(p1.ledger, 2, [], inP, [
        { ...agreed, proposal: hash(7) },
        { ...agreed, sequenceNumber: 3 },
      ])
      expect(wrong.leaves).toEqual([])
      const p2 = settle(p1.ledger, 2, [], inP, [agreed])
      expect(p2.leaves).toEqual([finalisedLeaf(hash(1), hash(2))])
      expect(p2.ledger.open.size).toBe(0)
      expect(p2.ledger.spendable.get(A)).toBe(70)
      expect(p2.ledger.spendable.has(B)).toBe(false)
      // The debit and the agreement in one round settle too.
      const together = settle(genesisLedger(new Map([[A, 100]])), 1, [stretch(1, { debits: [debit] })], inP, [agreed])
      expect(together.leaves).toEqual([finalisedLeaf(hash(1), hash(2))])
      expect(together.ledger.open.size).toBe(0)

      // In C, Bob's agreement waits for its proposal, and a `final` with another agreement hash credits nothing.
      const c1 = settle(genesisLedger(new Map()), 1, [stretch(2, { credits: [credit] })], inC)
      expect(c1.ledger.awaiting.size).toBe(1)
      expect(settle(c1.ledger, 2, [], inC, [{ ...final, agreement: hash(8) }]).leaves).toEqual([])
      const c2 = settle(c1.ledger, 2, [], inC, [final])
      expect(c2.leaves).toEqual([finalisedLeaf(hash(1), hash(2))])
      expect(c2.ledger.spendable.get(B)).toBe(30)
      expect(c2.ledger.awaiting.size).toBe(0)
      // Once credited, the same settlement again credits nothing.
      expect(settle(c2.ledger, 3, [], inC, [final]).ledger.spendable.get(B)).toBe(30)
    })

    it('a settlement for a member’s counterparty, or from a member, is not one: only the certified halves count inside a system', () => {
      // In P, with B a member too, an `agreed` cannot close A's proposal: B's own certified agreement must.
      const both = (member: string) => member === A || member === B
      const p1 = settle(genesisLedger(new Map([[A, 100]])), 1, [stretch(1, { debits: [debit] })], both)
      expect(settle(p1.ledger, 2, [], both, [agreed]).ledger.open.size).toBe(1)
      // In C, with A a member too, a `final` cannot credit B: A's certified proposal must.
      const c1 = settle(genesisLedger(new Map()), 1, [stretch(2, { credits: [credit] })], both)
      expect(settle(c1.ledger, 2, [], both, [final]).ledger.spendable.get(B)).toBeUndefined()
    })

    it('an agreement to another system’s proposal waits longer than one inside, then goes', () => {
      const c1 = settle(genesisLedger(new Map()), 1, [stretch(2, { credits: [credit] })], inC)
      expect(settle(c1.ledger, AWAITING_ROUNDS + 1, [], inC).ledger.awaiting.size).toBe(1)
      expect(settle(c1.ledger, FOREIGN_AWAITING_ROUNDS + 1, [], inC).ledger.awaiting.size).toBe(0)
    })

    it('a counterparty that agreed and refused gets what the proposer’s system settled first', () => {
      const alice = crypto.keyPairFromSeed(key(1))
      const bob = crypto.keyPairFromSeed(key(2))
      const a = toHex(alice.publicKey)
      const proposal = createProposal(
        { crypto, keyPair: alice },
        { ...EMPTY_CHAIN_HEAD, sequenceNumber: 1, balance: 100 },
        { counterparty: bob.publicKey, payload: { kind: 'transfer', amount: 30, balance: 70 }, timestamp: 1 },
      )
      const refusal = signRefusal(crypto, bob, proposal)
      const onlyAlice = (member: string) => member === a
      const realDebit = { sequenceNumber: 2, hash: blockHash(crypto, proposal), counterparty: bob.publicKey, amount: 30 }
      const asAlice = (summary: ReturnType<typeof stretch>) => ({ member: a, summary: { ...summary.summary, publicKey: alice.publicKey } })
      const opened = settle(genesisLedger(new Map([[a, 100]])), 1, [asAlice(stretch(1, { debits: [realDebit] }))], onlyAlice)
      const theAgreement = { kind: 'agreed', proposer: a, sequenceNumber: 2, proposal: realDebit.hash, agreement: hash(2) } as const
      const theVoid = asAlice(stretch(1, { voids: [{ sequenceNumber: 3, proposalSequenceNumber: 2, amount: 30, refusal }] }))
      // Certified in one round, the agreement counts and the void does not.
      const sameRound = settle(opened.ledger, 2, [theVoid], onlyAlice, [theAgreement])
      expect(sameRound.leaves).toHaveLength(1)
      expect(sameRound.ledger.spendable.get(a)).toBe(70)
      // Voided first, the agreement settles nothing later: the value came back, and C is never told it is final.
      const voided = settle(opened.ledger, 2, [theVoid], onlyAlice)
      expect(voided.ledger.spendable.get(a)).toBe(100)
      const late = settle(voided.ledger, 3, [], onlyAlice, [theAgreement])
      expect(late.leaves).toEqual([])
      expect(late.ledger.spendable.get(a)).toBe(100)
    })
  })
})
