import type { TransactionHalves } from '../../src/index.js'
import { afterEach, describe, expect, it } from 'vitest'
import { createSolarSystemSim, type SimMember, type SolarSystemSim } from '../support/solar-system-sim.js'

let sim: SolarSystemSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const heights = (s: SolarSystemSim) => s.members.map((m) => m.chain.head().sequenceNumber)

/** Runs until `member` saw the transaction finalised; the round that did. */
async function untilFinal(s: SolarSystemSim, member: SimMember, transaction: TransactionHalves): Promise<number> {
  const done = new Promise<number>((resolve) => {
    const check = () => {
      const round = member.consensus.finalisedIn(transaction)
      if (round === undefined) return
      off()
      resolve(round)
    }
    const off = member.consensus.onFinalised(check)
    check()
  })
  return s.net.runUntil(done, 60_000)
}

// Issue 17, item 6: a checkpoint in every round made idle chains grow forever (1,304 blocks in 17 minutes).
describe('idle chains', () => {
  it('an idle member checkpoints once, then every idleCheckpointRounds rounds; with 1, every round as before', async () => {
    sim = await createSolarSystemSim({ seed: 'idle', members: 8, facilitators: 4 })
    await sim.runUntilRound(24)
    expect(sim.errors).toEqual([])
    // The genesis block and the first checkpoint (certified in round 1); nothing since, by the default of 64.
    expect(heights(sim)).toEqual(Array(8).fill(2))
    await sim.stop()

    sim = await createSolarSystemSim({ seed: 'idle', members: 8, facilitators: 4, idleCheckpointRounds: 8 })
    await sim.runUntilRound(24)
    expect(sim.errors).toEqual([])
    // Genesis, round 1, then rounds 9 and 17 (give or take a round a checkpoint waits in a pool): 4 or 5 blocks.
    for (const height of heights(sim)) expect(height).toBeGreaterThanOrEqual(4)
    for (const height of heights(sim)) expect(height).toBeLessThanOrEqual(5)
    await sim.stop()

    sim = await createSolarSystemSim({ seed: 'idle', members: 8, facilitators: 4, idleCheckpointRounds: 1 })
    await sim.runUntilRound(24)
    for (const height of heights(sim)) expect(height).toBeGreaterThanOrEqual(24)
  })

  it('an idle solar system runs a round per proposal timeout; a transfer in it is final without waiting for the timer', async () => {
    sim = await createSolarSystemSim({ seed: 'idle-transfer', members: 8, facilitators: 4, timing: { proposalTimeoutMs: 1_000 } })
    const s = sim
    await s.runUntilRound(5)
    const started = s.net.clock.now()
    await s.runUntilRound(10)
    // Five idle rounds: each waits for its proposal timer.
    expect(s.net.clock.now() - started).toBeGreaterThanOrEqual(5 * 1_000)

    const [alice, bob] = s.members as [SimMember, SimMember]
    const before = { alice: alice.chain.head().sequenceNumber, bob: bob.chain.head().sequenceNumber }
    const sent = s.net.clock.now()
    const [outcome] = await s.net.runUntil(alice.chain.transfer([{ to: bob.keyPair.publicKey, amount: 7 }]))
    if (outcome?.status !== 'agreed') throw new Error(`not agreed: ${outcome?.status}`)
    const round = await untilFinal(s, alice, outcome)
    // Both moved chains checkpointed at once (the idle notices they sent for the round no longer held): the rounds
    // that certified them started as soon as their checkpoints arrived, not on a timer.
    expect(s.net.clock.now() - sent).toBeLessThan(1_000)
    expect(round).toBeLessThanOrEqual(s.members[2]!.consensus.history.round + 1)
    // Proposal and agreement, each closed by one checkpoint; the other members' chains did not move.
    expect(alice.chain.head().sequenceNumber).toBe(before.alice + 2)
    expect(bob.chain.head().sequenceNumber).toBe(before.bob + 2)
    expect(heights(s).slice(2)).toEqual(Array(6).fill(2))
    expect(s.errors).toEqual([])
  })
})
