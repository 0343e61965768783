/**
 * The round journal's pure part: a facilitator's round rebuilt from its records is the round it was — same state,
 * same messages to send again, its proposal reused rather than chosen anew from a different pool — and it finishes
 * with the others; a journal of another seed is refused; only the last rounds are kept, but always the newest round
 * facilitated; records survive their encoding, and bytes that are not a record are refused.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { ConsensusErrorCode, decodeRoundRecord, encodeRoundRecord, keptRecords, type RoundRecord } from '../../src/index.js'
import { type FacilitatorRoundState, journalFloor, resumeRound, type RoundEffect, type RoundMessage, startRound, stepRound } from '../../src/round.js'
import { decodeRoundFrame, encodeRoundFrame } from '../../src/shell/wire.js'
import { testCrypto } from '../support/solar-system-sim.js'
import { type RoundFixture, roundFixture } from './fixtures.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const readFrame = (bytes: Uint8Array): readonly RoundMessage[] => decodeRoundFrame(bytes, 1 << 24, 1 << 24).messages
const frameOf = (round: number, message: RoundMessage): Uint8Array => encodeRoundFrame({ level: 0, group: 'unit', round, messages: [message] })
const sends = (effects: readonly RoundEffect[]) => effects.filter((effect) => effect.type === 'send')

/**
 * Four facilitators exchanging messages in FIFO order; facilitator 0 journals as the driver does (its proposal, each
 * message it takes in as a frame) and stops after `deliveries` messages to it, as a crash would stop it.
 */
function runUntilCrash(fixture: RoundFixture, deliveries: number) {
  const machines = fixture.pairs.map((keyPair) => startRound({ crypto, keyPair, rules: fixture.rules, seed: fixture.state }))
  const self = machines[0]!.self
  const records: RoundRecord[] = [{ type: 'seed', round: 1, resultHash: fixture.state.resultHash }]
  const sent: RoundEffect[] = []
  const queue: { from: string; to: string; message: RoundMessage }[] = []
  const ids = machines.map((machine) => machine.self)
  const post = (from: string, effects: readonly RoundEffect[]) => {
    for (const effect of effects) {
      if (effect.type !== 'send') continue
      if (from === self) sent.push(effect)
      for (const to of effect.to === 'all' ? ids.filter((id) => id !== from) : [effect.to]) queue.push({ from, to, message: effect.message })
    }
  }
  const step = (i: number, event: Parameters<typeof stepRound>[1]) => {
    const before = machines[i]!
    const stepped = stepRound(before, event)
    machines[i] = stepped.state
    if (i === 0 && before.proposal === undefined && stepped.state.proposal !== undefined)
      records.push({ type: 'proposal', round: 1, value: stepped.state.proposal })
    post(before.self, stepped.effects)
  }
  fixture.pairs.forEach((_, i) => {
    for (let member = 0; member < fixture.pairs.length; member++) step(i, { type: 'checkpoint', block: fixture.anchored(member) })
  })
  let delivered = 0
  while (queue.length > 0 && delivered < deliveries) {
    const { from, to, message } = queue.shift()!
    const i = ids.indexOf(to)
    if (i === 0) {
      records.push({ type: 'frame', round: 1, from, bytes: frameOf(1, message) })
      delivered++
    }
    step(i, { type: 'message', from, message })
  }
  return { machines, records, sent, queue, ids, step }
}

describe('resuming a round from its journal', () => {
  for (const deliveries of [0, 5, 20, 60]) {
    it(`rebuilds the same round after ${deliveries} messages taken in, sends the same again, and finishes it`, () => {
      const fixture = roundFixture(crypto, 4, 4)
      const run = runUntilCrash(fixture, deliveries)
      const live = run.machines[0]!
      // The restarted process holds one checkpoint only: its own proposal must still be the journalled one.
      const fresh = stepRound(startRound({ crypto, keyPair: fixture.pairs[0]!, rules: fixture.rules, seed: fixture.state }), {
        type: 'checkpoint',
        block: fixture.anchored(0, 7),
      }).state
      const resumed = resumeRound(fresh, run.records, readFrame)
      expect(resumed.state.proposal).toEqual(live.proposal)
      expect(resumed.state.phase).toBe(live.phase)
      expect(resumed.state.acs.agreements).toEqual(live.acs.agreements)
      expect(resumed.state.acs.broadcasts).toEqual(live.acs.broadcasts)
      expect(resumed.state.result?.hash).toEqual(live.result?.hash)
      expect(sends(resumed.effects)).toEqual(run.sent)
      // A timer or a checkpoint after the restart proposes nothing new.
      expect(sends(stepRound(resumed.state, { type: 'proposal-timeout' }).effects)).toEqual([])
      expect(sends(stepRound(resumed.state, { type: 'checkpoint', block: fixture.anchored(1, 9) }).effects)).toEqual([])

      // The resumed machine takes the place of the crashed one: what it sends again and what the others still send
      // finish the round, on one result.
      run.machines[0] = resumed.state
      for (const effect of sends(resumed.effects)) {
        for (const to of effect.to === 'all' ? run.ids.slice(1) : [effect.to]) run.queue.push({ from: run.ids[0]!, to, message: effect.message })
      }
      for (let guard = 0; run.queue.length > 0 && guard < 100_000; guard++) {
        const { from, to, message } = run.queue.shift()!
        run.step(run.ids.indexOf(to), { type: 'message', from, message })
      }
      const certified = run.machines.map((machine: FacilitatorRoundState) => (machine.certificate === undefined ? undefined : toHex(machine.result!.hash)))
      expect(certified.every((hash) => hash !== undefined && hash === certified[0])).toBe(true)
    })
  }

  it('refuses records of another seed or round (INVALID_JOURNAL), and a frame that no longer reads', () => {
    const fixture = roundFixture(crypto, 4, 4)
    const machine = startRound({ crypto, keyPair: fixture.pairs[0]!, rules: fixture.rules, seed: fixture.state })
    const other = crypto.sha256(new Uint8Array([1]))
    const code = (records: RoundRecord[]) => {
      try {
        resumeRound(machine, records, readFrame)
        return undefined
      } catch (error) {
        return (error as { code?: string }).code
      }
    }
    expect(code([{ type: 'seed', round: 1, resultHash: other }])).toBe(ConsensusErrorCode.INVALID_JOURNAL)
    expect(code([{ type: 'seed', round: 2, resultHash: fixture.state.resultHash }])).toBe(ConsensusErrorCode.INVALID_JOURNAL)
    expect(code([{ type: 'frame', round: 1, from: fixture.ids[1]!, bytes: new Uint8Array([0xff]) }])).toBe(ConsensusErrorCode.INVALID_JOURNAL)
    expect(code([{ type: 'seed', round: 1, resultHash: fixture.state.resultHash }])).toBeUndefined()
  })
})

describe('what a journal keeps', () => {
  const seed = (round: number): RoundRecord => ({ type: 'seed', round, resultHash: new Uint8Array(32).fill(round) })
  const early = (round: number): RoundRecord => ({ type: 'early', round, from: 'ab'.repeat(32), bytes: new Uint8Array([round]) })

  it('keeps the last rounds and, however old, the newest round facilitated; rounds below the oldest held are sat out', () => {
    const records = [seed(3), seed(5), early(6), seed(8), early(9), early(12)]
    expect(keptRecords(records, 10).map((r) => r.round)).toEqual([8, 9, 12])
    // Not facilitating since round 8: its records stay, so a restart knows it may have sent messages in round 8.
    expect(keptRecords(records, 20).map((r) => r.round)).toEqual([8, 9, 12])
    expect(keptRecords([early(4), early(9)], 10).map((r) => r.round)).toEqual([9])
    expect(journalFloor(keptRecords(records, 10))).toBe(8)
    expect(journalFloor([early(4)])).toBeUndefined()
  })

  it('encodes every record and decodes it back; refuses what is not one', () => {
    const from = 'cd'.repeat(32)
    const records: RoundRecord[] = [
      seed(1),
      { type: 'proposal', round: 2, value: new Uint8Array([1, 2, 3]) },
      { type: 'frame', round: 3, from, bytes: new Uint8Array([4]) },
      { type: 'early', round: 4, from, bytes: new Uint8Array(0) },
    ]
    for (const record of records) expect(decodeRoundRecord(encodeRoundRecord(record))).toEqual(record)
    const bytes = encodeRoundRecord(records[2]!)
    const code = (input: Uint8Array) => {
      try {
        decodeRoundRecord(input)
        return undefined
      } catch (error) {
        return (error as { code?: string }).code
      }
    }
    expect(code(bytes.subarray(0, bytes.length - 1))).toBe(ConsensusErrorCode.MALFORMED_MESSAGE)
    expect(code(new Uint8Array([0xa0]))).toBe(ConsensusErrorCode.MALFORMED_MESSAGE)
  })
})
