import { toHex } from '@constellation/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { certifiedHashes, createSolarSystemSim, type SolarSystemSim } from '../support/solar-system-sim.js'

let sim: SolarSystemSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

describe('a solar system on the simulator', () => {
  it('certifies rounds: every member holds the same certified history, and every member checkpoints each round', async () => {
    sim = await createSolarSystemSim({ seed: 1, members: 16, facilitators: 4 })
    await sim.runUntilRound(5)
    expect(sim.errors).toEqual([])
    const reference = certifiedHashes(sim.members[0]!)
    expect(reference.length).toBeGreaterThanOrEqual(5)
    for (const member of sim.members) expect(certifiedHashes(member).slice(0, 5)).toEqual(reference.slice(0, 5))
    const round3 = sim.members[0]!.consensus.history.certificate(3)!
    expect(round3.result.body.checkpoints.length).toBeGreaterThanOrEqual(12)
    expect(round3.signatures.length).toBe(3)
    expect(new Set(round3.result.body.checkpoints.map((entry) => toHex(entry.publicKey))).size).toBe(round3.result.body.checkpoints.length)
  })
})
