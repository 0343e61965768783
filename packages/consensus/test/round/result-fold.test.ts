import { type Crypto, toHex } from '@constellation/crypto'
import { checkFraudProof, decodeFraudProof, encodeBlock } from '@constellation/trustchain'
import { encodeCanonical } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { applyResult, encodeProposal, foldAgreement, MAX_FAULTS_PER_RESULT, nextResult, resultHash, scoreOf } from '../../src/index.js'
import { testCrypto } from '../support/solar-system-sim.js'
import { roundFixture } from './fixtures.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

describe('foldAgreement', () => {
  it('unites the agreed proposals, one checkpoint per member, and observes who served', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b, c, d] = f.state.committee.facilitators as [string, string, string, string]
    const agreed = new Map([
      [a, encodeProposal([f.checkpoint(0), f.checkpoint(1)])],
      [b, encodeProposal([f.checkpoint(1), f.checkpoint(2)])],
      [c, encodeProposal([f.checkpoint(3)])],
    ])
    const body = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
    expect(body.round).toBe(1)
    expect(body.checkpoints.map((e) => toHex(e.publicKey))).toEqual([f.ids[0], f.ids[1], f.ids[2], f.ids[3]].sort())
    const outcome = Object.fromEntries(body.observations.map((o) => [o.memeId, o]))
    expect(outcome[a]?.outcome).toBe('good')
    expect(outcome[d]).toMatchObject({ outcome: 'bad', values: { roundsFaulty: 1 } })
    expect(Object.isFrozen(body.checkpoints)).toBe(true)
  })

  it('turns two checkpoints a member signed for one position into a fraud proof, certifies neither, and docks the member', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b] = f.state.committee.facilitators as [string, string]
    const agreed = new Map([
      [a, encodeProposal([f.checkpoint(5, 1), f.checkpoint(6)])],
      [b, encodeProposal([f.checkpoint(5, 2)])],
    ])
    const body = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
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
    const [a, b, c] = f.state.committee.facilitators as [string, string, string]
    const stale = f.checkpoint(2)
    const forged = { ...f.checkpoint(3), signature: new Uint8Array(64) }
    const agreed = new Map([
      [a, encodeCanonical([encodeBlock(stale), new Uint8Array([1, 2, 3])])],
      [b, encodeProposal([forged])],
      [c, new Uint8Array([0xff, 0x00])],
    ])
    const body = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
    for (const id of [a, b, c]) expect(body.observations.find((o) => o.memeId === id)).toMatchObject({ outcome: 'bad', values: { roundsFaulty: 1 } })
    expect(body.checkpoints.map((e) => toHex(e.publicKey))).toEqual([f.ids[2]])
  })

  it('folds alike whatever each facilitator already verified, and blames only the proposer of a forged copy', () => {
    const f = roundFixture(crypto, 8, 4)
    const [a, b, c, d] = f.state.committee.facilitators as [string, string, string, string]
    const real = f.checkpoint(4)
    const forged = { ...real, signature: new Uint8Array(64) }
    // The Byzantine facilitator sorts first, so its forged copy is met before the real one.
    const agreed = new Map([
      [a, encodeProposal([forged])],
      [b, encodeProposal([real])],
      [c, encodeProposal([real])],
      [d, encodeProposal([real])],
    ])
    const fold = (checked?: Set<string>) =>
      foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed, ...(checked === undefined ? {} : { checked }) })
    const plain = fold()
    const held = fold(new Set([toHex(encodeBlock(real))]))
    expect(toHex(resultHash(crypto, held))).toBe(toHex(resultHash(crypto, plain)))
    expect(plain.checkpoints.map((e) => toHex(e.publicKey))).toEqual([f.ids[4]])
    expect(plain.observations.find((o) => o.memeId === a)?.outcome).toBe('bad')
    for (const id of [b, c, d]) expect(plain.observations.find((o) => o.memeId === id)?.outcome).toBe('good')
  })

  it('records at most MAX_FAULTS_PER_RESULT fraud proofs, and certifies none of the double-signers’ blocks', () => {
    const members = MAX_FAULTS_PER_RESULT + 6
    const f = roundFixture(crypto, members, 4)
    const [a, b] = f.state.committee.facilitators as [string, string]
    const agreed = new Map([
      [a, encodeProposal(Array.from({ length: members }, (_, i) => f.checkpoint(i, 1)))],
      [b, encodeProposal(Array.from({ length: members }, (_, i) => f.checkpoint(i, 2)))],
    ])
    const body = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed })
    expect(body.faults).toHaveLength(MAX_FAULTS_PER_RESULT)
    expect(body.checkpoints).toHaveLength(0)
  })
})

describe('applyResult', () => {
  it('refuses a result for another round, on another previous result, or with other next facilitators', () => {
    const f = roundFixture(crypto, 8, 4)
    const body = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed: new Map() })
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
