import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  createProposal,
  encodeBlock,
  type HalfBlock,
  isTrustChainError,
  signBlock,
  type Transaction,
  transferPayload,
  TrustChainErrorCode,
} from '../src/index.js'
import { decodeMessage, encodeMessage, RequestCodec, ResponseCodec } from '../src/wire.js'
import { keyPairOf, seededRandom, settle, TestChain, testCrypto } from './helpers.js'
import { checkOwnChain, type SimPeer, simPeers } from './protocol-harness.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const hex = (block: HalfBlock) => toHex(blockHash(crypto, block))

describe('a pair of nodes', () => {
  it('propose -> validate -> shouldSign -> agreement; both halves in both stores, crawled history included', async () => {
    const { peers, run } = await simPeers(crypto, 2, { seed: 1 })
    const [alice, bob] = peers as [SimPeer, SimPeer]
    const seen: Transaction[] = []
    bob.node.onTransaction((t) => seen.push(t))
    const done = settle(alice.node.propose(bob.node.publicKey, { transfer: 40 }))
    await run()
    const result = await done
    expect(result.ok).toBe(true)
    if (!result.ok) return
    const { proposal, agreement } = result.value
    expect(proposal.payload).toEqual({ kind: 'transfer', amount: 40, balance: 960 })
    expect(agreement.payload).toEqual({ kind: 'transfer', amount: 40, balance: 1_040 })
    for (const peer of peers) {
      expect((await peer.store.getByHash(blockHash(crypto, proposal)))?.sequenceNumber).toBe(2)
      expect((await peer.store.getByHash(blockHash(crypto, agreement)))?.sequenceNumber).toBe(2)
    }
    // Bob crawled Alice's genesis to check her balance before signing.
    expect(await bob.store.get(alice.node.publicKey, 1)).toBeDefined()
    expect(seen.map((t) => hex(t.agreement))).toEqual([hex(agreement)])
    expect(alice.node.head().balance).toBe(960)
    expect(bob.node.head().balance).toBe(1_040)
    await checkOwnChain(crypto, alice)
    await checkOwnChain(crypto, bob)
  })

  it('a refusing policy yields PROPOSAL_REJECTED; an unreachable counterparty yields PROPOSAL_TIMEOUT after retries', async () => {
    const refusing = await simPeers(crypto, 2, { seed: 2 }, { shouldSign: () => false })
    const refused = settle(refusing.peers[0]!.node.propose(refusing.peers[1]!.node.publicKey, { transfer: 1 }))
    await refusing.run()
    const r = await refused
    expect(!r.ok && isTrustChainError(r.error, TrustChainErrorCode.PROPOSAL_REJECTED)).toBe(true)

    const lossy = await simPeers(crypto, 2, { seed: 3, lossRate: 1 }, { deadlineMs: 5_000 })
    const start = lossy.net.clock.now()
    const lost = settle(lossy.peers[0]!.node.propose(lossy.peers[1]!.node.publicKey, { transfer: 1 }))
    await lossy.run()
    const l = await lost
    expect(!l.ok && isTrustChainError(l.error, TrustChainErrorCode.PROPOSAL_TIMEOUT)).toBe(true)
    expect(lossy.net.clock.now() - start).toBeGreaterThanOrEqual(5_000)
    expect(lossy.sim.faults.lost).toBeGreaterThan(3) // it retried
  })

  it('refuses bad proposals of its own (over the balance, payload not a transaction, bad key) without touching the chain', async () => {
    const { peers, run } = await simPeers(crypto, 2, { seed: 4 }, { balance: 5 })
    const [alice, bob] = peers as [SimPeer, SimPeer]
    const attempts = [
      alice.node.propose(bob.node.publicKey, { transfer: 6 }),
      alice.node.propose(bob.node.publicKey, { payload: 'not a map with a kind' }),
      alice.node.propose(bob.node.publicKey, { payload: { kind: 'transfer', amount: -1, balance: 0 } }),
      // A transfer whose stated balance is not the chain's: once, this stopped the node.
      alice.node.propose(bob.node.publicKey, { payload: { kind: 'transfer', amount: 5, balance: 7_777 } }),
      alice.node.propose(bob.node.publicKey, { payload: { kind: 'blob', data: new Uint8Array(9_000) } }),
      alice.node.propose(new Uint8Array(31), { transfer: 1 }),
      alice.node.propose(alice.node.publicKey, { transfer: 1 }),
    ].map(settle)
    await run()
    for (const attempt of await Promise.all(attempts)) {
      expect(attempt.ok).toBe(false)
      expect(!attempt.ok && isTrustChainError(attempt.error)).toBe(true)
    }
    expect(alice.node.head().sequenceNumber).toBe(1)
    // And the node still works.
    const fine = settle(alice.node.propose(bob.node.publicKey, { transfer: 5 }))
    await run()
    expect((await fine).ok).toBe(true)
  })

  it('answers malformed, forged, misaddressed and replayed proposals with typed rejections and keeps working', async () => {
    const { sim, net, peers, run } = await simPeers(crypto, 2, { seed: 5 })
    const [alice, bob] = peers as [SimPeer, SimPeer]
    const mallory = keyPairOf(crypto, 66)
    const probe = await sim.probe(mallory)
    const ask = async (bytes: Uint8Array) => {
      const answer = settle(probe.request(toHex(bob.node.publicKey), bytes))
      await run()
      const a = await answer
      if (!a.ok) throw a.error
      return decodeMessage(ResponseCodec, a.value)
    }
    const bobHead = bob.node.head()
    const rejectedCode = (response: Awaited<ReturnType<typeof ask>>) => (response.type === 'rejected' ? response.code : response.type)

    expect(rejectedCode(await ask(new Uint8Array([0xff, 0x00])))).toBe(TrustChainErrorCode.MALFORMED_MESSAGE)
    expect(rejectedCode(await ask(encodeMessage(RequestCodec, { type: 'proposal', block: new Uint8Array(40_000) })))).toBe(TrustChainErrorCode.BLOCK_TOO_LARGE)
    expect(rejectedCode(await ask(encodeMessage(RequestCodec, { type: 'proposal', block: encodeCanonical([1]) })))).toBe(TrustChainErrorCode.MALFORMED_BLOCK)
    const honest = createProposal(
      { crypto, keyPair: mallory },
      { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0, timestamp: 0 },
      {
        counterparty: bob.node.publicKey,
        payload: { kind: 'note', text: 'hello' },
        timestamp: Math.floor(net.clock.now()),
      },
    )
    const { signature: _s, ...unsigned } = honest
    const forged = encodeCanonical([encodeCanonical(unsigned), new Uint8Array(64).fill(1)])
    expect(rejectedCode(await ask(encodeMessage(RequestCodec, { type: 'proposal', block: forged })))).toBe(TrustChainErrorCode.INVALID_BLOCK)
    const toAlice = signBlock(crypto, mallory, { ...unsigned, linkPublicKey: alice.node.publicKey })
    expect(rejectedCode(await ask(encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(toAlice) })))).toBe(TrustChainErrorCode.PROPOSAL_REJECTED)
    const overdrawn = signBlock(crypto, mallory, { ...unsigned, payload: { kind: 'transfer', amount: 5, balance: 0 } })
    expect(rejectedCode(await ask(encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(overdrawn) })))).toBe(TrustChainErrorCode.INVALID_BLOCK)
    expect(bob.node.head()).toEqual(bobHead) // nothing signed so far

    // An honest note is signed once; replaying it gets the same agreement back, never a second one.
    const first = await ask(encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(honest) }))
    const again = await ask(encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(honest) }))
    expect(first.type).toBe('agreement')
    expect(again).toEqual(first)
    expect(bob.node.head().sequenceNumber).toBe(bobHead.sequenceNumber + 1)
    expect((await bob.store.getLinked(mallory.publicKey, 1)).length).toBe(1)

    // And Bob still works with Alice.
    const later = settle(alice.node.propose(bob.node.publicKey, { transfer: 1 }))
    await run()
    expect((await later).ok).toBe(true)
    expect(await bob.store.fraudProofs()).toEqual([])
  })

  it('a forked proposal is refused, never answered with the agreement to the block it replaces', async () => {
    const { sim, net, peers, run } = await simPeers(crypto, 2, { seed: 6 })
    const bob = peers[1] as SimPeer
    const mallory = keyPairOf(crypto, 68)
    const probe = await sim.probe(mallory)
    const ask = async (block: HalfBlock) => {
      const answer = settle(probe.request(toHex(bob.node.publicKey), encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(block) })))
      await run()
      const a = await answer
      if (!a.ok) throw a.error
      return decodeMessage(ResponseCodec, a.value)
    }
    const at = (house: string) =>
      createProposal(
        { crypto, keyPair: mallory },
        { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0, timestamp: 0 },
        {
          counterparty: bob.node.publicKey,
          payload: { kind: 'deed', house },
          timestamp: Math.floor(net.clock.now()),
        },
      )
    const small = at('small')
    const castle = at('castle')
    expect((await ask(small)).type).toBe('agreement')
    const fork = await ask(castle)
    expect(fork).toMatchObject({ type: 'rejected', code: TrustChainErrorCode.INVALID_BLOCK })
    expect(fork.type === 'rejected' && fork.reasons).toContain('double-sign')
    // The honest replay still gets its agreement, and Bob signed once.
    expect((await ask(small)).type).toBe('agreement')
    expect((await bob.store.getLinked(mallory.publicKey, 1)).length).toBe(1)
    expect((await bob.store.fraudProofs(mallory.publicKey)).map((proof) => proof.kind)).toEqual(['double-sign'])
  })

  it('with a clock-skew limit, refuses proposals stamped too far in the future', async () => {
    const { sim, net, peers, run } = await simPeers(crypto, 2, { seed: 7 }, { maxClockSkewMs: 60_000 })
    const bob = peers[1] as SimPeer
    const mallory = keyPairOf(crypto, 67)
    const probe = await sim.probe(mallory)
    const propose = async (timestamp: number) => {
      const block = createProposal(
        { crypto, keyPair: mallory },
        { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0, timestamp: 0 },
        {
          counterparty: bob.node.publicKey,
          payload: { kind: 'note', at: timestamp },
          timestamp,
        },
      )
      const answer = settle(probe.request(toHex(bob.node.publicKey), encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(block) })))
      await run()
      const a = await answer
      if (!a.ok) throw a.error
      return decodeMessage(ResponseCodec, a.value)
    }
    expect(await propose(Math.floor(net.clock.now()) + 3_600_000)).toMatchObject({ type: 'rejected', reasons: ['timestamp-in-future'] })
    expect((await propose(Math.floor(net.clock.now()) + 1_000)).type).toBe('agreement')
  })

  it('by default refuses to countersign a proposal stamped beyond its clock plus 60 s, so its chain cannot be pushed into the future', async () => {
    const { sim, net, peers, run } = await simPeers(crypto, 2, { seed: 8 })
    const bob = peers[1] as SimPeer
    const mallory = keyPairOf(crypto, 69)
    const probe = await sim.probe(mallory)
    const propose = async (timestamp: number) => {
      const block = createProposal(
        { crypto, keyPair: mallory },
        { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0, timestamp: 0 },
        {
          counterparty: bob.node.publicKey,
          payload: { kind: 'note', at: timestamp },
          timestamp,
        },
      )
      const answer = settle(probe.request(toHex(bob.node.publicKey), encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(block) })))
      await run()
      const a = await answer
      if (!a.ok) throw a.error
      return decodeMessage(ResponseCodec, a.value)
    }
    const before = bob.node.head()
    expect(await propose(Number.MAX_SAFE_INTEGER)).toMatchObject({
      type: 'rejected',
      code: TrustChainErrorCode.INVALID_BLOCK,
      reasons: ['timestamp-in-future'],
    })
    expect(await propose(Math.floor(net.clock.now()) + 61_000)).toMatchObject({ type: 'rejected', reasons: ['timestamp-in-future'] })
    expect(bob.node.head()).toEqual(before)
    expect((await propose(Math.floor(net.clock.now()) + 59_000)).type).toBe('agreement')
    expect(bob.node.head().timestamp).toBeLessThanOrEqual(net.clock.now() + 60_000)
  })

  it('a proposer that never answers our crawl gets a refusal once the session expires, and holds nothing after', async () => {
    const { sim, net, peers, run } = await simPeers(crypto, 2, { seed: 9 }, { deadlineMs: 5_000 })
    const bob = peers[1] as SimPeer
    const probes = []
    for (const n of [70, 71, 72]) {
      const keyPair = keyPairOf(crypto, n)
      const probe = await sim.probe(keyPair)
      probe.handle(() => new Promise<Uint8Array>(() => {})) // never answers
      probes.push({ keyPair, probe })
    }
    const answers = probes.map(({ keyPair, probe }) => {
      // Block 5 of a chain Bob has never seen: he crawls the proposer before deciding.
      const block = createProposal(
        { crypto, keyPair },
        { sequenceNumber: 4, hash: new Uint8Array(32).fill(1), balance: 0, timestamp: 1 },
        {
          counterparty: bob.node.publicKey,
          payload: { kind: 'note' },
          timestamp: Math.floor(net.clock.now()),
        },
      )
      return settle(probe.request(toHex(bob.node.publicKey), encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(block) })))
    })
    await run()
    for (const answer of await Promise.all(answers)) {
      expect(answer.ok).toBe(true)
      if (answer.ok) expect(decodeMessage(ResponseCodec, answer.value).type).toMatch(/^(agreement|rejected)$/)
    }
    expect(bob.node.idle()).toBe(true)
  })

  it('stop() then start(): a proposal cut off by the stop is answered when asked again', async () => {
    const { sim, net, peers, run } = await simPeers(crypto, 2, { seed: 10 })
    const bob = peers[1] as SimPeer
    const mallory = new TestChain(crypto, keyPairOf(crypto, 73))
    const genesis = mallory.genesis(100, 1)
    const proposal = createProposal(mallory.author, mallory.head, {
      counterparty: bob.node.publicKey,
      payload: transferPayload(mallory.head, 1),
      timestamp: Math.floor(net.clock.now()),
    })
    const probe = await sim.probe(mallory.keyPair)
    let release: (() => void) | undefined
    let crawls = 0
    const blocks = encodeMessage(ResponseCodec, { type: 'blocks', blocks: [encodeBlock(genesis)] })
    // The first crawl is answered only once Bob has been stopped; later ones at once.
    probe.handle(() => (crawls++ === 0 ? new Promise<Uint8Array>((resolve) => (release = () => resolve(blocks))) : Promise.resolve(blocks)))
    const ask = () => settle(probe.request(toHex(bob.node.publicKey), encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(proposal) })))
    const first = ask()
    // Run the network only until Bob's crawl reaches Mallory (a full run would time the crawl out and move on).
    await sim.run(
      () => !bob.node.idle(),
      () => release !== undefined,
    )
    expect(release).toBeDefined()
    await bob.node.stop()
    await run()
    const cut = await first
    expect(cut.ok && decodeMessage(ResponseCodec, cut.value)).toMatchObject({ type: 'rejected', code: TrustChainErrorCode.NODE_STOPPED })
    release?.() // the crawl's answer arrives while Bob is stopped, and is dropped
    await run()
    await bob.node.start()
    const again = ask()
    await run()
    const answer = await again
    expect(answer.ok && decodeMessage(ResponseCodec, answer.value).type).toBe('agreement')
  })

  it('by default countersigns only what it could check in full: not a proposal from an unknown stretch of chain', async () => {
    const { sim, net, peers, run } = await simPeers(crypto, 2, { seed: 11 })
    const bob = peers[1] as SimPeer
    const stranger = keyPairOf(crypto, 74)
    const probe = await sim.probe(stranger)
    probe.handle(async () => encodeMessage(ResponseCodec, { type: 'blocks', blocks: [] })) // serves nothing when crawled
    const block = createProposal(
      { crypto, keyPair: stranger },
      { sequenceNumber: 9, hash: new Uint8Array(32).fill(3), balance: 0, timestamp: 1 },
      {
        counterparty: bob.node.publicKey,
        payload: { kind: 'note' },
        timestamp: Math.floor(net.clock.now()),
      },
    )
    const answer = settle(probe.request(toHex(bob.node.publicKey), encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(block) })))
    await run()
    const a = await answer
    expect(a.ok && decodeMessage(ResponseCodec, a.value)).toMatchObject({ type: 'rejected', code: TrustChainErrorCode.PROPOSAL_REJECTED, reasons: ['policy'] })
    expect(bob.node.head().sequenceNumber).toBe(1)
  })

  it('crawls ranges, negative bounds counting from the end', async () => {
    const { peers, run } = await simPeers(crypto, 2, { seed: 6 })
    const [alice, bob] = peers as [SimPeer, SimPeer]
    for (let i = 0; i < 5; i++) {
      const p = alice.node.propose(bob.node.publicKey, { transfer: 1 })
      await run()
      await p
    }
    const crawl = async (from: number, to: number) => {
      const result = settle(bob.node.crawl(alice.node.publicKey, alice.node.publicKey, from, to))
      await run()
      const r = await result
      if (!r.ok) throw r.error
      return r.value.map((o) => o.block?.sequenceNumber)
    }
    expect(await crawl(-2, -1)).toEqual([5, 6])
    expect(await crawl(2, 3)).toEqual([2, 3])
    expect(await crawl(-100, 2)).toEqual([1, 2])
    expect(await crawl(4, 1)).toEqual([])
  })
  it('crawls what a fragment depends on: an agreement to a proposal from a chain the crawler never saw', async () => {
    const { peers, run, join } = await simPeers(crypto, 2, { seed: 8 })
    const [carol, bob] = peers as [SimPeer, SimPeer]
    for (let i = 0; i < 3; i++) {
      const p = carol.node.propose(bob.node.publicKey, { transfer: 1 })
      await run()
      await p
    }
    // Alice joins afterwards: she saw none of Carol's blocks, so Bob's agreements depend on what she lacks.
    const { node: alice, store: aliceStore } = await join(keyPairOf(crypto, 90), 10)
    const crawled = settle(alice.crawl(bob.node.publicKey, bob.node.publicKey, 1, -1))
    await run()
    const result = await crawled
    if (!result.ok) throw result.error
    expect(result.value.map((outcome) => [outcome.block?.sequenceNumber, outcome.status])).toEqual([1, 2, 3, 4].map((seq) => [seq, 'stored']))
    expect((await aliceStore.latest(bob.node.publicKey))?.sequenceNumber).toBe(4)
    // Carol's proposals came with them, from Bob, who had checked them before he signed.
    expect((await aliceStore.latest(carol.node.publicKey))?.sequenceNumber).toBe(4)
    await alice.stop()
  })
})

describe('many peers on a lossy network', () => {
  async function scenario(seed: number) {
    const count = 8
    const { sim, net, peers, run } = await simPeers(crypto, count, { seed, lossRate: 0.1, duplicateRate: 0.15, minDelayMs: 1, maxDelayMs: 80 })
    const random = seededRandom(seed * 7 + 1)
    const proposals: Promise<{ ok: boolean }>[] = []
    // Every peer proposes to random others, all at once: proposals and agreements interleave in every chain.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < count; i++) {
        let j = Math.floor(random() * (count - 1))
        if (j >= i) j++
        proposals.push(settle(peers[i]!.node.propose(peers[j]!.node.publicKey, { transfer: 1 + Math.floor(random() * 20) })))
      }
    }
    await run()
    const results = await Promise.all(proposals)
    return { sim, net, peers, results }
  }

  it('completes concurrent proposals under drops, duplicates and reordering, with whole chains and conserved value', async () => {
    const { sim, net, peers, results } = await scenario(11)
    expect(results.filter((r) => !r.ok)).toEqual([])
    // Requests and answers were lost and requests delivered twice; broadcasts were lost.
    expect(sim.faults.lost).toBeGreaterThan(0)
    expect(sim.faults.duplicated).toBeGreaterThan(0)
    expect(net.stats.lost).toBeGreaterThan(0)
    let total = 0
    for (const peer of peers) {
      await checkOwnChain(crypto, peer)
      expect(await peer.store.fraudProofs()).toEqual([])
      total += peer.node.head().balance
      // Every proposal this peer answered was answered exactly once.
      const own = await peer.store.range(peer.node.publicKey, 1, peer.node.head().sequenceNumber)
      for (const block of own.filter((b) => b.linkSequenceNumber > 0)) {
        const answers = await peer.store.getLinked(block.linkPublicKey, block.linkSequenceNumber)
        expect(answers.filter((a) => toHex(a.publicKey) === toHex(peer.node.publicKey)).length).toBe(1)
      }
    }
    expect(total).toBe(8 * 1_000)
    expect(peers.reduce((sum, p) => sum + p.node.head().sequenceNumber - 1, 0)).toBe(2 * 32)
  })

  it('replays exactly from its seed', async () => {
    const heads = async () => (await scenario(12)).peers.map((p) => toHex(p.node.head().hash))
    expect(await heads()).toEqual(await heads())
  })
})
