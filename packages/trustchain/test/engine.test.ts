import { type Crypto, toHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  createProposal,
  DEFAULT_RETRY_POLICY,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
  isTrustChainError,
  TrustChainError,
  TrustChainErrorCode,
  ValidationLevel,
  ValidationReason,
} from '../src/index.js'
import { type EngineConfig, type EngineEffect, type EngineState, initialEngineState, step, type StepResult } from '../src/engine.js'
import { keyPairOf, testCrypto } from './helpers.js'

let crypto: Crypto
let config: EngineConfig
let state: EngineState
beforeAll(async () => {
  crypto = await testCrypto()
  config = { crypto, keyPair: keyPairOf(crypto, 1), retry: { ...DEFAULT_RETRY_POLICY, initialDelayMs: 100, deadlineMs: 1_000 }, maxCrawlBlocks: 50 }
  state = initialEngineState({ publicKey: config.keyPair.publicKey, head: { ...EMPTY_CHAIN_HEAD, balance: 100 }, seed: 7 })
})

const types = (effects: readonly EngineEffect[]) => effects.map((effect) => effect.type)
const bob = () => keyPairOf(crypto, 2)

/** Steps the ledger's refusal of the own block that `appended` (its first effect) asked to store. */
function ledgerRefuses(appended: StepResult): { error: TrustChainError; refused: StepResult } {
  const ingest = appended.effects[0] as Extract<EngineEffect, { type: 'ingest' }>
  const error = new TrustChainError(TrustChainErrorCode.INVALID_BLOCK, 'invalid block: timestamp-in-future', { reasons: ['timestamp-in-future'] })
  const refused = step(config, appended.state, {
    type: 'ingested',
    now: 11,
    purpose: ingest.purpose,
    outcomes: [{ status: 'rejected', block: ingest.blocks[0], error, validation: undefined }],
  })
  return { error, refused }
}

describe('the pure engine', () => {
  it('propose: appends (persist before send), requests, and asks to be woken for the retry', () => {
    const { state: next, effects } = step(config, state, { type: 'propose', now: 10, requestId: 1, counterparty: bob().publicKey, content: { transfer: 30 } })
    expect(types(effects)).toEqual(['ingest', 'request', 'wake'])
    expect(next.head.sequenceNumber).toBe(1)
    expect(next.head.balance).toBe(70)
    expect(next.proposals.size).toBe(1)
    const wake = effects[2] as Extract<EngineEffect, { type: 'wake' }>
    expect(wake.at).toBeGreaterThanOrEqual(10 + 75)
    expect(wake.at).toBeLessThanOrEqual(10 + 125)
    // Pure: the same state and event give the same result.
    expect(step(config, state, { type: 'propose', now: 10, requestId: 1, counterparty: bob().publicKey, content: { transfer: 30 } })).toEqual({
      state: next,
      effects,
    })
  })

  it('retries with growing backoff until the deadline, then fails the proposal with PROPOSAL_TIMEOUT', () => {
    let current = step(config, state, { type: 'propose', now: 0, requestId: 1, counterparty: bob().publicKey, content: { transfer: 1 } }).state
    const retries: number[] = []
    let now = 0
    let settled: EngineEffect | undefined
    while (settled === undefined && now < 5_000) {
      const pending = [...current.proposals.values()][0]!
      now = Math.min(pending.nextAttemptAt, pending.deadline)
      const result = step(config, current, { type: 'tick', now })
      current = result.state
      if (result.effects.some((e) => e.type === 'request')) retries.push(now)
      settled = result.effects.find((e) => e.type === 'settle')
    }
    expect(settled?.type === 'settle' && !settled.settlement.ok && isTrustChainError(settled.settlement.error, TrustChainErrorCode.PROPOSAL_TIMEOUT)).toBe(true)
    expect(now).toBe(1_000)
    const gaps = retries.map((t, i) => t - (i === 0 ? 0 : retries[i - 1]!))
    expect(gaps.length).toBeGreaterThanOrEqual(3)
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!) // exponential, despite jitter of 25%
    expect(current.proposals.size).toBe(0)
  })

  it('a refused transfer (over the balance) settles at once and leaves the chain alone', () => {
    const { state: next, effects } = step(config, state, { type: 'propose', now: 0, requestId: 9, counterparty: bob().publicKey, content: { transfer: 101 } })
    expect(types(effects)).toEqual(['settle'])
    expect(next).toBe(state)
  })

  it('duplicates of a proposal being decided join its session; all copies get the one answer', () => {
    const proposer = keyPairOf(crypto, 3)
    const proposal = createProposal({ crypto, keyPair: proposer }, EMPTY_CHAIN_HEAD, {
      counterparty: config.keyPair.publicKey,
      payload: { kind: 'note' },
      timestamp: 5,
    })
    const from = toHex(proposer.publicKey)
    const first = step(config, state, { type: 'proposal-request', now: 1, from, replyId: 1, proposal })
    expect(types(first.effects)).toEqual(['ingest', 'wake']) // woken at the session's deadline
    const second = step(config, first.state, { type: 'proposal-request', now: 2, from, replyId: 2, proposal })
    expect(second.effects).toEqual([])
    const ingest = first.effects[0] as Extract<EngineEffect, { type: 'ingest' }>
    const validation = { level: ValidationLevel.PARTIAL_NEXT, reasons: [] }
    const validated = step(config, second.state, {
      type: 'ingested',
      now: 3,
      purpose: ingest.purpose,
      outcomes: [{ status: 'stored', block: proposal, hash: new Uint8Array(32), validation }],
    })
    expect(types(validated.effects)).toEqual(['decide'])
    const decide = validated.effects[0] as Extract<EngineEffect, { type: 'decide' }>
    const signed = step(config, validated.state, { type: 'decided', now: 4, id: decide.id, accept: true })
    // Persisted before anyone hears of it: the answers go out once the ledger has stored the agreement.
    expect(types(signed.effects)).toEqual(['ingest'])
    const own = signed.effects[0] as Extract<EngineEffect, { type: 'ingest' }>
    const agreement = own.blocks[0]!
    const decided = step(config, signed.state, {
      type: 'ingested',
      now: 4,
      purpose: own.purpose,
      outcomes: [{ status: 'stored', block: agreement, hash: new Uint8Array(32), validation }],
    })
    expect(types(decided.effects)).toEqual(['reply', 'reply', 'delivered', 'broadcast'])
    expect(decided.state.head.sequenceNumber).toBe(1)
    // A late duplicate after the answer starts a new session, which finds the stored agreement instead of signing.
    const late = step(config, decided.state, { type: 'proposal-request', now: 5, from, replyId: 3, proposal })
    const answered = step(config, late.state, {
      type: 'ingested',
      now: 6,
      purpose: (late.effects[0] as Extract<EngineEffect, { type: 'ingest' }>).purpose,
      outcomes: [{ status: 'duplicate', block: proposal, hash: new Uint8Array(32), validation }],
      ownAgreement: agreement,
      ownAgreementTo: decide.id,
    })
    expect(answered.effects).toMatchObject([{ type: 'reply', response: { type: 'agreement', agreement } }])
    expect(answered.state.head).toEqual(decided.state.head)
  })

  it('an own block the ledger refuses fails its request with the typed error and rolls the head back', () => {
    const { error, refused } = ledgerRefuses(
      step(config, state, { type: 'propose', now: 10, requestId: 4, counterparty: bob().publicKey, content: { transfer: 30 } }),
    )
    expect(refused.effects).toEqual([{ type: 'settle', requestId: 4, settlement: { ok: false, error } }])
    expect(refused.state.head).toEqual(state.head)
    expect(refused.state.proposals.size).toBe(0)
  })

  it('a hand-written transfer payload must state the balance the chain will have; otherwise it is refused up front', () => {
    const wrong = step(config, state, {
      type: 'propose',
      now: 0,
      requestId: 5,
      counterparty: bob().publicKey,
      content: { payload: { kind: 'transfer', amount: 5, balance: 7_777 } },
    })
    expect(wrong.effects).toMatchObject([{ type: 'settle', settlement: { ok: false, error: { code: TrustChainErrorCode.INVALID_INPUT } } }])
    expect(wrong.state).toBe(state)
    const right = step(config, state, {
      type: 'propose',
      now: 0,
      requestId: 6,
      counterparty: bob().publicKey,
      content: { payload: { kind: 'transfer', amount: 5, balance: 95 } },
    })
    expect(types(right.effects)).toEqual(['ingest', 'request', 'wake'])
  })

  it('refuses, before anything else, a proposal stamped beyond now + maxClockSkewMs', () => {
    const proposer = keyPairOf(crypto, 7)
    const at = (timestamp: number) =>
      createProposal({ crypto, keyPair: proposer }, EMPTY_CHAIN_HEAD, { counterparty: config.keyPair.publicKey, payload: { kind: 'note' }, timestamp })
    const skewed = { ...config, maxClockSkewMs: 1_000 }
    const from = toHex(proposer.publicKey)
    const far = step(skewed, state, { type: 'proposal-request', now: 100, from, replyId: 1, proposal: at(1_101) })
    expect(far.effects).toEqual([
      { type: 'reply', replyId: 1, response: { type: 'rejected', code: TrustChainErrorCode.INVALID_BLOCK, reasons: ['timestamp-in-future'] } },
    ])
    expect(far.state).toBe(state)
    expect(types(step(skewed, state, { type: 'proposal-request', now: 100, from, replyId: 2, proposal: at(1_100) }).effects)).toEqual(['ingest', 'wake'])
  })

  it('a session past its deadline is refused with PROPOSAL_TIMEOUT; one peer may hold only so many sessions', () => {
    const proposer = keyPairOf(crypto, 8)
    const from = toHex(proposer.publicKey)
    const note = (n: number) =>
      createProposal(
        { crypto, keyPair: proposer },
        { ...EMPTY_CHAIN_HEAD, sequenceNumber: n },
        { counterparty: config.keyPair.publicKey, payload: { kind: 'note' }, timestamp: 5 },
      )
    const capped = { ...config, maxSessionsPerPeer: 2, sessionTimeoutMs: 500 }
    let current = step(capped, state, { type: 'proposal-request', now: 0, from, replyId: 1, proposal: note(1) })
    expect(current.effects.at(-1)).toEqual({ type: 'wake', at: 500 })
    current = step(capped, current.state, { type: 'proposal-request', now: 10, from, replyId: 2, proposal: note(2) })
    const third = step(capped, current.state, { type: 'proposal-request', now: 20, from, replyId: 3, proposal: note(3) })
    expect(third.effects).toMatchObject([{ type: 'reply', replyId: 3, response: { type: 'rejected', code: TrustChainErrorCode.PROPOSAL_REJECTED } }])
    expect(third.state.sessions.size).toBe(2)
    // Another peer is not held back by this one.
    const other = keyPairOf(crypto, 9)
    const fromOther = createProposal({ crypto, keyPair: other }, EMPTY_CHAIN_HEAD, {
      counterparty: config.keyPair.publicKey,
      payload: { kind: 'note' },
      timestamp: 5,
    })
    expect(
      types(step(capped, current.state, { type: 'proposal-request', now: 20, from: toHex(other.publicKey), replyId: 4, proposal: fromOther }).effects),
    ).toEqual(['ingest', 'wake'])
    const early = step(capped, current.state, { type: 'tick', now: 499 })
    expect(early.effects.filter((effect) => effect.type === 'reply')).toEqual([])
    const expired = step(capped, early.state, { type: 'tick', now: 500 })
    expect(expired.effects).toMatchObject([
      { type: 'reply', replyId: 1, response: { type: 'rejected', code: TrustChainErrorCode.PROPOSAL_TIMEOUT } },
      { type: 'wake', at: 510 },
    ])
    expect(expired.state.sessions.size).toBe(1)
  })

  it('a proposal it cannot answer (a balance past the safe range) is refused, not a crash', () => {
    const proposer = keyPairOf(crypto, 5)
    const proposal = createProposal(
      { crypto, keyPair: proposer },
      { ...EMPTY_CHAIN_HEAD, balance: Number.MAX_SAFE_INTEGER },
      {
        counterparty: config.keyPair.publicKey,
        payload: { kind: 'transfer', amount: Number.MAX_SAFE_INTEGER, balance: 0 },
        timestamp: 5,
      },
    )
    const from = toHex(proposer.publicKey)
    const asked = step(config, state, { type: 'proposal-request', now: 1, from, replyId: 1, proposal })
    const purpose = (asked.effects[0] as Extract<EngineEffect, { type: 'ingest' }>).purpose
    const validation = { level: ValidationLevel.PARTIAL_NEXT, reasons: [] }
    const validated = step(config, asked.state, {
      type: 'ingested',
      now: 2,
      purpose,
      outcomes: [{ status: 'stored', block: proposal, hash: new Uint8Array(32), validation }],
    })
    const decide = validated.effects[0] as Extract<EngineEffect, { type: 'decide' }>
    const decided = step(config, validated.state, { type: 'decided', now: 3, id: decide.id, accept: true })
    expect(decided.effects).toMatchObject([{ type: 'reply', response: { type: 'rejected', code: TrustChainErrorCode.INVALID_INPUT } }])
    expect(decided.state.head).toEqual(state.head)
  })

  it('a proposal with a gap before it is crawled once before the policy is asked', () => {
    const proposer = keyPairOf(crypto, 4)
    const proposal = createProposal(
      { crypto, keyPair: proposer },
      { ...EMPTY_CHAIN_HEAD, sequenceNumber: 7 },
      {
        counterparty: config.keyPair.publicKey,
        payload: { kind: 'note' },
        timestamp: 5,
      },
    )
    const from = toHex(proposer.publicKey)
    const asked = step(config, state, { type: 'proposal-request', now: 1, from, replyId: 1, proposal })
    const purpose = (asked.effects[0] as Extract<EngineEffect, { type: 'ingest' }>).purpose
    const partial = { level: ValidationLevel.PARTIAL_PREVIOUS, reasons: [] }
    const outcome = { status: 'stored' as const, block: proposal, hash: new Uint8Array(32), validation: partial }
    const crawl = step(config, asked.state, { type: 'ingested', now: 2, purpose, outcomes: [outcome] })
    expect(crawl.effects).toMatchObject([{ type: 'request', peer: from, request: { type: 'crawl', from: 1, to: 7 } }])
    const again = step(config, crawl.state, { type: 'ingested', now: 3, purpose, outcomes: [outcome] })
    expect(types(again.effects)).toEqual(['decide']) // no second crawl
  })

  it('a proposal the ledger cannot check yet gets the dependency it names crawled, a bounded number of times', () => {
    const proposer = keyPairOf(crypto, 5)
    const proposal = createProposal(
      { crypto, keyPair: proposer },
      { ...EMPTY_CHAIN_HEAD, sequenceNumber: 3, balance: 10 },
      {
        counterparty: config.keyPair.publicKey,
        payload: { kind: 'transfer', amount: 1, balance: 9 },
        timestamp: 5,
      },
    )
    const from = toHex(proposer.publicKey)
    const other = keyPairOf(crypto, 6).publicKey
    const asked = step(config, state, { type: 'proposal-request', now: 1, from, replyId: 1, proposal })
    const purpose = (asked.effects[0] as Extract<EngineEffect, { type: 'ingest' }>).purpose
    const waiting = (publicKey: Uint8Array, sequenceNumber: number, from = 1) => ({
      status: 'rejected' as const,
      block: proposal,
      error: new TrustChainError(TrustChainErrorCode.MISSING_DEPENDENCY, 'needed first', { missing: { publicKey: toHex(publicKey), sequenceNumber, from } }),
      validation: { level: ValidationLevel.PARTIAL, reasons: [ValidationReason.BALANCE_UNCHECKED] },
    })
    let current = step(config, asked.state, { type: 'ingested', now: 2, purpose, outcomes: [waiting(other, 40)] })
    expect(current.effects).toMatchObject([{ type: 'request', peer: from, request: { type: 'crawl', publicKey: other, from: 1, to: 40 } }])
    let rounds = 1
    for (; rounds < 100; rounds++) {
      const next = step(config, current.state, { type: 'ingested', now: 3, purpose, outcomes: [waiting(proposer.publicKey, 2)] })
      if (next.effects.some((effect) => effect.type === 'reply')) {
        expect(next.effects).toMatchObject([{ type: 'reply', response: { type: 'rejected', code: TrustChainErrorCode.MISSING_DEPENDENCY } }])
        break
      }
      expect(next.effects).toMatchObject([{ type: 'request', request: { type: 'crawl', publicKey: proposer.publicKey, from: 1, to: 2 } }])
      current = next
    }
    expect(rounds).toBe(8)
  })

  it('a crawl round asks for every chain named missing at once, from where each run starts, and goes on once all have answered', () => {
    const proposer = keyPairOf(crypto, 7)
    const proposal = createProposal(
      { crypto, keyPair: proposer },
      { ...EMPTY_CHAIN_HEAD, sequenceNumber: 9, balance: 10 },
      {
        counterparty: config.keyPair.publicKey,
        payload: { kind: 'transfer', amount: 1, balance: 9 },
        timestamp: 5,
      },
    )
    const from = toHex(proposer.publicKey)
    const [b, c] = [keyPairOf(crypto, 8).publicKey, keyPairOf(crypto, 9).publicKey]
    const asked = step(config, state, { type: 'proposal-request', now: 1, from, replyId: 1, proposal })
    const id = ((asked.effects[0] as Extract<EngineEffect, { type: 'ingest' }>).purpose as { id: string }).id
    const held = (block: HalfBlock, publicKey: Uint8Array, sequenceNumber: number, runFrom: number) => ({
      status: 'rejected' as const,
      block,
      error: new TrustChainError(TrustChainErrorCode.MISSING_DEPENDENCY, 'needed first', {
        missing: { publicKey: toHex(publicKey), sequenceNumber, from: runFrom },
      }),
      validation: undefined,
    })
    // What a first crawl brought waits for blocks of two other chains, and for the proposer's block 8, which came
    // with it and waits too: that one is not fetched again.
    const eighth = createProposal(
      { crypto, keyPair: proposer },
      { ...EMPTY_CHAIN_HEAD, sequenceNumber: 7, balance: 11 },
      {
        counterparty: config.keyPair.publicKey,
        payload: { kind: 'transfer', amount: 1, balance: 10 },
        timestamp: 4,
      },
    )
    const outcomes = [held(proposal, b, 4, 3), held(eighth, c, 2, 1), held(proposal, b, 6, 5), held(proposal, proposer.publicKey, 8, 8)]
    const round = step(
      config,
      { ...asked.state, sessions: new Map([[id, { ...asked.state.sessions.get(id)!, crawls: 1 }]]) },
      {
        type: 'ingested',
        now: 2,
        purpose: { kind: 'crawled', id },
        outcomes,
      },
    )
    expect(round.effects).toMatchObject([
      { type: 'request', peer: from, request: { type: 'crawl', publicKey: b, from: 3, to: 6 }, correlation: { kind: 'crawl', id, round: 2 } },
      { type: 'request', peer: from, request: { type: 'crawl', publicKey: c, from: 1, to: 2 } },
    ])
    expect(round.effects).toHaveLength(2)
    const answer = (blocks: HalfBlock[]) => ({ type: 'blocks' as const, blocks })
    let current = round
    // An answer to an earlier round does not count for this one.
    current = step(config, current.state, { type: 'response', now: 3, correlation: { kind: 'crawl', id, round: 1 }, response: answer([]) })
    expect(current.effects).toEqual([])
    current = step(config, current.state, { type: 'response', now: 3, correlation: { kind: 'crawl', id, round: 2 }, response: answer([proposal]) })
    expect(current.effects).toEqual([])
    current = step(config, current.state, { type: 'response', now: 4, correlation: { kind: 'crawl', id, round: 2 }, response: undefined })
    expect(current.effects).toMatchObject([{ type: 'ingest', purpose: { kind: 'crawled', id } }])
    expect((current.effects[0] as Extract<EngineEffect, { type: 'ingest' }>).blocks).toHaveLength(1 + outcomes.length) // fetched, then held
  })

  describe('checkpoint', () => {
    const resultHash = new Uint8Array(32).fill(0xcc)
    const stored = (block: HalfBlock) => ({
      status: 'stored' as const,
      block,
      hash: blockHash(crypto, block),
      validation: { level: ValidationLevel.VALID, reasons: [] },
    })

    it('appends a checkpoint at the head (persist first), deterministically; once stored it settles and is broadcast', () => {
      const event = { type: 'checkpoint' as const, now: 20, requestId: 3, consensusResultHash: resultHash, round: 7 }
      const { state: next, effects } = step(config, state, event)
      expect(step(config, state, event)).toEqual({ state: next, effects }) // pure
      expect(types(effects)).toEqual(['ingest'])
      const ingest = effects[0] as Extract<EngineEffect, { type: 'ingest' }>
      expect(ingest.purpose).toEqual({ kind: 'own', previousHead: state.head, checkpoint: 3 })
      const block = ingest.blocks[0]!
      expect(block).toMatchObject({ type: 'checkpoint', sequenceNumber: 1, previousHash: state.head.hash, timestamp: 20 })
      expect(block.payload).toEqual({
        consensusResultHash: resultHash,
        round: 7,
        headSequenceNumber: 0,
        headHash: state.head.hash,
        balance: state.head.balance,
      })
      expect(next.head).toEqual({ sequenceNumber: 1, hash: blockHash(crypto, block), balance: 100, timestamp: 20 })
      const done = step(config, next, { type: 'ingested', now: 21, purpose: ingest.purpose, outcomes: [stored(block)] })
      expect(done.effects).toEqual([
        { type: 'settle-checkpoint', requestId: 3, settlement: { ok: true, checkpoint: block } },
        { type: 'broadcast', blocks: [block] },
      ])
      expect(done.state.head).toEqual(next.head)
    })

    it('takes its turn with proposals: a proposal after it builds on it, and it builds on a proposal before it', () => {
      const first = step(config, state, { type: 'propose', now: 10, requestId: 1, counterparty: bob().publicKey, content: { transfer: 30 } })
      const second = step(config, first.state, { type: 'checkpoint', now: 11, requestId: 2, consensusResultHash: resultHash, round: 0 })
      const third = step(config, second.state, { type: 'propose', now: 12, requestId: 3, counterparty: bob().publicKey, content: { transfer: 5 } })
      const [proposal, checkpointBlock, next] = [first, second, third].map((r) => (r.effects[0] as Extract<EngineEffect, { type: 'ingest' }>).blocks[0]!)
      expect([proposal, checkpointBlock, next].map((b) => b!.sequenceNumber)).toEqual([1, 2, 3])
      expect(checkpointBlock!.previousHash).toEqual(blockHash(crypto, proposal!))
      expect(checkpointBlock!.payload).toMatchObject({ headSequenceNumber: 1, headHash: blockHash(crypto, proposal!) })
      expect(next!.previousHash).toEqual(blockHash(crypto, checkpointBlock!))
      expect(third.state.head.balance).toBe(65) // a checkpoint carries no value
    })

    it('a checkpoint the ledger refuses fails its request with the typed error and rolls the head back', () => {
      const { error, refused } = ledgerRefuses(step(config, state, { type: 'checkpoint', now: 10, requestId: 4, consensusResultHash: resultHash, round: 1 }))
      expect(refused.effects).toEqual([{ type: 'settle-checkpoint', requestId: 4, settlement: { ok: false, error } }])
      expect(refused.state.head).toEqual(state.head)
    })

    it('refuses a hash that is not 32 bytes and a round that is not a non-negative safe integer, leaving the chain alone', () => {
      const bad: [unknown, number][] = [
        [new Uint8Array(31), 1],
        [new Uint8Array(33), 1],
        ['cc'.repeat(32), 1],
        [resultHash, -1],
        [resultHash, 1.5],
        [resultHash, Number.NaN],
        [resultHash, Number.MAX_SAFE_INTEGER + 1],
      ]
      for (const [consensusResultHash, round] of bad) {
        const result = step(config, state, { type: 'checkpoint', now: 1, requestId: 8, consensusResultHash: consensusResultHash as Uint8Array, round })
        expect(result.effects).toMatchObject([
          { type: 'settle-checkpoint', requestId: 8, settlement: { ok: false, error: { code: TrustChainErrorCode.INVALID_INPUT } } },
        ])
        expect(result.state).toBe(state)
      }
    })
  })

  describe('range crawl', () => {
    const stored = (block: HalfBlock) => ({
      status: 'stored' as const,
      block,
      hash: blockHash(crypto, block),
      validation: { level: ValidationLevel.VALID, reasons: [] },
    })
    const waiting = (block: HalfBlock, publicKey: Uint8Array, sequenceNumber: number, runFrom: number) => ({
      status: 'rejected' as const,
      block,
      error: new TrustChainError(TrustChainErrorCode.MISSING_DEPENDENCY, 'needed first', {
        missing: { publicKey: toHex(publicKey), sequenceNumber, from: runFrom },
      }),
      validation: undefined,
    })
    const blockOf = (n: number, sequenceNumber: number) =>
      createProposal(
        { crypto, keyPair: keyPairOf(crypto, n) },
        { ...EMPTY_CHAIN_HEAD, sequenceNumber: sequenceNumber - 1 },
        {
          counterparty: config.keyPair.publicKey,
          payload: { kind: 'note' },
          timestamp: 1,
        },
      )

    it('fetches the range, then from the same peer what its blocks depend on, and settles with one outcome per block of the range', () => {
      const peer = toHex(keyPairOf(crypto, 8).publicKey)
      const chain = keyPairOf(crypto, 8).publicKey
      const other = keyPairOf(crypto, 9).publicKey
      const [first, second, needed] = [blockOf(8, 1), blockOf(8, 2), blockOf(9, 3)] as [HalfBlock, HalfBlock, HalfBlock]
      const begun = step(config, state, { type: 'crawl', now: 1, requestId: 5, peer, publicKey: chain, from: 1, to: -1 })
      expect(begun.effects).toEqual([
        { type: 'request', peer, request: { type: 'crawl', publicKey: chain, from: 1, to: -1 }, correlation: { kind: 'range-crawl', requestId: 5, round: 0 } },
      ])
      const range = step(config, begun.state, {
        type: 'response',
        now: 2,
        correlation: { kind: 'range-crawl', requestId: 5, round: 0 },
        response: { type: 'blocks', blocks: [first, second] },
      })
      expect(range.effects).toEqual([{ type: 'ingest', blocks: [first, second], purpose: { kind: 'range-crawl', requestId: 5 } }])
      // The second block waits for block 3 of another chain, whose run starts at 2.
      const round = step(config, range.state, {
        type: 'ingested',
        now: 3,
        purpose: { kind: 'range-crawl', requestId: 5 },
        outcomes: [stored(first), waiting(second, other, 3, 2)],
      })
      expect(round.effects).toEqual([
        { type: 'request', peer, request: { type: 'crawl', publicKey: other, from: 2, to: 3 }, correlation: { kind: 'range-crawl', requestId: 5, round: 1 } },
      ])
      const fetched = step(config, round.state, {
        type: 'response',
        now: 4,
        correlation: { kind: 'range-crawl', requestId: 5, round: 1 },
        response: { type: 'blocks', blocks: [needed] },
      })
      expect(fetched.effects).toEqual([{ type: 'ingest', blocks: [needed, second], purpose: { kind: 'range-crawl', requestId: 5 } }]) // fetched, then held
      const done = step(config, fetched.state, {
        type: 'ingested',
        now: 5,
        purpose: { kind: 'range-crawl', requestId: 5 },
        outcomes: [stored(needed), stored(second)],
      })
      expect(done.effects).toEqual([{ type: 'settle-crawl', requestId: 5, settlement: { ok: true, outcomes: [stored(first), stored(second)] } }])
      expect(done.state.rangeCrawls.size).toBe(0)
    })

    it('a request that fails ends it with its error, an answer that is not blocks with MALFORMED_MESSAGE', () => {
      const peer = toHex(keyPairOf(crypto, 8).publicKey)
      const begun = step(config, state, { type: 'crawl', now: 1, requestId: 6, peer, publicKey: keyPairOf(crypto, 8).publicKey, from: 1, to: 2 })
      const correlation = { kind: 'range-crawl' as const, requestId: 6, round: 0 }
      const cause = new Error('unreachable')
      const failed = step(config, begun.state, { type: 'response', now: 2, correlation, response: undefined, error: cause })
      expect(failed.effects).toEqual([{ type: 'settle-crawl', requestId: 6, settlement: { ok: false, error: cause } }])
      expect(failed.state.rangeCrawls.size).toBe(0)
      const refused = step(config, begun.state, { type: 'response', now: 2, correlation, response: { type: 'rejected', code: 'X', reasons: [] } })
      expect(refused.effects).toMatchObject([
        { type: 'settle-crawl', requestId: 6, settlement: { ok: false, error: { code: TrustChainErrorCode.MALFORMED_MESSAGE } } },
      ])
    })
  })
})
