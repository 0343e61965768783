import { type Crypto, countingCrypto as countingSignatures, toHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { blockHash, createProposal, decodeBlock, encodeBlock, type HalfBlock, signBlock, TrustChainErrorCode, type TransferOutcome } from '../src/index.js'
import { decodeExchangeRequest, decodeExchangeResponse, encodeExchangeRequest, TRANSFER_PROTOCOL } from '../src/wire.js'
import { anchoredPeers } from './anchored-harness.js'
import { countingCrypto, keyPairOf, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const statuses = (outcomes: readonly TransferOutcome[]) => outcomes.map((outcome) => outcome.status)

describe('anchored transfers', () => {
  it('agrees a batch to several counterparties with one verify per half, and both sides store both halves', async () => {
    const counting = countingCrypto(crypto)
    const { net, peers } = await anchoredPeers(crypto, 3, { seed: 1, crypto: counting })
    const [alice, bob, carol] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    const outcomes = await net.runUntil(
      alice.node.transfer([
        { to: bob.keyPair.publicKey, amount: 10 },
        { to: carol.keyPair.publicKey, amount: 20 },
        { to: bob.keyPair.publicKey, amount: 5 },
      ]),
    )
    expect(statuses(outcomes)).toEqual(['agreed', 'agreed', 'agreed'])
    // Three proposals verified by their counterparties, three agreements by alice: nothing else.
    expect(counting.verifies).toBe(6)
    for (const outcome of outcomes) {
      if (outcome.status !== 'agreed') throw new Error('not agreed')
      const holder = toHex(outcome.agreement.publicKey) === toHex(bob.keyPair.publicKey) ? bob : carol
      for (const store of [alice.store, holder.store]) {
        expect(await store.getByHash(blockHash(crypto, outcome.proposal))).toBeDefined()
        expect(await store.getByHash(blockHash(crypto, outcome.agreement))).toBeDefined()
      }
    }
    expect(alice.node.head()).toMatchObject({ sequenceNumber: 4, balance: 965 })
    expect(bob.node.head()).toMatchObject({ sequenceNumber: 3, balance: 1_015 })
    expect(alice.node.available()).toBe(965)
    // Bob read one frame: both proposals to him and the one to carol between them, in one batch.
    expect(bob.node.stats.framesReceived).toBe(1)
  })

  it('sends a counterparty only the blocks it lacks: a later frame starts after the last block it saw', async () => {
    const { net, peers } = await anchoredPeers(crypto, 2, { seed: 2 })
    const [alice, bob] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    const frames: number[][] = []
    const request = alice.sim.request.bind(alice.sim)
    alice.sim.request = (peer, protocol, data, options) => {
      frames.push(decodeFrame(data))
      return request(peer, protocol, data, options)
    }
    expect(statuses(await net.runUntil(alice.node.transfer([{ to: bob.keyPair.publicKey, amount: 1 }])))).toEqual(['agreed'])
    expect(statuses(await net.runUntil(alice.node.transfer([{ to: bob.keyPair.publicKey, amount: 2 }])))).toEqual(['agreed'])
    // Frame 1: alice's genesis and proposal (blocks 1–2); frame 2: only her second proposal (block 3).
    expect(frames).toEqual([[1, 2], [3]])
  })

  it('refuses before signing what the chain may not spend, to itself, or to a non-member', async () => {
    const { net, peers } = await anchoredPeers(crypto, 2, { seed: 3, balance: 50 })
    const [alice, bob] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    const before = alice.node.head()
    const outcomes = await net.runUntil(
      alice.node.transfer([
        { to: bob.keyPair.publicKey, amount: 51 },
        { to: alice.keyPair.publicKey, amount: 1 },
        { to: keyPairOf(crypto, 999).publicKey, amount: 1 },
        { to: bob.keyPair.publicKey, amount: 0 },
      ]),
    )
    expect(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.error.code)).toEqual([
      TrustChainErrorCode.INSUFFICIENT_FUNDS,
      TrustChainErrorCode.INVALID_INPUT,
      TrustChainErrorCode.INVALID_INPUT,
      TrustChainErrorCode.INVALID_INPUT,
    ])
    expect(alice.node.head()).toEqual(before)
    // What is spent but not yet certified counts: 30 then 30 more of 50.
    const next = await net.runUntil(
      alice.node.transfer([
        { to: bob.keyPair.publicKey, amount: 30 },
        { to: bob.keyPair.publicKey, amount: 30 },
      ]),
    )
    expect(statuses(next)).toEqual(['agreed', 'rejected'])
  })

  it('a refused proposal is voided with the counterparty’s refusal: the amount comes back and nothing moved', async () => {
    const { net, peers } = await anchoredPeers(crypto, 2, {
      seed: 4,
      node: { shouldSign: (proposal) => (proposal.payload as { amount: number }).amount < 100 },
    })
    const [alice, bob] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    const [outcome] = await net.runUntil(alice.node.transfer([{ to: bob.keyPair.publicKey, amount: 100 }]))
    if (outcome?.status !== 'refused') throw new Error(`expected refused, got ${outcome?.status}`)
    expect(outcome.code).toBe(TrustChainErrorCode.PROPOSAL_REJECTED)
    expect(outcome.void).toMatchObject({ type: 'void', linkSequenceNumber: outcome.proposal.sequenceNumber, payload: { amount: 100, balance: 1_000 } })
    expect(alice.node.head().balance).toBe(1_000)
    expect(bob.node.head()).toMatchObject({ sequenceNumber: 1, balance: 1_000 })
    // Asked again (a retry, a restart that lost the answer), bob answers with the same refusal, never an agreement.
    const again = await net.runUntil(
      alice.sim.request(
        toHex(bob.keyPair.publicKey),
        TRANSFER_PROTOCOL,
        encodeExchangeRequest({ type: 'transfers', round: 0, blocks: [encodeBlock(outcome.proposal)] }),
      ),
    )
    const answer = decodeExchangeResponse(again)
    expect(answer.type === 'answers' && answer.answers.map((a) => 'refusal' in a)).toEqual([true])
  })

  it('a counterparty that does not answer leaves the transfer pending; it settles once it answers', async () => {
    const { net, peers } = await anchoredPeers(crypto, 2, { seed: 5, node: { answerTimeoutMs: 1_000 } })
    const [alice, bob] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    const settled: string[] = []
    alice.node.onSettled((outcome) => settled.push(outcome.status))
    net.partition([[toHex(alice.keyPair.publicKey)], [toHex(bob.keyPair.publicKey)]])
    const [outcome] = await net.runUntil(alice.node.transfer([{ to: bob.keyPair.publicKey, amount: 7 }]))
    expect(outcome?.status).toBe('pending')
    expect(alice.node.outstanding()).toBe(1)
    net.heal()
    await net.run({ until: net.clock.now() + 30_000 })
    expect(settled).toEqual(['agreed'])
    expect(alice.node.outstanding()).toBe(0)
  })

  it('compares a frame with the round of the proposer’s own consensus when the anchors speak for several (roundOf)', async () => {
    // The payer's consensus (its solar system) is at round 5; the payee's own is at round 1. The payee follows the
    // payer's too: with `roundOf` it knows it holds round 5 of it, without it it waits for round 5 of its own.
    const agreed = async (withRoundOf: boolean) => {
      const { net, peers } = await anchoredPeers(crypto, 2, {
        seed: 8,
        node: { answerTimeoutMs: 1_000 },
        anchorsFor: (i, shared) => {
          if (i === 0) return { round: () => 5, anchorOf: (key) => shared.anchorOf(key) }
          const roundOf = { roundOf: (key: Uint8Array) => (toHex(key) === toHex(peers[0]?.keyPair.publicKey ?? new Uint8Array()) ? 5 : 1) }
          return { round: () => 1, anchorOf: (key) => shared.anchorOf(key), ...(withRoundOf ? roundOf : {}) }
        },
      })
      const [payer, payee] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
      const [outcome] = await net.runUntil(payer.node.transfer([{ to: payee.keyPair.publicKey, amount: 3 }]))
      return outcome?.status
    }
    expect(await agreed(true)).toBe('agreed')
    expect(await agreed(false)).toBe('pending')
  })

  it('after a restart, proposals without an answer go out again', async () => {
    const { net, peers, restart } = await anchoredPeers(crypto, 2, { seed: 6, node: { answerTimeoutMs: 500 } })
    const [alice, bob] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    net.partition([[toHex(alice.keyPair.publicKey)], [toHex(bob.keyPair.publicKey)]])
    const [outcome] = await net.runUntil(alice.node.transfer([{ to: bob.keyPair.publicKey, amount: 7 }]))
    expect(outcome?.status).toBe('pending')
    await restart(alice)
    expect(alice.node.outstanding()).toBe(1)
    net.heal()
    await net.run({ until: net.clock.now() + 30_000 })
    expect(alice.node.outstanding()).toBe(0)
    const linked = await alice.store.getLinked(alice.keyPair.publicKey, 2)
    expect(linked.map((block) => toHex(block.publicKey))).toEqual([toHex(bob.keyPair.publicKey)])
  })

  it('a proposer that overspends what was certified, states a false balance or withholds blocks gets no agreement', async () => {
    const { net, anchors, peers } = await anchoredPeers(crypto, 2, { seed: 7, balance: 100 })
    const [alice, bob] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    const genesis = (await alice.store.get(alice.keyPair.publicKey, 1)) as HalfBlock
    // Certified: alice's chain up to its genesis, of whose 100 only 50 may be spent (the rest not final yet, say).
    anchors.certify(crypto, genesis, 50)
    const author = { crypto, keyPair: alice.keyPair }
    const head = { sequenceNumber: 1, hash: blockHash(crypto, genesis), balance: 100, timestamp: 1 }
    const first = createProposal(author, head, {
      counterparty: keyPairOf(crypto, 999).publicKey,
      payload: { kind: 'transfer', amount: 30, balance: 70 },
      timestamp: 2,
    })
    const toBob = (payload: { amount: number; balance: number }) =>
      signBlock(crypto, alice.keyPair, {
        publicKey: alice.keyPair.publicKey,
        sequenceNumber: 3,
        linkPublicKey: bob.keyPair.publicKey,
        linkSequenceNumber: 0,
        previousHash: blockHash(crypto, first),
        timestamp: 3,
        type: 'tx',
        payload: { kind: 'transfer', ...payload },
      })
    const send = (blocks: HalfBlock[]) =>
      net
        .runUntil(
          alice.sim.request(
            toHex(bob.keyPair.publicKey),
            TRANSFER_PROTOCOL,
            encodeExchangeRequest({ type: 'transfers', round: 1, blocks: blocks.map((b) => encodeBlock(b)) }),
          ),
        )
        .then(decodeExchangeResponse)
    // A false running balance (50 left after paying 30 of 70) is declined outright: nothing signed.
    expect(await send([first, toBob({ amount: 30, balance: 50 })])).toMatchObject({ type: 'declined' })
    // Withheld: the proposal without the block before it. Bob asks for what it lacks and signs nothing.
    expect(await send([toBob({ amount: 30, balance: 40 })])).toMatchObject({ type: 'resend', from: 2, to: 3 })
    // 30 + 30 of a certified 50: refused, with a signed refusal alice can void it with.
    const overdraft = await send([first, toBob({ amount: 30, balance: 40 })])
    expect(overdraft.type === 'answers' && overdraft.answers.map((a) => 'refusal' in a && a.code)).toEqual([TrustChainErrorCode.INSUFFICIENT_FUNDS])
    expect(bob.node.head().sequenceNumber).toBe(1)
  })

  it('200 concurrent transfers to one counterparty: every refused one is voided, the balance moves by the agreed amounts only', async () => {
    let seen = 0
    const { net, peers } = await anchoredPeers(crypto, 2, {
      seed: 8,
      // Bob refuses every third proposal it sees.
      node: { shouldSign: () => ++seen % 3 !== 0 },
    })
    const [alice, bob] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    const calls = Array.from({ length: 200 }, () => alice.node.transfer([{ to: bob.keyPair.publicKey, amount: 1 }]))
    const outcomes = (await net.runUntil(Promise.all(calls))).flat()
    const agreed = outcomes.filter((outcome) => outcome.status === 'agreed').length
    const refused = outcomes.filter((outcome) => outcome.status === 'refused').length
    expect(agreed + refused).toBe(200)
    expect(refused).toBeGreaterThan(0)
    expect(alice.node.head().balance).toBe(1_000 - agreed)
    expect(bob.node.head().balance).toBe(1_000 + agreed)
    // Far fewer frames than transfers: the ones queued while a frame was in flight went together.
    expect(bob.node.stats.framesReceived).toBeLessThan(20)
  })

  it('BUSY before signing when proposals wait on a counterparty that does not answer; a transfer goes through once they drain', async () => {
    const counting = countingSignatures(crypto)
    const { net, peers } = await anchoredPeers(crypto, 2, { seed: 9, crypto: counting.crypto, node: { maxOutstanding: 3, answerTimeoutMs: 1_000 } })
    const [alice, bob] = peers as [NonNullable<(typeof peers)[0]>, NonNullable<(typeof peers)[0]>]
    const toBob = (amount: number) => ({ to: bob.keyPair.publicKey, amount })
    let frames = 0
    const request = alice.sim.request.bind(alice.sim)
    alice.sim.request = (peer, protocol, data, options) => {
      frames++
      return request(peer, protocol, data, options)
    }
    // Bob is cut off: alice's proposals to him stay queued in his outbox, unanswered.
    net.partition([[toHex(alice.keyPair.publicKey)], [toHex(bob.keyPair.publicKey)]])
    expect(statuses(await net.runUntil(alice.node.transfer([toBob(1), toBob(2)])))).toEqual(['pending', 'pending'])
    // A batch that reaches the bound: the order that fits is signed, the one past it is refused.
    const bound = await net.runUntil(alice.node.transfer([toBob(3), toBob(4)]))
    expect(bound.map((outcome) => (outcome.status === 'rejected' ? outcome.error.code : outcome.status))).toEqual(['pending', TrustChainErrorCode.BUSY])
    expect(alice.node.outstanding()).toBe(3)

    const head = alice.node.head()
    const available = alice.node.available()
    const signs = counting.counts().signs
    const sent = frames
    const [busy] = await net.runUntil(alice.node.transfer([toBob(5)]))
    if (busy?.status !== 'rejected') throw new Error(`expected rejected, got ${busy?.status}`)
    expect(busy.error.code).toBe(TrustChainErrorCode.BUSY)
    expect(busy.error.detail.retryAfterMs).toBeGreaterThan(0)
    // Nothing signed, stored, queued or sent: the head, the balance and what may be spent are as before.
    expect(counting.counts().signs).toBe(signs)
    expect(alice.node.outstanding()).toBe(3)
    expect(alice.node.head()).toEqual(head)
    expect(alice.node.available()).toBe(available)
    expect(await alice.store.latest(alice.keyPair.publicKey)).toMatchObject({ sequenceNumber: head.sequenceNumber })
    expect(frames).toBe(sent)

    // Bob is reachable again: the queued proposals go out on the outbox's next retry and are answered.
    net.heal()
    await net.run({ until: net.clock.now() + 30_000 })
    expect(alice.node.outstanding()).toBe(0)
    expect(bob.node.head().balance).toBe(1_000 + 1 + 2 + 3)
    const [after] = await net.runUntil(alice.node.transfer([toBob(5)]))
    expect(after?.status).toBe('agreed')
    expect(alice.node.head().balance).toBe(1_000 - 1 - 2 - 3 - 5)
  })
})

/** The sequence numbers of the blocks a transfers frame carries. */
function decodeFrame(data: Uint8Array): number[] {
  const request = decodeExchangeRequest(data)
  return request.type === 'transfers' ? request.blocks.map((bytes) => decodeBlock(crypto, bytes).sequenceNumber) : []
}
