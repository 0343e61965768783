import { encodeCanonical } from '@constellation/crypto'
import { GossipErrorCode, isGossipError } from '@constellation/gossip'
import { afterEach, describe, expect, it } from 'vitest'
import { CERTIFICATES_PROTOCOL, certificateTopic, CHECKPOINT_PROTOCOL, ROUND_PROTOCOL } from '../../src/index.js'
import { certifiedHashes, createSolarSystemSim, type SolarSystemSim } from '../support/solar-system-sim.js'

let sim: SolarSystemSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

describe('bad input at the consensus boundary', () => {
  it('refuses malformed frames, submissions, range requests and certificates with errors, and keeps certifying', async () => {
    sim = await createSolarSystemSim({ seed: 'bad-input', members: 6, facilitators: 4 })
    const s = sim
    await s.runUntilRound(2)
    const [target, attacker] = [s.members[0]!, s.members[5]!]
    const junk = [
      new Uint8Array([0xff, 0xfe]),
      encodeCanonical({ level: 0, group: 'sol-0', round: 3, acs: [], shares: [new Uint8Array(3)] }),
      encodeCanonical({ level: 0, group: 'sol-0', round: 3, acs: [], shares: [], extra: 1 }),
      encodeCanonical({ level: 0, group: 'other', block: new Uint8Array(10) }),
      encodeCanonical({ level: 0, group: 'sol-0', from: 1, count: 100_000 }),
    ]
    for (const protocol of [ROUND_PROTOCOL, CHECKPOINT_PROTOCOL, CERTIFICATES_PROTOCOL]) {
      for (const bytes of junk) {
        const answer = attacker.sim.request(target.id, protocol, bytes).then(
          () => 'answered',
          (error: unknown) => (isGossipError(error) && error.code === GossipErrorCode.REMOTE_ERROR ? 'refused' : String(error)),
        )
        expect(await s.net.runUntil(answer), `${protocol} ${Buffer.from(bytes).toString('hex').slice(0, 40)}`).toBe('refused')
      }
    }
    // A node that is not a member may not feed the round, however well-formed its frame.
    const outsider = s.net.addNode()
    await outsider.start()
    const frame = encodeCanonical({ level: 0, group: 'sol-0', round: target.consensus.state.round + 1, acs: [], shares: [] })
    const fromOutsider = outsider.request(target.id, ROUND_PROTOCOL, frame).then(
      () => 'answered',
      () => 'refused',
    )
    expect(await s.net.runUntil(fromOutsider)).toBe('refused')
    expect(target.consensus.stats.certificatesRejected).toBe(0)
    await s.net.runUntil(attacker.sim.publish(certificateTopic(0, 'sol-0'), encodeCanonical({ round: 99, certificate: new Uint8Array(5) })))
    // Rounds are quick now (no crawling): run on from wherever the junk left the rounds, so the gossip arrives.
    await s.runUntilRound(Math.max(4, target.consensus.history.round + 2))
    expect(target.consensus.stats.certificatesRejected).toBe(1)
    expect(s.errors).toEqual([])
    expect(certifiedHashes(target).slice(0, 4)).toEqual(certifiedHashes(attacker).slice(0, 4))
  })
})
