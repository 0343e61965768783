/**
 * Epoch changes in a running solar system, with real `SolarSystemNode`s on the simulator: the membership the root
 * would certify (signed join and leave requests through `applyMembershipRound`) becomes an epoch every node holds,
 * and every node switches at the same certified boundary. A joiner syncs, submits checkpoints and gets elected and
 * signs; a leaver's seat goes, it is never elected again, and certification carries on without it.
 */
import { toHex } from '@constellation/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  applyMembershipRound,
  type CheckpointCertificate,
  emptyAssignment,
  EpochSchedule,
  type MembershipRules,
  membersOf,
  signMembershipRequest,
} from '../../src/index.js'
import { createSimMember, createSolarSystemSim, type SimMember, type SolarSystemSim } from '../support/solar-system-sim.js'

let sim: SolarSystemSim | undefined
let extra: SimMember[] = []
afterEach(async () => {
  for (const member of extra) {
    await member.consensus.stop()
    await member.chain.stop()
  }
  extra = []
  await sim?.stop()
  sim = undefined
})

const MEMBERSHIP: MembershipRules = {
  facilitators: 4,
  membersPerFacilitator: 2,
  maxMembersForThroughput: 64,
  admissionsPerRound: 8,
  maxNewcomerShare: 1,
  newcomerAgeRounds: 1,
  silentRounds: 100,
  maxPending: 64,
}

describe('epoch change in a running solar system', () => {
  it('admits a joiner that then checkpoints, is elected and signs; removes a leaver; every node switches at one round', async () => {
    const epochs = new EpochSchedule()
    sim = await createSolarSystemSim({ seed: 'epoch', members: 6, facilitators: 4, epochs })
    const s = sim
    const crypto = s.crypto
    const joinerKey = crypto.keyPairFromSeed(crypto.sha256(new TextEncoder().encode('epoch/joiner')))
    const joinerId = toHex(joinerKey.publicKey)
    const [leaver, ...stayers] = s.members as [SimMember, ...SimMember[]]
    // The membership the root certifies: the genesis members' joins, then the joiner's join and the leaver's leave.
    const joins = s.members.map((m) => signMembershipRequest(crypto, m.keyPair, { kind: 'join', nonce: 1 }))
    const first = applyMembershipRound(crypto, MEMBERSHIP, emptyAssignment(), { round: 1, resultHash: crypto.sha256(new Uint8Array([1])), requests: joins, seen: new Set() })
    expect(membersOf(first, 'sol-0')).toEqual([...s.genesis.members].sort())
    const changes = [signMembershipRequest(crypto, joinerKey, { kind: 'join', nonce: 1 }), signMembershipRequest(crypto, leaver.keyPair, { kind: 'leave', nonce: 2 })]
    const second = applyMembershipRound(crypto, MEMBERSHIP, first, { round: 2, resultHash: crypto.sha256(new Uint8Array([2])), requests: changes, seen: new Set(s.genesis.members) })
    const next = membersOf(second, 'sol-0')
    expect(next).toContain(joinerId)
    expect(next).not.toContain(leaver.id)

    await s.runUntilRound(2)
    const boundary = Math.max(...s.members.map((m) => m.consensus.history.round)) + 3
    epochs.add(boundary, next)
    // The leaver stops once the round before the boundary is certified: from then on its seat is gone.
    leaver.consensus.onCertificate(({ result }) => {
      if (result.body.round === boundary - 1) void leaver.consensus.stop()
    })
    const joiner = await createSimMember(s.net, joinerKey, { seed: 99, genesis: s.genesis, rules: s.rules, errors: s.errors, epochs })
    extra.push(joiner)
    void joiner.consensus.start()

    // Run until the joiner has signed a certificate (it must be elected for that), within a bound of rounds.
    const signedByJoiner = (c: CheckpointCertificate) => c.signatures.some((sig) => sig.signer === joinerId)
    const done = new Promise<void>((resolve) => {
      const off = stayers[0]!.consensus.onCertificate((certificate) => {
        if (signedByJoiner(certificate) && certificate.result.body.round >= boundary + 2) {
          off()
          resolve()
        }
      })
    })
    await s.net.runUntil(done, 300_000)
    const top = stayers[0]!.consensus.history.round
    expect(top).toBeLessThan(boundary + 40)

    for (const node of [...stayers, joiner]) {
      const history = node.consensus.history
      for (let round = 1; round <= top - 1; round++) {
        expect(toHex(history.resultHashOf(round)!), `round ${round}`).toBe(toHex(stayers[0]!.consensus.history.resultHashOf(round)!))
      }
      expect([...node.consensus.state.members].sort()).toEqual(next)
    }
    const certificate = (round: number) => stayers[0]!.consensus.history.certificate(round)!
    const checkpointers = (round: number) => certificate(round).result.body.checkpoints.map((entry) => toHex(entry.publicKey))
    for (let round = 1; round < boundary; round++) {
      expect(checkpointers(round)).not.toContain(joinerId)
      if (round > 1) expect(certificate(round - 1).result.nextFacilitators).not.toContain(joinerId)
    }
    // From the boundary on: the joiner's checkpoints are certified, the leaver's are not, and it is never elected.
    expect(certificate(boundary - 1).result.nextFacilitators).not.toContain(leaver.id)
    for (let round = boundary; round <= top; round++) {
      expect(checkpointers(round)).not.toContain(leaver.id)
      expect(certificate(round).result.nextFacilitators).not.toContain(leaver.id)
      expect(certificate(round).signatures.map((sig) => sig.signer)).not.toContain(leaver.id)
    }
    expect(Array.from({ length: top - boundary + 1 }, (_, i) => checkpointers(boundary + i)).flat()).toContain(joinerId)
    expect(s.errors).toEqual([])
  })
})
