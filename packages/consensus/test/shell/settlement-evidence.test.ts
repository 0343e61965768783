/**
 * The facilitator's check of members' evidence for transfers across solar systems (`SettlementEvidenceBook`): an
 * answer holds only when both halves verify and the agreement answers the member's proposal to someone outside; a
 * credit only with the root's committees to check its rooted proof against. What it holds is proposed while the
 * ledger waits for it, and goes once the ledger stops waiting.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import {
  advanceHead,
  createAgreement,
  createGenesisBlock,
  createProposal,
  EMPTY_CHAIN_HEAD,
  encodeBlock,
  transferPayload,
  DEFAULT_BLOCK_LIMITS,
} from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import { defaultSolarSystemRules } from '../../src/index.js'
import { genesisState } from '../../src/round.js'
import { SettlementEvidenceBook } from '../../src/shell/settlement-evidence.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

describe('SettlementEvidenceBook', () => {
  it('holds an answer whose halves verify and match, for a member’s proposal to a non-member; refuses the rest', async () => {
    const [alice, member, outsider] = [1, 2, 9].map((n) => ({ crypto, keyPair: crypto.keyPairFromSeed(new Uint8Array(32).fill(n)) })) as [
      { crypto: Crypto; keyPair: ReturnType<Crypto['keyPairFromSeed']> },
      { crypto: Crypto; keyPair: ReturnType<Crypto['keyPairFromSeed']> },
      { crypto: Crypto; keyPair: ReturnType<Crypto['keyPairFromSeed']> },
    ]
    const ids = [alice, member].map((party) => toHex(party.keyPair.publicKey))
    const state = genesisState(
      crypto,
      { level: 0, group: 'p', members: ids, facilitators: ids, balances: { [ids[0]!]: 100 } },
      defaultSolarSystemRules({ facilitators: 2 }),
    )
    const head = advanceHead(crypto, EMPTY_CHAIN_HEAD, createGenesisBlock(alice, { balance: 100, timestamp: 1 }))
    const toOutsider = createProposal(alice, head, { counterparty: outsider.keyPair.publicKey, payload: transferPayload(head, 30), timestamp: 2 })
    const toMember = createProposal(alice, head, { counterparty: member.keyPair.publicKey, payload: transferPayload(head, 30), timestamp: 2 })
    const outsiderAgrees = createAgreement(outsider, EMPTY_CHAIN_HEAD, toOutsider, { timestamp: 3 })
    const memberAgrees = createAgreement(member, EMPTY_CHAIN_HEAD, toMember, { timestamp: 3 })
    const forged = { ...outsiderAgrees, signature: new Uint8Array(64) }
    const pair = (proposal: typeof toOutsider, agreement: typeof toOutsider) => [encodeBlock(proposal), encodeBlock(agreement)] as [Uint8Array, Uint8Array]
    const book = new SettlementEvidenceBook({ crypto, limits: DEFAULT_BLOCK_LIMITS, verifier: undefined, rootCommittee: undefined })
    const taken = await book.take(state, {
      level: 0,
      group: 'p',
      answers: [
        pair(toMember, memberAgrees), // a member's agreement: its own certified chain settles it
        pair(toOutsider, forged), // a signature that does not verify
        pair(toOutsider, memberAgrees), // an agreement to another proposal
        [new Uint8Array([1, 2, 3]), encodeBlock(outsiderAgrees)], // garbage
        pair(toOutsider, outsiderAgrees),
      ],
      // Without the root's committees no credit is checked, however it looks.
      credits: [{ proof: new Uint8Array([0xa0]), paths: [] }],
    })
    expect(taken).toBe(1)
    const [settlement] = book.toPropose(state)
    expect(settlement).toMatchObject({ kind: 'agreed', proposer: ids[0], sequenceNumber: toOutsider.sequenceNumber })
    // The same evidence again is held once.
    expect(await book.take(state, { level: 0, group: 'p', answers: [pair(toOutsider, outsiderAgrees)], credits: [] })).toBe(0)
    // Its proposal never certified: dropped after a few rounds.
    expect(book.toPropose({ ...state, round: state.round + 100 })).toEqual([])
    expect(book.size).toBe(0)
  })
})
