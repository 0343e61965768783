import { describe, expect, it } from 'vitest'
import { startRound, stepRound } from '../../src/round.js'
import { testCrypto } from '../support/solar-system-sim.js'
import { roundFixture } from './fixtures.js'

// A member whose chain has not moved sends an idle notice instead of a checkpoint (shell/checkpoint-cadence.ts).
describe('idle members in a round', () => {
  const setUp = async () => {
    const crypto = await testCrypto()
    // 7 members, 4 facilitators: N - t = 6 members heard from before proposing without the timer.
    const fixture = roundFixture(crypto, 7, 4)
    const self = fixture.state.committee.facilitators[0] as string
    const keyPair = fixture.pairs[fixture.ids.indexOf(self)]!
    const machine = startRound({ crypto, keyPair, rules: fixture.rules, seed: fixture.state })
    return { fixture, machine }
  }

  it('counts idle members as heard: a round proposes once N - t are heard and one checkpoint is held', async () => {
    const { fixture, machine } = await setUp()
    let state = machine
    for (const id of fixture.ids.slice(1, 6)) state = stepRound(state, { type: 'idle', member: id }).state
    expect(state.phase).toBe('collecting')
    // Five idle and one checkpoint: six heard.
    const step = stepRound(state, { type: 'checkpoint', block: fixture.anchored(0) })
    expect(step.state.phase).toBe('agreeing')
    expect(step.state.proposed?.length).toBe(1)
  })

  it('a round of idle members only waits for its timer, then proposes nothing', async () => {
    const { fixture, machine } = await setUp()
    let state = machine
    for (const id of fixture.ids) state = stepRound(state, { type: 'idle', member: id }).state
    expect(state.phase).toBe('collecting')
    const step = stepRound(state, { type: 'proposal-timeout' })
    expect(step.state.phase).toBe('agreeing')
    expect(step.state.proposed).toEqual([])
  })

  it('an idle notice counts once per member, only from members, and never for a member whose checkpoint is held', async () => {
    const { fixture, machine } = await setUp()
    let state = stepRound(machine, { type: 'checkpoint', block: fixture.anchored(0) }).state
    // The same member idle too, a stranger, and one member four times: two heard.
    for (const member of [fixture.ids[0]!, 'ab'.repeat(32), fixture.ids[1]!, fixture.ids[1]!, fixture.ids[1]!, fixture.ids[1]!]) {
      state = stepRound(state, { type: 'idle', member }).state
    }
    expect(state.idle.size).toBe(2)
    expect(state.phase).toBe('collecting')
    for (const id of fixture.ids.slice(2, 5)) state = stepRound(state, { type: 'idle', member: id }).state
    expect(state.phase).toBe('collecting') // 1 checkpoint + 4 other idle members = 5 < 6
    expect(stepRound(state, { type: 'idle', member: fixture.ids[5]! }).state.phase).toBe('agreeing')
  })
})
