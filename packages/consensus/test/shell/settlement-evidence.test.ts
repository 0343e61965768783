/**
 * The facilitator's check of members' evidence for transfers across solar systems (`SettlementEvidenceBook`): only
 * what the ledger waits for, from the member it concerns, is looked at; an answer holds only when both halves verify
 * and the agreement answers the member's open proposal to someone outside; a credit only with the root's committees
 * to check its rooted proof against. What it holds is proposed while the ledger waits for it, and goes after.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import {
  advanceHead,
  blockHash,
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
    const a = ids[0] as string
    const key = `${a}/${toOutsider.sequenceNumber}`
    // Before the proposal is certified and open, it is not held.
    expect(await book.take(state, a, { level: 0, group: 'p', answers: [pair(toOutsider, outsiderAgrees)], credits: [], followedCredits: [] })).toEqual([false])
    const open = (hash: Uint8Array) => ({
      ...state,
      ledger: {
        ...state.ledger,
        open: new Map([[key, { proposer: a, sequenceNumber: toOutsider.sequenceNumber, hash, counterparty: toHex(outsider.keyPair.publicKey), amount: 30 }]]),
      },
    })
    const waiting = open(blockHash(crypto, toOutsider))
    const evidence = {
      level: 0,
      group: 'p',
      answers: [
        pair(toMember, memberAgrees), // a proposal the ledger does not wait for (and a member's agreement)
        pair(toOutsider, forged), // a signature that does not verify
        pair(toOutsider, memberAgrees), // an agreement to another proposal
        [new Uint8Array([1, 2, 3]), encodeBlock(outsiderAgrees)] as [Uint8Array, Uint8Array], // garbage
        pair(toOutsider, outsiderAgrees),
      ],
      // A path that does not decode, with no transfers under it: nothing to hold.
      credits: [{ path: new Uint8Array([0xa0]), transfers: [] }],
      followedCredits: [],
    }
    // Only the proposer's own answers count: from anyone else the same evidence is not looked at.
    expect(await book.take(waiting, ids[1] as string, evidence)).toEqual([false, false, false, false, false])
    // Per piece, in order: only the last answer holds; the rooted credit group has no transfers, so no piece.
    expect(await book.take(waiting, a, evidence)).toEqual([false, false, false, false, true])
    const [settlement] = book.toPropose(waiting)
    expect(settlement).toMatchObject({ kind: 'agreed', proposer: a, sequenceNumber: toOutsider.sequenceNumber })
    // The same evidence again is held once, and counted as held.
    expect(await book.take(waiting, a, { level: 0, group: 'p', answers: [pair(toOutsider, outsiderAgrees)], credits: [], followedCredits: [] })).toEqual([true])
    // Once the ledger no longer waits for it (settled, or another proposal certified there), it goes.
    expect(book.toPropose(open(new Uint8Array(32).fill(7)))).toEqual([])
    expect(book.size).toBe(0)
  })
})
