/**
 * Epochs derived from the root, with the real shells on the simulator: two solar systems of `SolarSystemNode`s and a
 * star cluster of `LevelNode` validators as the root, certifying membership. Every member runs an `EpochFollower`
 * that follows the cluster's certificates and derives its solar system's epochs; nobody hands out a schedule. A node
 * sends a signed join to one validator and a member a signed leave to another; the cluster certifies both; the solar
 * system switches to the new member set at the same round on every member, the joiner signs, a member that was
 * offline meanwhile catches up and agrees. A member that derives with another delay refuses the others' handover.
 * A join that a Byzantine validator put only in its own proposal (never gossiped, never served by it) is still
 * served once certified: the validators that folded the proposal keep it, the others fetch it from them.
 */
import { toHex } from '@constellation/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type CheckpointCertificate,
  type ConsensusNetwork,
  ConsensusErrorCode,
  decodeMembershipRequest,
  type EpochRules,
  isConsensusError,
  signMembershipRequest,
  submitMembershipRequest,
} from '../../src/index.js'
import { deriveEpoch, type EpochDerivation, membershipRequestDigest, type RootResult, settledThrough, startEpochDerivation } from '../../src/hierarchy.js'
import { decodeMembershipRequestsAnswer, encodeMembershipRequestsAnswer, encodeRequestDigests, levelProtocols, membershipTopic } from '../../src/shell/wire.js'
import { type ClusterSim, createClusterSim } from '../support/cluster-sim.js'
import { SHELL_MEMBERSHIP } from '../support/membership-rules.js'
import type { SimMember } from '../support/solar-system-sim.js'

const RULES: EpochRules = { membership: SHELL_MEMBERSHIP, delay: 4 }

let sim: ClusterSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

/** Runs cluster round after cluster round until `done` holds (at most `limit` rounds). */
async function runUntil(s: ClusterSim, done: () => boolean, limit = 60): Promise<void> {
  for (let round = s.validators[0]!.level.history.round + 1; !done() && round <= limit; round++) await s.runUntilClusterRound(round)
  expect(done()).toBe(true)
}

const signers = (certificate: CheckpointCertificate) => certificate.signatures.map((sig) => sig.signer)

describe('epochs derived from the root’s certified results', () => {
  it('a join and a leave certified by the root switch the solar system at one round on every member; an offline member catches up and agrees', async () => {
    sim = await createClusterSim({
      seed: 'derived-epochs',
      systems: 2,
      membersPerSystem: 4,
      facilitators: 4,
      validators: 4,
      membership: true,
      epochs: () => RULES,
    })
    const s = sim
    const [m0, m1, offline, leaver] = s.systems[0]!.members as [SimMember, SimMember, SimMember, SimMember]
    const follower = (member: SimMember) => s.followers.get(member.id)!
    await s.runUntilClusterRound(2)
    // One member sleeps through the root results that certify the change.
    await follower(offline).stop()
    await offline.consensus.stop()
    const offlineRootRound = follower(offline).history.round

    const joinerKey = s.crypto.keyPairFromSeed(s.crypto.sha256(new TextEncoder().encode('derived-epochs/joiner')))
    const joinerId = toHex(joinerKey.publicKey)
    const client = s.systems[1]!.members[3]!
    await s.net.runUntil(
      submitMembershipRequest(client.sim, s.validators[0]!.member.id, signMembershipRequest(s.crypto, joinerKey, { kind: 'join', nonce: 1 }), { level: 1 }),
    )
    await s.net.runUntil(
      submitMembershipRequest(leaver.sim, s.validators[1]!.member.id, signMembershipRequest(s.crypto, leaver.keyPair, { kind: 'leave', nonce: 1 }), {
        level: 1,
      }),
    )
    const expected = [m0.id, m1.id, offline.id, joinerId].sort()
    const derivedAll = () => follower(m0).derivation.members.join() === expected.join()
    await runUntil(s, derivedAll)
    // The joiner learns from the same derivation where it was seated, and joins that solar system.
    expect(follower(m0).derivation.assignment.members.get(joinerId)?.group).toBe('sol-0')
    const joiner = await s.addMember(joinerKey, 'sol-0', RULES, 77)
    const epochs = follower(m0).derivation.epochs
    const boundary = epochs.at(-1)!.fromRound
    expect(epochs.at(-1)!.members).toEqual(expected)

    const live = [m0, m1, joiner]
    await runUntil(s, () => live.every((m) => m.consensus.history.round >= boundary + 3))
    expect(follower(offline).history.round).toBe(offlineRootRound)
    void follower(offline).start()
    void offline.consensus.start()
    await runUntil(s, () => offline.consensus.history.round >= boundary + 3)

    // Every member of sol-0 (the leaver too, which follows on) derived the same epochs.
    for (const m of [m1, offline, leaver, joiner]) expect(follower(m).derivation.epochs, m.id).toEqual(epochs)
    // sol-1 kept its members: its followers derived no epoch.
    for (const m of s.systems[1]!.members) expect(follower(m).derivation.epochs).toEqual([])

    const top = Math.min(...[...live, offline].map((m) => m.consensus.history.round))
    const reference = m0.consensus.history
    for (const m of [m1, offline, joiner]) {
      for (let round = 1; round <= top; round++)
        expect(toHex(m.consensus.history.resultHashOf(round)!), `round ${round}`).toBe(toHex(reference.resultHashOf(round)!))
      expect([...m.consensus.state.members].sort()).toEqual(expected)
    }
    // Each epoch took effect at its boundary: the result before it elects from the new members, checkpoints from it on are theirs.
    const certificate = (round: number) => reference.certificate(round)!
    for (const [i, epoch] of epochs.entries()) {
      const end = epochs[i + 1]?.fromRound ?? top + 1
      for (let round = epoch.fromRound - 1; round < end; round++) {
        for (const id of certificate(round).result.nextFacilitators) expect(epoch.members).toContain(id)
      }
      for (let round = epoch.fromRound; round < end; round++) {
        for (const entry of certificate(round).result.body.checkpoints) expect(epoch.members).toContain(toHex(entry.publicKey))
      }
    }
    expect(certificate(boundary - 2).result.nextFacilitators).toContain(leaver.id)
    const after = Array.from({ length: top - boundary + 1 }, (_, i) => certificate(boundary + i))
    // The joiner checkpoints once it is a member (from the state the boundary's round starts from) and, idle after
    // that, not again (see checkpoint-cadence.ts): its checkpoint is certified in the round before the boundary or later.
    const joining = [certificate(boundary - 1), ...after]
    expect(joining.flatMap((c) => c.result.body.checkpoints.map((entry) => toHex(entry.publicKey)))).toContain(joinerId)
    expect(after.flatMap(signers)).toContain(joinerId)
    expect(after.flatMap(signers)).not.toContain(leaver.id)
    expect(follower(offline).stats.rootCertificates).toBeGreaterThan(0)
    expect(s.errors).toEqual([])
  })

  it('a member that derives with another delay cannot follow the handover: it refuses the others’ result and signs none of it', async () => {
    const wrong: EpochRules = { ...RULES, delay: RULES.delay + 1 }
    sim = await createClusterSim({
      seed: 'derived-epochs-wrong',
      systems: 2,
      membersPerSystem: 4,
      facilitators: 4,
      validators: 4,
      membership: true,
      epochs: (system, member) => (system === 0 && member === 2 ? wrong : RULES),
    })
    const s = sim
    const [m0, m1, misled, leaver] = s.systems[0]!.members as [SimMember, SimMember, SimMember, SimMember]
    await s.runUntilClusterRound(2)
    await s.net.runUntil(
      submitMembershipRequest(leaver.sim, s.validators[1]!.member.id, signMembershipRequest(s.crypto, leaver.keyPair, { kind: 'leave', nonce: 1 }), {
        level: 1,
      }),
    )
    const honest = s.followers.get(m0.id)!
    await runUntil(s, () => honest.derivation.epochs.length > 0)
    const [epoch] = honest.derivation.epochs
    const boundary = epoch!.fromRound
    expect(epoch!.members).toEqual([m0.id, m1.id, misled.id].sort())
    // Same assignment, another boundary: the misled member schedules the switch one round late.
    await runUntil(s, () => s.followers.get(misled.id)!.derivation.epochs.length > 0)
    expect(s.followers.get(misled.id)!.derivation.epochs).toEqual([{ ...epoch, fromRound: boundary + 1 }])
    await runUntil(s, () => m0.consensus.history.round >= boundary - 1 && m1.consensus.history.round >= boundary - 1)
    await s.runUntilClusterRound(s.validators[0]!.level.history.round + 2)

    // The handover (round boundary - 1 elects from the new members) is certified without the misled member, which refuses it.
    const handover = m0.consensus.history.certificate(boundary - 1)!
    expect(signers(handover)).not.toContain(misled.id)
    expect(handover.result.nextFacilitators).not.toContain(leaver.id)
    expect(misled.consensus.history.round).toBe(boundary - 2)
    const refusals = s.errors.filter((error) => isConsensusError(error, ConsensusErrorCode.INVALID_CERTIFICATE) && /next facilitators/.test(error.message))
    expect(refusals.length).toBeGreaterThan(0)
    expect(s.errors.length).toBe(refusals.length)
    expect(misled.consensus.stats.certificatesRejected).toBeGreaterThan(0)
  })

  it('a join only in a Byzantine validator’s own proposal, never gossiped nor served by it, is seated by every follower alike; nobody stalls', async () => {
    sim = await createClusterSim({
      seed: 'derived-epochs-hidden',
      systems: 2,
      membersPerSystem: 4,
      facilitators: 4,
      validators: 4,
      membership: true,
      epochs: () => RULES,
      corrupt: new Map([[3, hidingValidator]]),
    })
    const s = sim
    await s.runUntilClusterRound(2)
    const joinerKey = s.crypto.keyPairFromSeed(s.crypto.sha256(new TextEncoder().encode('derived-epochs-hidden/joiner')))
    const joinerId = toHex(joinerKey.publicKey)
    const liar = s.validators[3]!
    // The join reaches the liar alone, which proposes it but passes it on to nobody.
    await s.net.runUntil(
      submitMembershipRequest(s.systems[0]!.members[3]!.sim, liar.member.id, signMembershipRequest(s.crypto, joinerKey, { kind: 'join', nonce: 1 }), {
        level: 1,
      }),
    )
    const honestValidators = s.validators.slice(0, 3)
    await runUntil(s, () => honestValidators.every((v) => v.level.state.lastCheckpoints.has(joinerId)))
    const certifying = Array.from({ length: honestValidators[0]!.level.history.round }, (_, i) => i + 1).find((round) =>
      honestValidators[0]!.level.history.certificate(round)!.result.body.checkpoints.some((entry) => toHex(entry.publicKey) === joinerId),
    )!
    const followers = [...s.followers.values()]
    // Every follower derives past the result that certified the join: the honest validators serve it.
    await runUntil(s, () => followers.every((f) => f.derivation.assignment.round >= certifying), certifying + 40)
    const seat = followers[0]!.derivation.assignment.members.get(joinerId)?.group
    expect(seat).toBeDefined()
    for (const f of followers) expect(f.derivation.assignment.members.get(joinerId)?.group).toBe(seat)
    const system = s.systems.find((candidate) => candidate.genesis.group === seat)!
    const epochs = s.followers.get(system.members[0]!.id)!.derivation.epochs
    expect(epochs.at(-1)!.members).toContain(joinerId)
    for (const m of system.members) expect(s.followers.get(m.id)!.derivation.epochs, m.id).toEqual(epochs)
    // The solar systems go on past the boundary: none is held back waiting for a request nobody can serve.
    const joiner = await s.addMember(joinerKey, seat!, RULES, 91)
    const boundary = epochs.at(-1)!.fromRound
    await runUntil(s, () => [...system.members, joiner].every((m) => m.consensus.history.round >= boundary + 2), certifying + 80)
    expect(s.errors).toEqual([])
  })

  it('a validator that missed a request’s gossip and synced by ranges fetches it from the others once certified, and serves it', async () => {
    sim = await createClusterSim({ seed: 'derived-epochs-late', systems: 2, membersPerSystem: 4, facilitators: 4, validators: 4, membership: true, late: [2] })
    const s = sim
    await s.runUntilClusterRound(2)
    const joinerKey = s.crypto.keyPairFromSeed(s.crypto.sha256(new TextEncoder().encode('derived-epochs-late/joiner')))
    const join = signMembershipRequest(s.crypto, joinerKey, { kind: 'join', nonce: 1 })
    const client = s.systems[0]!.members[3]!.sim
    await s.net.runUntil(submitMembershipRequest(client, s.validators[0]!.member.id, join, { level: 1 }))
    await runUntil(s, () => s.validators[0]!.level.state.lastCheckpoints.has(toHex(joinerKey.publicKey)))
    const late = s.validators[2]!
    await s.startValidator(2)
    await s.runUntilClusterRound(s.validators[0]!.level.history.round + 3)
    expect(late.level.state.lastCheckpoints.has(toHex(joinerKey.publicKey))).toBe(true)
    const asked = encodeRequestDigests([membershipRequestDigest(s.crypto, join)])
    const answer = await s.net.runUntil(client.request(late.member.id, levelProtocols(1).membershipRequests, asked, { timeout: 5_000 }))
    const served = decodeMembershipRequestsAnswer(answer).map((bytes) => decodeMembershipRequest(bytes))
    expect(served.map((request) => toHex(request.signature))).toEqual([toHex(join.signature)])
    expect(s.errors).toEqual([])
  })

  it('the derivation is a checked function of the root results: refused when a request or child certificate is missing or foreign', async () => {
    // Members that checkpoint every round: the root result that certifies the requests then carries child runs too.
    sim = await createClusterSim({
      seed: 'derived-epochs-pure',
      systems: 2,
      membersPerSystem: 4,
      facilitators: 4,
      validators: 4,
      membership: true,
      idleCheckpointRounds: 1,
    })
    const s = sim
    await s.runUntilClusterRound(1)
    const joinerKey = s.crypto.keyPairFromSeed(new Uint8Array(32).fill(9))
    const join = signMembershipRequest(s.crypto, joinerKey, { kind: 'join', nonce: 1 })
    const leaver = s.systems[1]!.members[2]!
    const leave = signMembershipRequest(s.crypto, leaver.keyPair, { kind: 'leave', nonce: 1 })
    await s.net.runUntil(submitMembershipRequest(leaver.sim, s.validators[0]!.member.id, join, { level: 1 }))
    await s.net.runUntil(submitMembershipRequest(leaver.sim, s.validators[0]!.member.id, leave, { level: 1 }))
    const validator = s.validators[2]!.level
    await runUntil(s, () => validator.state.lastCheckpoints.has(toHex(joinerKey.publicKey)) && validator.state.lastCheckpoints.has(leaver.id))
    const geneses = s.systems.map((system) => system.genesis)
    // The root results as a follower fetches them: the certificate, the requests, each child's committed run.
    const inputs: RootResult[] = []
    const committed = new Map<string, number>()
    for (let round = 1; round <= validator.history.round; round++) {
      const certificate = validator.history.certificate(round)!
      const runs = new Map<string, CheckpointCertificate[]>()
      for (const genesis of geneses) {
        const history = validator.index.history(0, genesis.group)!
        const upTo = certificate.result.body.checkpoints.find((entry) => toHex(entry.publicKey) === toHex(history.genesisHash))?.sequenceNumber
        if (upTo === undefined) continue
        const from = (committed.get(genesis.group) ?? 0) + 1
        runs.set(
          genesis.group,
          Array.from({ length: upTo - from + 1 }, (_, i) => history.certificate(from + i)!),
        )
        committed.set(genesis.group, upTo)
      }
      inputs.push({ certificate, requests: [leave, join], runs })
    }
    const derive = (group: string, rules: EpochRules, over: readonly RootResult[]) => {
      let derivation: EpochDerivation = startEpochDerivation(geneses, group)
      for (const input of over) derivation = deriveEpoch(s.crypto, rules, geneses, derivation, input).derivation
      return derivation
    }
    const sol1 = derive('sol-1', RULES, inputs)
    const expected = [...s.systems[1]!.genesis.members.filter((id) => id !== leaver.id), toHex(joinerKey.publicKey)].sort()
    expect(sol1.members).toEqual(expected)
    const last = sol1.epochs.at(-1)!
    expect(last.members).toEqual(expected)
    expect(settledThrough(RULES, sol1)).toBe(sol1.committed.get('sol-1')! + RULES.delay)
    // Another delay moves every boundary by as much; another order of the requests changes nothing.
    const later = derive('sol-1', { ...RULES, delay: RULES.delay + 3 }, inputs)
    expect(later.epochs.map((epoch) => epoch.fromRound)).toEqual(sol1.epochs.map((epoch) => epoch.fromRound + 3))
    expect(
      derive(
        'sol-1',
        RULES,
        inputs.map((input) => ({ ...input, requests: [...input.requests].reverse() })),
      ).epochs,
    ).toEqual(sol1.epochs)
    expect(derive('sol-0', RULES, inputs).epochs).toEqual([])

    const certifying = inputs.findIndex((input) => input.certificate.result.body.checkpoints.some((entry) => toHex(entry.publicKey) === leaver.id))
    const before = derive('sol-1', RULES, inputs.slice(0, certifying))
    const at = inputs[certifying]!
    const refused = (input: RootResult) => {
      try {
        deriveEpoch(s.crypto, RULES, geneses, before, input)
        return 'derived'
      } catch (error) {
        return isConsensusError(error, ConsensusErrorCode.INVALID_INPUT) ? 'refused' : String(error)
      }
    }
    expect(refused(at)).toBe('derived')
    expect(refused({ ...at, requests: [join] })).toBe('refused')
    const [group, run] = [...at.runs].find(([, certificates]) => certificates.length > 0)!
    expect(refused({ ...at, runs: new Map([...at.runs, [group, run.slice(0, -1)]]) })).toBe('refused')
    const other = s.systems.find((system) => system.genesis.group !== group)!.genesis.group
    const foreign = validator.index.history(0, other)!.certificate(run[0]!.result.body.round)!
    expect(refused({ ...at, runs: new Map([...at.runs, [group, [foreign, ...run.slice(1)]]]) })).toBe('refused')
    expect(certifying).toBeGreaterThan(0)
    expect(refused(inputs[certifying - 1]!)).toBe('refused') // a result that does not follow
    expect(() => derive('sol-1', { ...RULES, delay: 1 }, inputs)).toThrow(/at least 2/)
  })
})

/** A root validator that never passes on the membership requests it takes, nor serves any it certified. */
function hidingValidator(network: ConsensusNetwork): ConsensusNetwork {
  const protocols = levelProtocols(1)
  return {
    peerId: network.peerId,
    limits: network.limits,
    publish: (topic, data) => (topic === membershipTopic(1, 'cluster-0') ? Promise.resolve() : network.publish(topic, data)),
    subscribe: (topic, handler) => network.subscribe(topic, handler),
    handle: (protocol, handler) => network.handle(protocol, protocol === protocols.membershipRequests ? () => encodeMembershipRequestsAnswer([]) : handler),
    peers: () => network.peers(),
    request: (peer, protocol, data, options) => network.request(peer, protocol, data, options),
  }
}
