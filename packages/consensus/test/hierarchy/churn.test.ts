/**
 * Churn on the seeded simulator: 20% of the nodes — facilitators and validators among them — leave (a signed
 * leave request, then silence) and rejoin (a signed join with a higher nonce, a sync of the certificates they
 * missed, checkpoints again), staggered over the run. Every level keeps certifying; every transfer that was final up
 * to the root before and during the churn is still proven final afterwards from the root's genesis alone; the root
 * certified every leave and rejoin, and the assignment every observer derives from the root follows them.
 * CONSENSUS_CHURN_SYSTEMS sets the solar systems (default 4 of 10 members; star clusters of two).
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { createRandom } from '@constellation/gossip'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  certificateDigest,
  checkRootedAgreementProof,
  committeesOf,
  type MembershipRequest,
  type MembershipRules,
  type RootedAgreementProof,
  signMembershipRequest,
  verifyCertificateChain,
} from '../../src/index.js'
import { applyMembershipRound, certifiedRequests, emptyAssignment, indexMembershipRequests, solarSystemThreshold } from '../../src/hierarchy.js'
import { HierarchySim } from '../support/hierarchy-sim.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const RULES: MembershipRules = {
  facilitators: 4,
  membersPerFacilitator: 3,
  maxMembersForThroughput: 1_024,
  admissionsPerRound: 12,
  maxNewcomerShare: 1,
  newcomerAgeRounds: 1,
  silentRounds: 1_000,
  maxPending: 1_000,
}

const SYSTEMS = Number(process.env.CONSENSUS_CHURN_SYSTEMS ?? 4)
const MIN_START = 1_200
const GAP = 300
const AWAY = 800

describe('churn', () => {
  it('20% leave and rejoin: every level keeps certifying, nothing final is lost or invalidated, membership follows', async () => {
    const away = new Map<string, [number, number]>()
    const sim = new HierarchySim({
      crypto,
      seed: 'churn',
      systems: SYSTEMS,
      membersPerSystem: 10,
      facilitators: 4,
      fanOut: 2,
      validatorsPerGroup: 4,
      upperFacilitators: 4,
      realTransfers: true,
      membership: true,
      proposalTimeoutMs: 300,
      upperProposalTimeoutMs: 200,
      offline: (id, time) => {
        const window = away.get(id)
        return window !== undefined && time >= window[0] && time < window[1]
      },
    })
    // 20% of the nodes, one leaving every GAP ms: a validator of a star cluster, one of the root, a solar system's
    // facilitator, and the rest drawn by the seed from everyone else.
    const count = sim.nodes.length / 5
    const [cluster, top, solar] = [sim.groups.find((g) => g.level === 1)!, sim.root, sim.systems[2]!]
    const picked = [
      cluster.genesis.members.find((id) => !top.genesis.members.includes(id))!,
      top.genesis.members[1]!,
      solar.genesis.facilitators.find((id) => !cluster.genesis.members.includes(id) && !top.genesis.members.includes(id))!,
    ].map((id) => sim.node(id)!)
    const random = createRandom('churn/who')
    const pool = sim.nodes.filter((node) => !picked.includes(node))
    const churners = [...picked, ...Array.from({ length: count - picked.length }, () => pool.splice(random.int(pool.length), 1)[0]!)]
    expect(new Set(churners).size).toBe(count)
    const requests: MembershipRequest[] = []
    const submit = (request: MembershipRequest) => {
      requests.push(request)
      sim.submitMembershipRequest(request)
    }
    sim.start()
    // Everyone joined once (nonce 1), so the assignment starts with the whole network.
    for (const node of sim.nodes) submit(signMembershipRequest(crypto, node.keyPair, { kind: 'join', nonce: 1 }))
    // The churn starts once transfers are final up to the root (later for a deeper hierarchy).
    sim.run(60_000, () => sim.clock.now() >= MIN_START && sim.root.state.round >= 4 + 2 * sim.root.level)
    const start = Math.ceil(sim.clock.now())
    for (const [k, node] of churners.entries()) {
      const from = start + k * GAP
      away.set(node.id, [from, from + AWAY])
      sim.clock.setTimer(from - 1, () => submit(signMembershipRequest(crypto, node.keyPair, { kind: 'leave', nonce: 2 })))
      sim.clock.setTimer(from + AWAY, () => submit(signMembershipRequest(crypto, node.keyPair, { kind: 'join', nonce: 3 })))
    }
    const end = start + churners.length * GAP + AWAY

    // Final before the churn and in the middle of it: remembered, to check again at the end.
    const remembered = new Map<number, RootedAgreementProof>()
    const snapshot = () => {
      for (const [i, transfer] of sim.transfers.entries()) {
        const rooted = sim.rootedProof(transfer)
        if (rooted !== undefined && !remembered.has(i)) remembered.set(i, rooted)
      }
    }
    snapshot()
    const before = remembered.size
    const roundsAtStart = sim.groups.map((g) => g.state.round)
    sim.run(start + (end - start) / 2)
    snapshot()
    const rootMid = sim.root.state.round
    const rootDigestsMid = Array.from({ length: rootMid }, (_, i) =>
      toHex(certificateDigest(crypto, sim.index.history(sim.root.level, sim.root.genesis.group)!.certificate(i + 1)!.result)),
    )
    sim.run(end)
    const roundsAtEnd = sim.groups.map((g) => g.state.round)
    // Then until the root has certified every rejoin (and at least 1.5 s).
    const rejoined = () => churners.every((node) => sim.root.state.lastCheckpoints.get(node.id)?.entry.sequenceNumber === 3)
    sim.run(end + 20_000, () => sim.clock.now() >= end + 1_500 && rejoined())
    expect(rejoined()).toBe(true)
    expect(sim.errors).toEqual([])

    // Every group, at every level, certified during the churn and after it.
    for (const [i, group] of sim.groups.entries()) {
      expect(roundsAtEnd[i]! - roundsAtStart[i]!, `${group.genesis.group} during the churn`).toBeGreaterThanOrEqual(3)
      expect(group.state.round - roundsAtEnd[i]!, `${group.genesis.group} after the churn`).toBeGreaterThanOrEqual(2)
    }

    // Nothing final was lost or invalidated: the root's history from its genesis still proves every remembered one.
    const root = sim.index.history(sim.root.level, sim.root.genesis.group)!
    const trusted = await verifyCertificateChain(
      crypto,
      sim.root.genesis,
      Array.from({ length: root.round }, (_, i) => root.certificate(i + 1)!),
    )
    expect(before).toBeGreaterThanOrEqual(4)
    expect(remembered.size).toBeGreaterThan(before)
    expect(trusted.round).toBeGreaterThan(rootMid)
    expect(Array.from({ length: rootMid }, (_, i) => toHex(certificateDigest(crypto, trusted.certificate(i + 1)!.result)))).toEqual(rootDigestsMid)
    for (const [i, rooted] of remembered) {
      expect(await checkRootedAgreementProof(crypto, rooted, committeesOf(trusted))).toBeUndefined()
      // Built again now, from the histories as they stand after the churn, the proof still holds (every 4th: cost).
      if (i % 4 !== 0) continue
      const again = sim.rootedProof(sim.transfers[i]!)!
      expect(await checkRootedAgreementProof(crypto, again, committeesOf(trusted))).toBeUndefined()
    }
    // And the churn did not stop transfers from becoming final.
    expect(sim.transfers.filter((t) => sim.rootedProof(t) !== undefined).length).toBeGreaterThan(remembered.size)

    // The rejoiners synced what they missed and checkpointed again: their checkpoints are certified after their return.
    let synced = 0
    for (const node of churners) {
      // A rejoiner whose solar system certified rounds while it was away fetched them (if its absence stalled the
      // system — one facilitator too many away — there was nothing to fetch).
      const [from, to] = away.get(node.id)!
      const missed = node.system.certifiedAt.filter((time) => time >= from && time < to).length
      if (missed >= 2) expect(node.syncs, node.id.slice(0, 8)).toBeGreaterThanOrEqual(1)
      if (node.syncs > 0) synced++
      const history = sim.index.history(0, node.system.genesis.group)!
      const last = history.checkpointsOf(node.id).at(-1)!
      expect(node.system.certifiedAt[last.round]!).toBeGreaterThan(to)
    }
    expect(synced).toBeGreaterThanOrEqual(churners.length / 2)

    // The root certified every leave and rejoin; observers following the root saw each churner leave and come back.
    const held = indexMembershipRequests(crypto, requests)
    const childKeys = new Set(sim.root.children.map((child) => child.key))
    let assignment = emptyAssignment()
    const left = new Set<string>()
    const firstJoined = new Map<string, number>()
    for (let r = 1; r <= trusted.round; r++) {
      const { requests: picked, missing } = certifiedRequests(trusted.certificate(r)!.result.body, held, childKeys)
      expect(missing).toBe(0)
      assignment = applyMembershipRound(crypto, RULES, assignment, {
        round: r,
        resultHash: trusted.resultHashOf(r)!,
        requests: picked,
        seen: new Set(assignment.members.keys()),
      })
      for (const node of churners) {
        if (!assignment.members.has(node.id) && assignment.nonces.get(node.id) === 2) left.add(node.id)
        const joined = assignment.members.get(node.id)?.joined
        if (joined !== undefined && !firstJoined.has(node.id)) firstJoined.set(node.id, joined)
      }
    }
    // Most leaves show as an absence; a leave and the rejoin after it that reach the root in one round are certified
    // together and show as the node placed again in that round. Either way every churner was placed again.
    expect(left.size).toBeGreaterThanOrEqual(churners.length / 2)
    for (const node of churners) {
      expect(assignment.nonces.get(node.id)).toBe(3)
      expect(assignment.members.has(node.id)).toBe(true)
      expect(assignment.members.get(node.id)!.joined).toBeGreaterThan(firstJoined.get(node.id)!)
    }
    expect(assignment.members.size).toBe(sim.nodes.length)
    expect(assignment.systems.length).toBe(Math.ceil(sim.nodes.length / solarSystemThreshold(RULES)))
  }, 60_000)
})
