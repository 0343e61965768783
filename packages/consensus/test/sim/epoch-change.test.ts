/**
 * Epoch changes in a running solar system, with real `SolarSystemNode`s on the simulator: the membership the root
 * would certify (signed join and leave requests through `applyMembershipRound`) becomes an epoch every node holds,
 * and every node switches at the same certified boundary. A joiner syncs, submits checkpoints and gets elected and
 * signs; a leaver's seat goes, it is never elected again, and certification carries on without it.
 */
import { toHex } from '@constellation/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { type CheckpointCertificate, EpochSchedule, resultHash, signMembershipRequest } from '../../src/index.js'
import { applyResult, genesisState, nextResult, scheduleMembers } from '../../src/round.js'
import { applyMembershipRound, emptyAssignment, membersOf } from '../../src/hierarchy.js'
import { createSimMember, createSolarSystemSim, type SimMember, type SolarSystemSim } from '../support/solar-system-sim.js'
import { SHELL_MEMBERSHIP } from '../support/membership-rules.js'

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
    const first = applyMembershipRound(crypto, SHELL_MEMBERSHIP, emptyAssignment(), {
      round: 1,
      resultHash: crypto.sha256(new Uint8Array([1])),
      requests: joins,
      seen: new Set(),
    })
    expect(membersOf(first, 'sol-0')).toEqual([...s.genesis.members].sort())
    const changes = [
      signMembershipRequest(crypto, joinerKey, { kind: 'join', nonce: 1 }),
      signMembershipRequest(crypto, leaver.keyPair, { kind: 'leave', nonce: 2 }),
    ]
    const second = applyMembershipRound(crypto, SHELL_MEMBERSHIP, first, {
      round: 2,
      resultHash: crypto.sha256(new Uint8Array([2])),
      requests: changes,
      seen: new Set(s.genesis.members),
    })
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
  it('the switch is part of the state: a follower without the epoch refuses the certificate that hands over to it', async () => {
    sim = await createSolarSystemSim({ seed: 'epoch-pure', members: 6, facilitators: 4 })
    const s = sim
    await s.runUntilRound(3)
    const history = s.members[0]!.consensus.history
    const newcomer = toHex(s.crypto.keyPairFromSeed(new Uint8Array(32).fill(7)).publicKey)
    // Both sides from the state after round 1 with the epoch scheduled: the facilitators' result of round 2 elects
    // from the new members, and the followers holding the same schedule accept it.
    let state = genesisState(s.crypto, s.genesis, s.rules)
    state = applyResult(s.rules, state, history.certificate(1)!.result, history.resultHashOf(1)!)
    const body = history.certificate(2)!.result.body
    const hash = resultHash(s.crypto, body)
    // The epoch removes a member the old set's election would pick, and admits a newcomer.
    const unscheduledElected = nextResult(s.rules, state, body, hash).result.nextFacilitators
    const removed = unscheduledElected[0]!
    const next = [...s.genesis.members.filter((id) => id !== removed), newcomer]
    const scheduled = scheduleMembers(state, next)
    const { result, state: after } = nextResult(s.rules, scheduled, body, hash)
    expect([...after.members].sort()).toEqual([...next].sort())
    expect(result.nextFacilitators.every((id) => next.includes(id))).toBe(true)
    expect(after.memes.map((meme) => meme.id)).not.toContain(removed)
    expect(result.nextFacilitators).not.toContain(removed)
    expect(after.memes.map((meme) => meme.id)).toContain(newcomer)
    expect([...applyResult(s.rules, scheduled, result, hash).members].sort()).toEqual([...next].sort())
    // A follower without the schedule runs the old set's election, which picks the removed member, and refuses the
    // result; with the old member set it could never accept the newcomer's checkpoints either.
    expect(() => applyResult(s.rules, state, result, hash)).toThrow(/next facilitators/)
    expect(state.members.has(newcomer)).toBe(false)
    expect(() => scheduleMembers(state, [newcomer, newcomer])).toThrow(/twice/)
    expect(() => scheduleMembers(state, [])).toThrow(/at least one/)
    const epochs = new EpochSchedule()
    expect(epochs.membersFrom(5)).toBeUndefined()
    expect(() => epochs.add(5, next)).toThrow(/too close/)
    epochs.add(6, next)
    expect(epochs.membersFrom(6)).toEqual([...next].sort())
  })
})
