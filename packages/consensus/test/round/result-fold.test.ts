import { type Crypto, encodeCanonical, type KeyPair, toHex } from '@constellation/crypto'
import {
  advanceHead,
  blockHash,
  checkFraudProof,
  checkStretch,
  createAgreement,
  createCheckpoint,
  createFraudProof,
  createGenesisBlock,
  createProposal,
  decodeFraudProof,
  EMPTY_CHAIN_HEAD,
  encodeBlock,
  encodeFraudProof,
  type HalfBlock,
  PayloadRegistry,
  transferPayload,
} from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import { defaultSolarSystemRules, finalisedLeaf, resultHash, scoreOf } from '../../src/index.js'
import { applyResult, foldAgreement, genesisState, MAX_FAULTS_PER_RESULT, nextResult } from '../../src/round.js'
import { encodeStretchSummary } from '../../src/ledger/stretch-summary-codec.js'
import { encodeProposal, MAX_SETTLEMENTS_PER_PROPOSAL, settlementBytes } from '../../src/round/checkpoint-pool.js'
import { testCrypto } from '../support/solar-system-sim.js'
import { anchored, roundFixture } from './fixtures.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

/** A proposal of checkpoint blocks, each with the summary an honest facilitator would give (a one-block stretch). */
function proposalOf(blocks: readonly HalfBlock[]): Uint8Array {
  return encodeCanonical({
    checkpoints: blocks.map((block) => [
      encodeBlock(block),
      encodeStretchSummary(checkStretch(block.publicKey, opening, [block], { crypto, registry, signatures: 'none' }).tail.summary),
    ]),
    frauds: [],
  })
}
const registry = new PayloadRegistry()
const opening = { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0 }

describe('foldAgreement', () => {
  it('certifies a checkpoint carried by t + 1 agreed proposals with one summary, and observes who served', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b, c, d] = f.state.committee.facilitators as [string, string, string, string]
    const agreed = new Map([
      [a, encodeProposal([f.anchored(0), f.anchored(1)])],
      [b, encodeProposal([f.anchored(1), f.anchored(2)])],
      [c, encodeProposal([f.anchored(3), f.anchored(2)])],
    ])
    const { body, finalised } = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
    expect(body.round).toBe(1)
    // Members 1 and 2 have two proposals each (t + 1 = 2); 0 and 3 only one: an honest facilitator may not be among them.
    expect(body.checkpoints.map((e) => toHex(e.publicKey))).toEqual([f.ids[1], f.ids[2]].sort())
    expect(body.checkpoints.every((e) => e.balance === 0)).toBe(true)
    expect(finalised).toEqual([])
    const outcome = Object.fromEntries(body.observations.map((o) => [o.memeId, o]))
    expect(outcome[a]?.outcome).toBe('good')
    expect(outcome[d]).toMatchObject({ outcome: 'bad', values: { roundsFaulty: 1 } })
    expect(Object.isFrozen(body.checkpoints)).toBe(true)
  })

  it('does not certify a checkpoint whose summaries differ, when no one summary has t + 1 proposals', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b, c] = f.state.committee.facilitators as [string, string, string]
    const real = f.anchored(4)
    // A Byzantine facilitator pairs the real block with a summary that spends nothing it says.
    const lie = encodeCanonical({
      checkpoints: [[encodeBlock(real.block), encodeStretchSummary({ ...real.tail.summary, head: { ...real.tail.summary.head, balance: 7 } })]],
      frauds: [],
    })
    const honestOnly = new Map([
      [a, lie],
      [b, encodeProposal([real])],
    ])
    expect(foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed: honestOnly }).body.checkpoints).toEqual([])
    const withAnother = new Map([...honestOnly, [c, encodeProposal([real])]])
    const { body } = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed: withAnother })
    expect(body.checkpoints).toMatchObject([{ sequenceNumber: 1, balance: 0 }])
  })

  it('turns two checkpoints a member signed for one position into a fraud proof, certifies neither, and docks the member', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b] = f.state.committee.facilitators as [string, string]
    const agreed = new Map([
      [a, encodeProposal([f.anchored(5, 1), f.anchored(6)])],
      [b, encodeProposal([f.anchored(5, 2), f.anchored(6)])],
    ])
    const { body } = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
    expect(body.checkpoints.map((e) => toHex(e.publicKey))).toEqual([f.ids[6]])
    expect(body.faults).toHaveLength(1)
    const fault = body.faults[0]!
    expect(fault.memeId).toBe(f.ids[5])
    expect(checkFraudProof(crypto, decodeFraudProof(crypto, fault.proof))).toBeUndefined()
    // Both proposers acted honestly: neither knew of the other block.
    expect(body.observations.find((o) => o.memeId === a)?.outcome).toBe('good')
    const before = scoreOf(f.state, f.ids[5]!)
    const { state } = nextResult(f.rules, f.state, body, resultHash(crypto, body))
    expect(scoreOf(state, f.ids[5]!)).toBeLessThan(before)
    expect(state.memes[state.memeIndex.get(f.ids[5]!)!]!.penalty).toBeGreaterThan(0)
  })

  it('observes a proposer as faulty when its proposal holds garbage or blocks no honest facilitator would propose', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b, c, d] = f.state.committee.facilitators as [string, string, string, string]
    const forged = { ...f.checkpoint(3), signature: new Uint8Array(64) }
    const agreed = new Map([
      [
        a,
        encodeCanonical({
          checkpoints: [
            [encodeBlock(f.checkpoint(2)), new Uint8Array([1, 2, 3])],
            [new Uint8Array([1, 2, 3]), new Uint8Array(0)],
          ],
          frauds: [],
        }),
      ],
      [b, proposalOf([forged])],
      [c, new Uint8Array([0xff, 0x00])],
      [d, encodeProposal([f.anchored(2)])],
    ])
    const { body } = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
    for (const id of [a, b, c]) expect(body.observations.find((o) => o.memeId === id)).toMatchObject({ outcome: 'bad', values: { roundsFaulty: 1 } })
    expect(body.checkpoints).toEqual([])
  })

  it('folds alike whatever each facilitator already verified, and blames only the proposer of a forged copy', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b, c, d] = f.state.committee.facilitators as [string, string, string, string]
    const real = f.checkpoint(4)
    const forged = { ...real, signature: new Uint8Array(64) }
    // The Byzantine facilitator sorts first, so its forged copy is met before the real one.
    const agreed = new Map([
      [a, proposalOf([forged])],
      [b, proposalOf([real])],
      [c, proposalOf([real])],
      [d, proposalOf([real])],
    ])
    const fold = (checked?: Set<string>) =>
      foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed, ...(checked === undefined ? {} : { checked }) }).body
    const plain = fold()
    const held = fold(new Set([toHex(encodeBlock(real))]))
    expect(toHex(resultHash(crypto, held))).toBe(toHex(resultHash(crypto, plain)))
    expect(plain.checkpoints.map((e) => toHex(e.publicKey))).toEqual([f.ids[4]])
    expect(plain.faults).toEqual([])
    expect(plain.observations.find((o) => o.memeId === a)?.outcome).toBe('bad')
    for (const id of [b, c, d]) expect(plain.observations.find((o) => o.memeId === id)?.outcome).toBe('good')
  })

  it('records a reported fork’s fraud proof once per position, and blames the carriers of a proof that does not hold', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b, c] = f.state.committee.facilitators as [string, string, string]
    const author = { crypto, keyPair: f.pairs[5]! }
    const genesis = createGenesisBlock(author, { balance: 100, timestamp: 1 })
    const head = advanceHead(crypto, EMPTY_CHAIN_HEAD, genesis)
    const toSix = createProposal(author, head, { counterparty: f.pairs[6]!.publicKey, payload: transferPayload(head, 10), timestamp: 2 })
    const toSeven = createProposal(author, head, { counterparty: f.pairs[7]!.publicKey, payload: transferPayload(head, 10), timestamp: 2 })
    const fork = encodeFraudProof(createFraudProof(crypto, 'double-sign', toSix, toSeven))
    const notAFork = encodeFraudProof({ kind: 'double-sign', publicKey: toSix.publicKey, first: toSix, second: { ...toSeven, signature: new Uint8Array(64) } })
    const agreed = new Map([
      [a, encodeProposal([f.anchored(1)], undefined, [fork])],
      [b, encodeProposal([f.anchored(1)], undefined, [fork, notAFork])],
      [c, encodeProposal([f.anchored(1)])],
    ])
    const { body } = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
    expect(body.faults).toEqual([{ memeId: f.ids[5], kind: 'double-sign', sequenceNumber: toSix.sequenceNumber, proof: fork }])
    expect(body.observations.find((o) => o.memeId === f.ids[5])).toMatchObject({ outcome: 'bad', values: { provenFrauds: 1 } })
    expect(body.observations.find((o) => o.memeId === a)?.outcome).toBe('good')
    expect(body.observations.find((o) => o.memeId === b)).toMatchObject({ outcome: 'bad', values: { roundsFaulty: 1 } })
    // The member's checkpoint is still certified: the fork is proven, its certified branch stands.
    expect(body.checkpoints.map((e) => toHex(e.publicKey))).toEqual([f.ids[1]])
    const { state } = nextResult(f.rules, f.state, body, resultHash(crypto, body))
    expect(state.memes[state.memeIndex.get(f.ids[5]!)!]!.history.provenFaults).toBe(1)
    // Reported again next round: recorded once.
    const again = foldAgreement({
      crypto,
      rules: f.rules,
      state,
      committee: state.committee,
      agreed: new Map(state.committee.facilitators.map((id) => [id, encodeProposal([], undefined, [fork])])),
    })
    expect(again.body.faults).toEqual([])
  })

  it('records at most MAX_FAULTS_PER_RESULT fraud proofs, and certifies none of the double-signers’ blocks', () => {
    const members = MAX_FAULTS_PER_RESULT + 6
    const f = roundFixture(crypto, members, 4)
    const [a, b] = f.state.committee.facilitators as [string, string]
    const agreed = new Map([
      [a, encodeProposal(Array.from({ length: members }, (_, i) => f.anchored(i, 1)))],
      [b, encodeProposal(Array.from({ length: members }, (_, i) => f.anchored(i, 2)))],
    ])
    const { body } = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
    expect(body.faults).toHaveLength(MAX_FAULTS_PER_RESULT)
    expect(body.checkpoints).toHaveLength(0)
  })

  it('settles a transfer whose two halves are certified in one round: final, and spendable by its receiver', () => {
    const pairs = [1, 2].map((n) => crypto.keyPairFromSeed(new Uint8Array(32).fill(n)))
    const [alice, bob] = pairs.map((keyPair) => ({ crypto, keyPair })) as [{ crypto: Crypto; keyPair: KeyPair }, { crypto: Crypto; keyPair: KeyPair }]
    const ids = pairs.map((pair) => toHex(pair.publicKey))
    const rules = defaultSolarSystemRules({ facilitators: 2 })
    const state = genesisState(crypto, { level: 0, group: 'ledger', members: ids, facilitators: ids, balances: { [ids[0]!]: 100 } }, rules)
    const aliceGenesis = createGenesisBlock(alice, { balance: 100, timestamp: 1 })
    let aliceHead = advanceHead(crypto, EMPTY_CHAIN_HEAD, aliceGenesis)
    const proposal = createProposal(alice, aliceHead, { counterparty: bob.keyPair.publicKey, payload: transferPayload(aliceHead, 30), timestamp: 2 })
    aliceHead = advanceHead(crypto, aliceHead, proposal)
    const aliceCheckpoint = createCheckpoint(alice, aliceHead, { consensusResultHash: state.genesisHash, round: 0, timestamp: 3 })
    const agreement = createAgreement(bob, EMPTY_CHAIN_HEAD, proposal, { timestamp: 2 })
    const bobCheckpoint = createCheckpoint(bob, advanceHead(crypto, EMPTY_CHAIN_HEAD, agreement), {
      consensusResultHash: state.genesisHash,
      round: 0,
      timestamp: 3,
    })
    const inputs = [anchored(crypto, state, [aliceGenesis, proposal, aliceCheckpoint]), anchored(crypto, state, [agreement, bobCheckpoint])]
    const agreed = new Map(state.committee.facilitators.map((id) => [id, encodeProposal(inputs)]))
    const { body, finalised } = foldAgreement({ crypto, rules, state, committee: state.committee, agreed })
    expect(finalised).toEqual([finalisedLeaf(blockHash(crypto, proposal), blockHash(crypto, agreement))])
    expect(body.ledger).toMatchObject({ opened: [], awaiting: [], closed: [], finalisedCount: 1 })
    const next = nextResult(rules, state, body, resultHash(crypto, body)).state
    expect(next.ledger.spendable.get(ids[0]!)).toBe(70)
    expect(next.ledger.spendable.get(ids[1]!)).toBe(30)
    expect(body.checkpoints.map((e) => e.balance)).toEqual(toHex(pairs[0]!.publicKey) < toHex(pairs[1]!.publicKey) ? [70, 30] : [30, 70])
  })
})

describe('foldAgreement: settlements across solar systems', () => {
  it('settles one only when t + 1 agreed proposals carry it; of two vouched for one proposal, the lowest', () => {
    const pairs = [1, 2, 3, 4].map((n) => crypto.keyPairFromSeed(new Uint8Array(32).fill(n)))
    const ids = pairs.map((pair) => toHex(pair.publicKey))
    const alice = { crypto, keyPair: pairs[0]! }
    const outsider = crypto.keyPairFromSeed(new Uint8Array(32).fill(9))
    const rules = defaultSolarSystemRules({ facilitators: 4 })
    const state = genesisState(crypto, { level: 0, group: 'p', members: ids, facilitators: ids, balances: { [ids[0]!]: 100 } }, rules)
    const genesis = createGenesisBlock(alice, { balance: 100, timestamp: 1 })
    let head = advanceHead(crypto, EMPTY_CHAIN_HEAD, genesis)
    const proposal = createProposal(alice, head, { counterparty: outsider.publicKey, payload: transferPayload(head, 30), timestamp: 2 })
    head = advanceHead(crypto, head, proposal)
    const checkpoint = createCheckpoint(alice, head, { consensusResultHash: state.genesisHash, round: 0, timestamp: 3 })
    const inputs = [anchored(crypto, state, [genesis, proposal, checkpoint])]
    const settlement = (agreement: number) =>
      ({
        kind: 'agreed',
        proposer: ids[0]!,
        sequenceNumber: proposal.sequenceNumber,
        proposal: blockHash(crypto, proposal),
        agreement: new Uint8Array(32).fill(agreement),
      }) as const
    const fold = (carried: (readonly ReturnType<typeof settlement>[])[]) => {
      const agreed = new Map(state.committee.facilitators.map((id, i) => [id, encodeProposal(inputs, undefined, [], carried[i] ?? [])]))
      return foldAgreement({ crypto, rules, state, committee: state.committee, agreed })
    }
    // t = 1: one carrier is not enough (it may be the Byzantine one); the debit stays open.
    const alone = fold([[settlement(5)]])
    expect(alone.finalised).toEqual([])
    expect(alone.body.ledger.opened).toHaveLength(1)
    const vouched = fold([[settlement(5)], [settlement(5)]])
    expect(vouched.finalised).toEqual([finalisedLeaf(blockHash(crypto, proposal), new Uint8Array(32).fill(5))])
    expect(vouched.body.ledger).toMatchObject({ opened: [], finalisedCount: 1 })
    // The outsider signed two agreements and each got t + 1: every facilitator settles the same one.
    const twice = fold([[settlement(7), settlement(6)], [settlement(6)], [settlement(7)], []])
    expect(twice.finalised).toEqual([finalisedLeaf(blockHash(crypto, proposal), new Uint8Array(32).fill(6))])
    // Nothing is credited inside the system: the outsider is credited in its own.
    const next = nextResult(rules, state, vouched.body, resultHash(crypto, vouched.body)).state
    expect(next.ledger.spendable.get(ids[0]!)).toBe(70)
    expect(next.ledger.spendable.get(toHex(outsider.publicKey))).toBeUndefined()
    // The bytes reserved for settlements cover what they take in the proposal, at the bound too.
    const many = Array.from({ length: MAX_SETTLEMENTS_PER_PROPOSAL }, (_, i) => ({ ...settlement(5), sequenceNumber: i + 1 }))
    expect(settlementBytes(many)).toBeGreaterThanOrEqual(encodeProposal(inputs, undefined, [], many).length - encodeProposal(inputs).length)
    // A proposal without settlements is encoded as before they existed.
    expect(encodeProposal(inputs, undefined, [], [])).toEqual(encodeProposal(inputs))
  })
})

describe('applyResult', () => {
  it('refuses a result for another round, on another previous result, or with other next facilitators', () => {
    const f = roundFixture(crypto, 8, 4)
    const { body } = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed: new Map() })
    const hash = resultHash(crypto, body)
    const { result } = nextResult(f.rules, f.state, body, hash)
    expect(applyResult(f.rules, f.state, result, hash).round).toBe(1)
    const later = { ...body, round: 2 }
    expect(() => applyResult(f.rules, f.state, { ...result, body: later }, resultHash(crypto, later))).toThrow(/expected round 1/)
    const forked = { ...body, previousResultHash: new Uint8Array(32).fill(9) }
    expect(() => applyResult(f.rules, f.state, { ...result, body: forked }, resultHash(crypto, forked))).toThrow(/previous result/)
    const others = [...f.ids].sort().reverse().slice(0, 4).sort()
    expect(() => applyResult(f.rules, f.state, { ...result, nextFacilitators: others }, hash)).toThrow(/election/)
  })
})
