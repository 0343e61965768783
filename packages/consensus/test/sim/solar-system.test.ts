import { toHex } from '@constellation/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConsensusNetwork } from '../../src/index.js'
import { decodeCertificateAnnouncement } from '../../src/shell/wire.js'
import { certifiedHashes, createSolarSystemSim, type SolarSystemSim } from '../support/solar-system-sim.js'

let sim: SolarSystemSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

describe('a solar system on the simulator', () => {
  it('certifies rounds: every member holds the same certified history, and with an idle cadence of 1 every member checkpoints each round', async () => {
    sim = await createSolarSystemSim({ seed: 1, members: 16, facilitators: 4, idleCheckpointRounds: 1 })
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

  it('publishes each certificate about once: the round’s first facilitator in turn publishes, the others only if they hear none', async () => {
    const published = new Map<number, number>()
    const counting = (network: ConsensusNetwork): ConsensusNetwork => ({
      peerId: network.peerId,
      limits: network.limits,
      publish: (topic, data) => {
        const { round } = decodeCertificateAnnouncement(data)
        published.set(round, (published.get(round) ?? 0) + 1)
        return network.publish(topic, data)
      },
      subscribe: (topic, handler) => network.subscribe(topic, handler),
      handle: (protocol, handler) => network.handle(protocol, handler),
      peers: () => network.peers(),
      request: (peer, protocol, data, options) => network.request(peer, protocol, data, options),
    })
    sim = await createSolarSystemSim({ seed: 2, members: 8, facilitators: 4, corrupt: new Map(Array.from({ length: 8 }, (_, i) => [i, counting])) })
    await sim.runUntilRound(8)
    expect(sim.errors).toEqual([])
    const rounds = [...published.keys()].filter((round) => round <= 8)
    expect(rounds.length).toBeGreaterThanOrEqual(7)
    // Four facilitators make a certificate each round; before this, each published its own copy (four per round).
    const total = rounds.reduce((sum, round) => sum + (published.get(round) ?? 0), 0)
    expect(total / rounds.length).toBeLessThan(1.5)
  })
})
