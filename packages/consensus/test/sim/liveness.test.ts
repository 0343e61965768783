import { afterEach, describe, expect, it } from 'vitest'
import { toHex } from '@constellation/crypto'
import { createSolarSystemNode, type SolarSystemNode } from '../../src/index.js'
import { certifiedHashes, createSolarSystemSim, type SolarSystemSim } from '../support/solar-system-sim.js'

const toHexes = (node: SolarSystemNode, rounds: number): string[] =>
  Array.from({ length: rounds }, (_, i) => toHex(node.history.resultHashOf(i + 1) ?? new Uint8Array(0)))

let sim: SolarSystemSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

function expectOneHistory(s: SolarSystemSim, rounds: number, skip: ReadonlySet<number> = new Set()): void {
  const live = s.members.filter((_, i) => !skip.has(i))
  const reference = certifiedHashes(live[0]!).slice(0, rounds)
  expect(reference).toHaveLength(rounds)
  for (const member of live) expect(certifiedHashes(member).slice(0, rounds)).toEqual(reference)
}

describe('liveness on the simulator', () => {
  for (const [facilitators, members] of [
    [4, 10],
    [7, 16],
  ] as const) {
    it(`keeps certifying with t of n = ${facilitators} facilitators crashed`, async () => {
      const t = Math.floor((facilitators - 1) / 3)
      // The first t genesis facilitators (smallest ids) never run; the election may pick them again, and the round
      // still certifies, as no committee can hold more than the t crashed nodes.
      const probe = await createSolarSystemSim({ seed: `crash-${facilitators}`, members, facilitators, silent: [] })
      const order = probe.members.map((m, i) => [m.id, i] as const).sort(([a], [b]) => (a < b ? -1 : 1))
      await probe.stop()
      const crashed = order.slice(0, t).map(([, i]) => i)
      sim = await createSolarSystemSim({ seed: `crash-${facilitators}`, members, facilitators, silent: crashed, timing: { proposalTimeoutMs: 300 } })
      await sim.runUntilRound(6)
      expect(sim.errors).toEqual([])
      expectOneHistory(sim, 6, new Set(crashed))
    })
  }

  it('keeps certifying with 10% of messages lost (gossip and consensus requests)', async () => {
    sim = await createSolarSystemSim({
      seed: 'lossy',
      members: 12,
      facilitators: 4,
      lossRate: 0.1,
      requestLossRate: 0.1,
      timing: { requestTimeoutMs: 400, proposalTimeoutMs: 500 },
    })
    await sim.runUntilRound(6)
    expect(sim.errors).toEqual([])
    expectOneHistory(sim, 6)
    // Frames were lost and retried: the links, not luck, kept the agreement going.
    expect(sim.members.reduce((sum, m) => sum + m.consensus.stats.framesFailed, 0)).toBeGreaterThan(10)
  })

  it('stalls while a partition splits the facilitators, and certifies again once it heals', async () => {
    sim = await createSolarSystemSim({ seed: 'partition', members: 12, facilitators: 4, timing: { proposalTimeoutMs: 300, requestTimeoutMs: 500 } })
    const s = sim
    await s.runUntilRound(2)
    // Split the next committee 2 + 2: neither side has 2t + 1 = 3 facilitators.
    const committee = s.members[0]!.consensus.state.committee.facilitators
    const sideA = new Set([committee[0]!, committee[1]!])
    const ids = s.members.map((m) => m.id)
    const a = ids.filter((id, i) => sideA.has(id) || (i % 2 === 0 && !committee.includes(id)))
    const b = ids.filter((id) => !a.includes(id))
    s.net.partition([a, b])
    const before = Math.max(...s.members.map((m) => m.consensus.history.round))
    await s.net.run({ until: s.net.clock.now() + 10_000 })
    expect(Math.max(...s.members.map((m) => m.consensus.history.round))).toBe(before)
    s.net.heal()
    await s.runUntilRound(before + 3)
    expect(s.errors).toEqual([])
    expectOneHistory(s, before + 3)
  })
})

describe('catching up', () => {
  it('a member that was down for several rounds fetches the certificates it missed and follows again', async () => {
    sim = await createSolarSystemSim({ seed: 'catch-up', members: 10, facilitators: 4, timing: { proposalTimeoutMs: 300 } })
    const s = sim
    await s.runUntilRound(2)
    // A member that is not facilitating the next rounds, so the others keep their quorum.
    const sleeper = s.members.find((m) => !s.members[0]!.consensus.state.committee.facilitators.includes(m.id))!
    s.net.crash(sleeper.id)
    const awake = s.members.filter((m) => m !== sleeper)
    const reached = new Promise<void>((resolve) => {
      const off = awake[0]!.consensus.onCertificate((certificate) => {
        if (certificate.result.body.round >= 7) {
          off()
          resolve()
        }
      })
    })
    await s.net.runUntil(reached)
    const missed = sleeper.consensus.history.round
    expect(missed).toBeLessThan(5)
    s.net.restart(sleeper.id)
    await s.runUntilRound(9)
    expect(certifiedHashes(sleeper).slice(0, 9)).toEqual(certifiedHashes(awake[0]!).slice(0, 9))
    const fetched = sleeper.consensus.stats.certificatesFetched
    expect(fetched).toBeGreaterThan(0)
    // Caught up, not trailing: from here on it follows the gossip like everyone else, fetching nothing more.
    await s.runUntilRound(12)
    expect(sleeper.consensus.stats.certificatesFetched).toBe(fetched)
    expect(s.errors).toEqual([])
  })

  it('a node that stopped and started again rejoins: it checkpoints, facilitates and certifies', async () => {
    sim = await createSolarSystemSim({ seed: 'restart', members: 5, facilitators: 4, timing: { proposalTimeoutMs: 300 } })
    const s = sim
    await s.runUntilRound(2)
    // A facilitator of the next round: without it (and with one more down) the round could not certify.
    const member = s.members.find((m) => s.members[0]!.consensus.state.committee.facilitators.includes(m.id))!
    await member.consensus.stop()
    await s.net.runUntil(member.consensus.start())
    const sentBefore = member.consensus.stats.framesSent
    const round = Math.max(...s.members.map((m) => m.consensus.history.round))
    await s.runUntilRound(round + 3)
    expect(member.consensus.stats.framesSent).toBeGreaterThan(sentBefore)
    expect(s.errors).toEqual([])
  })

  it('a node restarted from its own certificates resumes at their round and sits out the rounds it may have facilitated', async () => {
    sim = await createSolarSystemSim({ seed: 'restore', members: 5, facilitators: 4, timing: { proposalTimeoutMs: 300 } })
    const s = sim
    await s.runUntilRound(4)
    const member = s.members.find((m) => s.members[0]!.consensus.state.committee.facilitators.includes(m.id))!
    await member.consensus.stop()
    const saved = Array.from({ length: member.consensus.history.round }, (_, i) => member.consensus.history.certificate(i + 1)!)
    const last = saved.at(-1)!
    // A tampered copy after the good ones: the replay stops there instead of applying it.
    const forged = { ...last, result: { ...last.result, body: { ...last.result.body, round: last.result.body.round + 1 } } }
    const restarted = createSolarSystemNode({
      crypto: s.crypto,
      keyPair: member.keyPair,
      network: member.sim,
      clock: s.net.clock,
      // The member's chain appends the checkpoints and hands out their stretches (no transfers run here).
      chain: member.chain,
      genesis: s.genesis,
      rules: s.rules,
      timing: { proposalTimeoutMs: 300 },
      restore: [...saved, forged],
      sitOutThroughRound: saved.length + 2,
      onError: (error) => s.errors.push(error),
    })
    try {
      await s.net.runUntil(restarted.start())
      expect(restarted.history.round).toBeGreaterThanOrEqual(saved.length)
      expect(toHexes(restarted, saved.length)).toEqual(certifiedHashes(member).slice(0, saved.length))
      const target = Math.max(...s.members.map((m) => m.consensus.history.round)) + 6
      const others = s.members.filter((m) => m !== member)
      await s.net.runUntil(
        new Promise<void>((resolve) => {
          const check = () => {
            if (restarted.history.round >= target && others.every((m) => m.consensus.history.round >= target)) resolve()
          }
          restarted.onCertificate(check)
          for (const m of others) m.consensus.onCertificate(check)
        }),
      )
      // Nothing fetched for the restored rounds, and no round up to the sit-out bound facilitated.
      expect(restarted.stats.certificatesFetched).toBeLessThan(target - saved.length + 1)
      // In the sat-out rounds where the election named it, its signature is missing from the certificate.
      const named = [saved.length + 1, saved.length + 2].filter((round) =>
        restarted.history.certificate(round - 1)!.result.nextFacilitators.includes(member.id),
      )
      expect(named.length).toBeGreaterThan(0)
      for (const round of named) expect(restarted.history.certificate(round)!.signatures.map((sig) => sig.signer)).not.toContain(member.id)
      expect(toHexes(restarted, target)).toEqual(certifiedHashes(others[0]!).slice(0, target))
      expect(s.errors).toEqual([])
    } finally {
      await restarted.stop()
    }
  })

  it('paces rounds by the members’ checkpoint delay', async () => {
    // Members that checkpoint every round: idle ones would pace the rounds by the proposal timer instead (below).
    const gaps = async (checkpointDelayMs: number): Promise<number[]> => {
      const paced = await createSolarSystemSim({
        seed: 'paced',
        members: 5,
        facilitators: 4,
        idleCheckpointRounds: 1,
        timing: { checkpointDelayMs, proposalTimeoutMs: 2_000 },
      })
      const at: number[] = []
      paced.members[0]!.consensus.onCertificate(() => at.push(paced.net.clock.now()))
      await paced.runUntilRound(8)
      await paced.stop()
      expect(paced.errors).toEqual([])
      return at.slice(1).map((time, i) => time - at[i]!)
    }
    const free = await gaps(0)
    const slowed = await gaps(400)
    // Each round waits for the checkpoints, which wait the delay after the certificate before.
    expect(Math.min(...slowed)).toBeGreaterThanOrEqual(400)
    expect(Math.min(...free)).toBeLessThan(400)
  })

  it('a listener that throws is reported and does not stop the node', async () => {
    const reported: unknown[] = []
    sim = await createSolarSystemSim({ seed: 'listener', members: 5, facilitators: 4 })
    const s = sim
    s.members[1]!.consensus.onCertificate(() => {
      throw new Error('listener bug')
    })
    await s.runUntilRound(4)
    reported.push(...s.errors.splice(0))
    expect(reported.length).toBeGreaterThanOrEqual(4)
    expect(reported.every((error) => (error as Error).message === 'listener bug')).toBe(true)
    expect(certifiedHashes(s.members[1]!).slice(0, 4)).toEqual(certifiedHashes(s.members[0]!).slice(0, 4))
  })
})
