import type { Crypto } from '@constellation/crypto'
import { advanceHead, createCheckpoint, EMPTY_CHAIN_HEAD, type ChainHead, type HalfBlock, PayloadRegistry, type StretchTail } from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import type { SolarSystemState } from '../../src/index.js'
import { finishSubmission, planSubmission } from '../../src/round.js'
import { testCrypto } from '../support/solar-system-sim.js'
import { roundFixture } from './fixtures.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

/** `count` checkpoints of member 0 from its genesis on (all recording the genesis result); `salt` forks the chain. */
function chainOf(state: SolarSystemState, pair: Parameters<typeof createCheckpoint>[0]['keyPair'], count: number, salt = 0): HalfBlock[] {
  let head: ChainHead = EMPTY_CHAIN_HEAD
  const out: HalfBlock[] = []
  for (let i = 0; i < count; i++) {
    const block = createCheckpoint({ crypto, keyPair: pair }, head, { consensusResultHash: state.genesisHash, round: 0, timestamp: 1 + i + salt })
    head = advanceHead(crypto, head, block)
    out.push(block)
  }
  return out
}

/** Plans and finishes a submission; the checked tail, and how many blocks had to be checked anew. */
function take(state: SolarSystemState, blocks: readonly HalfBlock[], known?: StretchTail): { tail: StretchTail; checked: number } {
  const plan = planSubmission(crypto, state, blocks, known)
  if (plan.kind !== 'check') throw new Error(`expected a check, got ${JSON.stringify(plan)}`)
  const done = finishSubmission(crypto, new PayloadRegistry(), plan, 'all')
  if (done.kind !== 'anchored') throw new Error(`expected an anchored checkpoint, got ${JSON.stringify(done)}`)
  return { tail: done.checkpoint.tail, checked: plan.rest.length }
}

describe('incremental submissions', () => {
  it('each block is checked once: a later submission carries only what the facilitator has not acknowledged', () => {
    const f = roundFixture(crypto, 4, 4)
    const chain = chainOf(f.state, f.pairs[0]!, 6)
    const first = take(f.state, chain.slice(0, 2))
    expect(first.checked).toBe(2)
    const second = take(f.state, chain.slice(2, 4), first.tail)
    expect(second.checked).toBe(2)
    expect(second.tail.summary.head.sequenceNumber).toBe(4)
    expect(second.tail.hashes).toHaveLength(4)
    // A run that overlaps what was checked (the answer to the last one was lost): only the new blocks are checked.
    const overlapping = take(f.state, chain.slice(2, 6), second.tail)
    expect(overlapping.checked).toBe(2)
    expect(overlapping.tail.summary.head.sequenceNumber).toBe(6)
  })

  it('a run past what the facilitator holds is answered with the first block it needs', () => {
    const f = roundFixture(crypto, 4, 4)
    const chain = chainOf(f.state, f.pairs[0]!, 5)
    // Nothing held (a restart): from the anchor on.
    expect(planSubmission(crypto, f.state, chain.slice(2, 4))).toEqual({ kind: 'resend', from: 1 })
    // Blocks 1-2 held, 3 never arrived.
    const held = take(f.state, chain.slice(0, 2)).tail
    expect(planSubmission(crypto, f.state, chain.slice(3, 5), held)).toEqual({ kind: 'resend', from: 3 })
  })

  it('another chain than the one checked before (a fork) is checked from the anchor, never spliced onto the old one', () => {
    const f = roundFixture(crypto, 4, 4)
    const chain = chainOf(f.state, f.pairs[0]!, 3)
    const fork = chainOf(f.state, f.pairs[0]!, 3, 100)
    const held = take(f.state, chain.slice(0, 2)).tail
    // The fork's run overlaps the held blocks with other blocks: the whole run from the anchor is needed.
    expect(planSubmission(crypto, f.state, fork.slice(1, 3), held)).toEqual({ kind: 'resend', from: 1 })
    const whole = take(f.state, fork, held)
    expect(whole.checked).toBe(3)
    expect(whole.tail.hashes.map((h) => Buffer.from(h).toString('hex'))).not.toContain(Buffer.from(held.hashes[0]!).toString('hex'))
  })

  it('an older, shorter submission arriving late is checked on its own, not cut from the longer one held', () => {
    const f = roundFixture(crypto, 4, 4)
    const chain = chainOf(f.state, f.pairs[0]!, 4)
    const held = take(f.state, chain).tail
    const late = take(f.state, chain.slice(0, 2), held)
    expect(late.checked).toBe(2)
    expect(late.tail.summary.head.sequenceNumber).toBe(2)
  })

  it('refuses runs of outsiders, runs with gaps, and runs that do not end with a checkpoint', () => {
    const f = roundFixture(crypto, 5, 4)
    const outsider = roundFixture(crypto, 9, 4)
    const stranger = chainOf(f.state, outsider.pairs[8]!, 1)
    expect(planSubmission(crypto, f.state, stranger)).toMatchObject({ kind: 'refused' })
    const chain = chainOf(f.state, f.pairs[0]!, 3)
    expect(planSubmission(crypto, f.state, [chain[0]!, chain[2]!])).toMatchObject({ kind: 'refused', reason: 'a submission is a contiguous run of one chain' })
    expect(planSubmission(crypto, f.state, [])).toMatchObject({ kind: 'refused', reason: 'a submission ends with a checkpoint block' })
  })
})
