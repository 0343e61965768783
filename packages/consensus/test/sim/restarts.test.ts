/**
 * Durable round state on the seeded simulator: facilitators that crash in the middle of a round and restart from
 * their disk (chain, stored certificates, round journal) resume the round they were in. For committees of 1, 2, 3, 4
 * and 7 facilitators, with one of them, more than t of them, or all of them restarting — once proposed, once voted
 * in an agreement, once signed; before the messages of that step left (journalled, never received) or after; with
 * stores that lost the last certificate or two — the solar system keeps certifying, every member holds the same
 * certified result for every round, and no facilitator ever sends two different messages for one slot of a round.
 * On the code before the journal most of these halted (n = 2: every case) or equivocated.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { toHex } from '@constellation/crypto'
import { type CrashPoint, createRestartSim, type RestartMember, type RestartSim } from '../support/restart-sim.js'

const POINTS: readonly CrashPoint[] = ['proposed', 'voted', 'signed']
/** The round from which the first crash may come (a few rounds certified before). */
const CRASH_FROM = 3
/** Rounds certified after the crash round before the run counts as recovered. */
const ROUNDS_AFTER = 4

type Who = 'one' | 'beyond-t' | 'all'

let sim: RestartSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

function victimsOf(who: Who, faults: number): (sender: RestartMember, committee: readonly string[]) => RestartMember[] {
  return (sender, committee) => {
    const s = sim as RestartSim
    const facilitators = s.members.filter((m) => committee.includes(m.id))
    if (who === 'one') return [sender]
    if (who === 'all') return facilitators
    // t + 1 of them: the sender and the next t in committee order.
    const from = facilitators.indexOf(sender)
    return Array.from({ length: faults + 1 }, (_, i) => facilitators[(from + i) % facilitators.length] as RestartMember)
  }
}

function expectOneHistory(s: RestartSim, rounds: number): void {
  const hashes = (member: RestartMember) => Array.from({ length: rounds }, (_, i) => toHex(member.node.history.resultHashOf(i + 1) ?? new Uint8Array(0)))
  const reference = hashes(s.members[0] as RestartMember)
  for (const member of s.members) expect(hashes(member)).toEqual(reference)
}

const cases: { n: number; who: Who; point: CrashPoint; index: number }[] = []
for (const n of [1, 2, 3, 4, 7]) {
  const faults = Math.floor((n - 1) / 3)
  const whos: Who[] = n === 1 ? ['all'] : faults === 0 ? ['one', 'all'] : ['one', 'beyond-t', 'all']
  for (const who of whos) for (const point of POINTS) cases.push({ n, who, point, index: cases.length })
}

describe('facilitators restarting mid-round resume it from their round journal', () => {
  for (const { n, who, point, index } of cases) {
    const faults = Math.floor((n - 1) / 3)
    const leaves = index % 2 === 1
    const label =
      n === 1
        ? 'the only facilitator restarts'
        : who === 'one'
          ? 'one facilitator restarts'
          : who === 'all'
            ? 'every facilitator restarts at once'
            : `t + 1 = ${faults + 1} facilitators restart`
    it(`n = ${n}: ${label} once it ${point} (${leaves ? 'after' : 'before'} that step's messages left)`, async () => {
      // Members beyond the committee for the larger ones, so the election changes who facilitates.
      const members = n >= 4 ? n + 2 : n
      sim = await createRestartSim({ seed: `restart-${n}-${who}-${point}`, members, facilitators: n })
      const s = sim
      const crashed = s.arm({
        point,
        fromRound: CRASH_FROM,
        leaves,
        victims: victimsOf(who, faults),
        downMs: (i) => 200 + 150 * i,
        // Some stores lost the last certificate or two: the journal's earlier rounds bring them back.
        lag: (i) => (index + i) % 3,
      })
      await s.runUntilRound(CRASH_FROM - 1)
      const round = await s.net.runUntil(crashed, 60_000)
      await s.runUntilRound(round + ROUNDS_AFTER)
      const restarted = s.members.filter((m) => m.lives > 1)
      expect(restarted.length).toBe(who === 'one' ? 1 : who === 'all' ? n : faults + 1)
      // Each came back as a facilitator, not a bystander: it took part in a round after its restart.
      for (const member of restarted) expect(member.node.stats.roundsFacilitated).toBeGreaterThan(0)
      expect(s.detector.conflicts).toEqual([])
      if (n > 1) expect(s.detector.messages).toBeGreaterThan(0)
      expectOneHistory(s, round + ROUNDS_AFTER)
      expect(s.errors).toEqual([])
    })
  }
})
