/**
 * The transaction tracker's books: a transaction put back after the tracker forgot it (`restore`: an idempotent
 * replay after a restart) shows its status — pending, agreed, refused, final in its round — but counts in no total
 * and no latency, neither when it is put back nor when it settles or becomes final later.
 */
import { type Crypto, type KeyPair, loadCrypto, toHex } from '@constellation/crypto'
import {
  advanceHead,
  blockHash,
  type ChainHead,
  createAgreement,
  createProposal,
  createVoid,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
  signRefusal,
} from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import { type TrackedTransaction, TransactionTracker } from '../src/node/transaction-tracker.js'

let crypto: Crypto
let alice: KeyPair
let bob: KeyPair
/** Alice's chain head: each proposal goes on top of the last one. */
let aliceHead: ChainHead
let bobHead: ChainHead

beforeAll(async () => {
  crypto = await loadCrypto()
  alice = crypto.generateKeyPair()
  bob = crypto.generateKeyPair()
  aliceHead = { ...EMPTY_CHAIN_HEAD, sequenceNumber: 1, balance: 1_000, timestamp: 1_000 }
  bobHead = { ...EMPTY_CHAIN_HEAD, sequenceNumber: 1, balance: 0, timestamp: 1_000 }
})

/** A new transfer of Alice's to Bob: its proposal and id. */
function proposal(amount = 10): { id: string; proposal: HalfBlock } {
  const block = createProposal({ crypto, keyPair: alice }, aliceHead, {
    counterparty: bob.publicKey,
    payload: { kind: 'transfer', amount, balance: aliceHead.balance - amount },
    timestamp: aliceHead.timestamp + 1,
  })
  aliceHead = advanceHead(crypto, aliceHead, block)
  return { id: toHex(blockHash(crypto, block)), proposal: block }
}

function agreement(to: HalfBlock): HalfBlock {
  const block = createAgreement({ crypto, keyPair: bob }, bobHead, to, { timestamp: to.timestamp + 5 })
  bobHead = advanceHead(crypto, bobHead, block)
  return block
}

function voidOf(refused: HalfBlock): { block: HalfBlock; code: string; reason: string } {
  const block = createVoid({ crypto, keyPair: alice }, aliceHead, refused, { refusal: signRefusal(crypto, bob, refused), timestamp: aliceHead.timestamp + 1 })
  aliceHead = advanceHead(crypto, aliceHead, block)
  return { block, code: 'REFUSED', reason: 'policy' }
}

/** A tracker with one transfer seen live from proposal to final, so that its totals and latencies are not empty. */
function trackerWithOneFinal(): TransactionTracker {
  const tracker = new TransactionTracker()
  const live = proposal()
  const tracked = tracker.proposed(live.id, live.proposal, 2_000)
  tracker.agreed(tracked, agreement(live.proposal), 2_010)
  tracker.final(tracked, 4, 2_500)
  return tracker
}

describe('restoring a transaction the tracker forgot', () => {
  it('shows it with its status, agreement, void or final round, and counts it nowhere', () => {
    const tracker = trackerWithOneFinal()
    const totals = tracker.totals
    const latencies = tracker.latencies()
    const heard: TrackedTransaction[] = []
    tracker.onChange((tracked) => heard.push(tracked))

    const pending = proposal()
    const agreed = proposal()
    const agreedHalf = agreement(agreed.proposal)
    const refused = proposal()
    const voided = voidOf(refused.proposal)
    const final = proposal()
    const finalHalf = agreement(final.proposal)
    const common = { role: 'proposer', submittedAt: 1_500 } as const
    tracker.restore({ ...common, ...pending, status: 'pending' })
    tracker.restore({ ...common, ...agreed, status: 'agreed', agreement: agreedHalf, agreedAt: 1_600 })
    tracker.restore({ ...common, ...refused, status: 'refused', voided })
    tracker.restore({ ...common, ...final, status: 'final', agreement: finalHalf, agreedAt: 1_700, finalRound: 9 })

    expect(tracker.totals).toEqual(totals)
    expect(tracker.latencies()).toEqual(latencies)
    expect(heard).toEqual([])
    expect(tracker.get(pending.id)).toMatchObject({ role: 'proposer', status: 'pending', submittedAt: 1_500 })
    expect(tracker.get(pending.id)?.agreement).toBeUndefined()
    expect(tracker.get(agreed.id)).toMatchObject({ status: 'agreed', agreement: agreedHalf, agreedAt: 1_600 })
    expect(tracker.get(refused.id)).toMatchObject({ status: 'refused', voided })
    expect(tracker.get(final.id)).toMatchObject({ status: 'final', agreement: finalHalf, finalRound: 9 })
    expect(tracker.get(final.id)?.finalAt).toBeUndefined()
    // Listed with the others, newest first.
    expect(tracker.recent(5).map((tracked) => tracked.id)).toEqual([final.id, refused.id, agreed.id, pending.id, expect.any(String)])
  })

  it('does not count it when it settles or becomes final later, though listeners hear the change', () => {
    const tracker = trackerWithOneFinal()
    const totals = tracker.totals
    const latencies = tracker.latencies()
    const heard: string[] = []
    tracker.onChange((tracked) => heard.push(`${tracked.id.slice(0, 8)} ${tracked.status}`))

    const later = proposal()
    const agreedLater = tracker.restore({ ...later, role: 'proposer', submittedAt: 1_500, status: 'pending' })
    tracker.agreed(agreedLater, agreement(later.proposal), 3_000)
    expect(tracker.totals).toEqual(totals)
    tracker.final(agreedLater, 11, 3_400)
    const refusedLater = proposal()
    tracker.refused(tracker.restore({ ...refusedLater, role: 'proposer', submittedAt: 1_500, status: 'pending' }), voidOf(refusedLater.proposal))

    expect(tracker.totals).toEqual(totals)
    expect(tracker.totals).toMatchObject({ pending: 0, awaitingFinality: 0 })
    expect(tracker.latencies()).toEqual(latencies)
    expect(tracker.get(later.id)).toMatchObject({ status: 'final', finalRound: 11, finalAt: 3_400 })
    expect(heard).toEqual([`${later.id.slice(0, 8)} agreed`, `${later.id.slice(0, 8)} final`, `${refusedLater.id.slice(0, 8)} refused`])
  })

  it('returns the entry it holds rather than replacing it', () => {
    const tracker = new TransactionTracker()
    const held = proposal()
    const tracked = tracker.proposed(held.id, held.proposal, 2_000)
    const restored = tracker.restore({ ...held, role: 'proposer', submittedAt: 1, status: 'refused', voided: voidOf(held.proposal) })
    expect(restored).toBe(tracked)
    expect(tracker.get(held.id)).toMatchObject({ status: 'pending', submittedAt: 2_000 })
    expect(tracker.totals).toMatchObject({ submitted: 1, pending: 1, refused: 0 })
  })
})

describe('an answer that arrives after the round that finalised the transfer', () => {
  // The counterparty checkpointed its agreement while its answer to the proposer was slow: the round's leaves found
  // the transfer still pending here and passed it over, so the agreement, when it comes, says which round that was.
  it('makes the transfer final at once, counted with its latency, and listeners hear it final', () => {
    const tracker = new TransactionTracker()
    const heard: string[] = []
    tracker.onChange((tracked) => heard.push(tracked.status))
    const late = proposal()
    const tracked = tracker.proposed(late.id, late.proposal, 2_000)
    tracker.agreed(tracked, agreement(late.proposal), 2_900, 6)

    expect(tracker.get(late.id)).toMatchObject({ status: 'final', finalRound: 6, agreedAt: 2_900, finalAt: 2_900 })
    expect(tracker.totals).toMatchObject({ submitted: 1, agreed: 1, final: 1, awaitingFinality: 0, pending: 0 })
    expect(tracker.latencies()).toEqual([900])
    expect(heard).toEqual(['pending', 'final'])
  })

  it('leaves it agreed when no round finalised it yet', () => {
    const tracker = new TransactionTracker()
    const early = proposal()
    const tracked = tracker.proposed(early.id, early.proposal, 2_000)
    tracker.agreed(tracked, agreement(early.proposal), 2_100, undefined)
    expect(tracker.get(early.id)).toMatchObject({ status: 'agreed' })
    expect(tracker.totals).toMatchObject({ agreed: 1, final: 0, awaitingFinality: 1 })
  })
})
