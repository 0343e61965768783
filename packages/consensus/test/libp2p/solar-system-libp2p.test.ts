/**
 * The solar-system consensus over Libp2pNetwork between real processes on 127.0.0.1: four processes, one member
 * each, all four facilitators (n = 4, t = 1). Every member certifies rounds with the same result hashes, a
 * transfer between two members becomes final at both, and the processes exit cleanly when told to stop.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type SolarCluster, startSolarCluster } from '../../bench/support/solar-cluster.js'

/** Generous: four node processes start under tsx on a shared 2-core machine. */
const TEST_TIMEOUT_MS = 90_000

let cluster: SolarCluster | undefined
afterEach(async () => {
  // A failed test still takes its processes down.
  for (const p of cluster?.processes ?? []) p.kill()
  cluster = undefined
})

describe('solar system over libp2p', () => {
  it(
    'four processes certify identical rounds, finalise a transfer and exit on stop',
    async () => {
      const c = await startSolarCluster({ seed: 'libp2p-test', members: 4, facilitators: 4 }, 4)
      cluster = c
      await c.untilRound(3)

      const byMember = c.byMember()
      expect([...byMember.keys()].sort()).toEqual([0, 1, 2, 3])
      const reference = byMember.get(0) as Map<number, { resultHash: string; signers: readonly string[] }>
      for (const round of [1, 2, 3]) {
        const hashes = new Set([...byMember.values()].map((rounds) => rounds.get(round)?.resultHash))
        expect(hashes.size, `round ${round}`).toBe(1)
        expect([...hashes][0]).toMatch(/^[0-9a-f]{64}$/)
        // 2t + 1 = 3 of the 4 facilitators signed.
        expect(reference.get(round)?.signers.length).toBeGreaterThanOrEqual(3)
      }

      const { transaction } = await c.propose(0, 1, 25)
      const [atProposer, atCounterparty] = await Promise.all([c.awaitFinal(0, transaction), c.awaitFinal(1, transaction)])
      expect(atProposer.final).toBe(true)
      expect(atCounterparty.final).toBe(true)

      const stats = await c.stats()
      expect(stats.every((s) => s.framesSent > 0 && s.messagesSent >= s.framesSent)).toBe(true)
      expect(c.processes.flatMap((p) => p.errors)).toEqual([])

      const codes = await c.stop()
      expect(codes).toEqual([0, 0, 0, 0])
    },
    TEST_TIMEOUT_MS,
  )
})
