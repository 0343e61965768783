/**
 * Sleepy membership: joins and leaves certified by the root of the hierarchy (the real round machine on the seeded
 * simulator), the assignment every honest node derives from the certified results, solar systems opened as the
 * network grows, Sybil pressure, silent members removed and rejoiners placed again.
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { createRandom } from '@constellation/gossip'
import { beforeAll, describe, expect, it } from 'vitest'
import { defaultSolarSystemRules, type MembershipRequest, type MembershipRules, signMembershipRequest, verifyCertificateChain } from '../../src/index.js'
import { addInput, genesisState, type InputPool } from '../../src/round.js'
import {
  applyMembershipRound,
  type Assignment,
  assignmentDigest,
  certifiedRequests,
  emptyAssignment,
  indexMembershipRequests,
  type LevelInput,
  levelInputs,
  membersOf,
  solarSystemThreshold,
} from '../../src/hierarchy.js'
import { HierarchySim } from '../support/hierarchy-sim.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const RULES: MembershipRules = {
  facilitators: 16,
  membersPerFacilitator: 4,
  maxMembersForThroughput: 1_024,
  admissionsPerRound: 16,
  maxNewcomerShare: 0.5,
  newcomerAgeRounds: 2,
  silentRounds: 3,
  maxPending: 4_096,
}

function keys(label: string, count: number): KeyPair[] {
  return Array.from({ length: count }, (_, i) => {
    const seed = new Uint8Array(32)
    seed.set(new TextEncoder().encode(label).subarray(0, 24))
    new DataView(seed.buffer).setUint32(28, i)
    return crypto.keyPairFromSeed(seed)
  })
}

/** What a membership round sees of `round` of a chain of root results: hash, requests and nobody silent. */
function round(assignment: Assignment, requests: readonly MembershipRequest[], seen: Iterable<string> = assignment.members.keys()) {
  const resultHash = crypto.sha256(new TextEncoder().encode(`root/${assignment.round + 1}`))
  return { round: assignment.round + 1, resultHash, requests, seen: new Set(seen) }
}

describe('membership from the root', () => {
  it('1,000 nodes joining over time open the expected solar systems, and every honest node derives the same assignment', async () => {
    const sim = new HierarchySim({
      crypto,
      seed: 'join-1000',
      systems: 1,
      membersPerSystem: 8,
      facilitators: 4,
      fanOut: 4,
      validatorsPerGroup: 4,
      upperFacilitators: 4,
      membership: true,
      proposalTimeoutMs: 200,
      upperProposalTimeoutMs: 100,
    })
    expect(sim.root.level).toBe(1)
    const joiners = keys('joiner', 1_000)
    const requests = joiners.map((keyPair, i) => signMembershipRequest(crypto, keyPair, { kind: 'join', nonce: 1, validator: i % 10 === 0 }))
    sim.start()
    // 50 joins every 100 ms of virtual time, 20 batches.
    for (let batch = 0; batch < 20; batch++) {
      sim.clock.setTimer(100 * batch, () => {
        for (const request of requests.slice(batch * 50, batch * 50 + 50)) sim.submitMembershipRequest(request)
      })
    }
    const certified = () => requests.every((r) => sim.root.state.lastCheckpoints.has(toHex(r.publicKey)))
    sim.run(60_000, certified)
    expect(certified()).toBe(true)
    const lastJoinRound = sim.root.state.round
    sim.run(60_000, () => sim.root.state.round >= lastJoinRound + 6)
    expect(sim.errors).toEqual([])

    // Three honest observers hold the requests from gossip in different orders, with forged copies (another
    // signature) and duplicates; a fourth rebuilt the root's history from its genesis. All follow the root.
    const root = sim.index.history(sim.root.level, sim.root.genesis.group)!
    const trusted = await verifyCertificateChain(
      crypto,
      sim.root.genesis,
      Array.from({ length: root.round }, (_, i) => root.certificate(i + 1)!),
    )
    const forged = requests.slice(0, 100).map((r) => ({ ...r, signature: crypto.sign(new Uint8Array(32), joiners[999]!) }))
    const shuffled = (seed: string) => {
      const random = createRandom(seed)
      const out = [...requests, ...forged, ...requests.slice(0, 200)]
      for (let i = out.length - 1; i > 0; i--) {
        const j = random.int(i + 1)
        ;[out[i], out[j]] = [out[j]!, out[i]!]
      }
      return out
    }
    const childKeys = new Set([sim.systems[0]!.key])
    const observers = ['a', 'b', 'c'].map((seed) => ({ held: indexMembershipRequests(crypto, shuffled(seed)), assignment: emptyAssignment() }))
    for (let r = 1; r <= trusted.round; r++) {
      const body = trusted.certificate(r)!.result.body
      const digests = new Set<string>()
      for (const observer of observers) {
        const { requests: picked, missing } = certifiedRequests(body, observer.held, childKeys)
        expect(missing).toBe(0)
        observer.assignment = applyMembershipRound(crypto, RULES, observer.assignment, {
          round: r,
          resultHash: trusted.resultHashOf(r)!,
          requests: picked,
          seen: new Set(observer.assignment.members.keys()),
        })
        digests.add(toHex(assignmentDigest(crypto, observer.assignment)))
      }
      expect(digests.size, `root round ${r}`).toBe(1)
    }
    const final = observers[0]!.assignment
    const threshold = solarSystemThreshold(RULES)
    expect(threshold).toBe(64)
    expect(final.systems.length).toBe(Math.ceil(1_000 / threshold))
    expect(final.members.size).toBe(1_000)
    expect(final.pending).toEqual([])
    for (const group of final.systems) expect(membersOf(final, group).length).toBeLessThanOrEqual(threshold)
    expect([...final.members.values()].filter((m) => m.validator).length).toBe(100)
  }, 60_000)

  it('Sybil pressure: a flood of fresh keys is admitted only a few per system per round and never takes over a system', () => {
    const veterans = keys('veteran', 40)
    let assignment = emptyAssignment()
    assignment = applyMembershipRound(
      crypto,
      RULES,
      assignment,
      round(
        assignment,
        veterans.slice(0, 20).map((k) => signMembershipRequest(crypto, k, { kind: 'join', nonce: 1 })),
      ),
    )
    assignment = applyMembershipRound(
      crypto,
      RULES,
      assignment,
      round(
        assignment,
        veterans.slice(20).map((k) => signMembershipRequest(crypto, k, { kind: 'join', nonce: 1 })),
      ),
    )
    for (let i = 0; i < 3; i++) assignment = applyMembershipRound(crypto, RULES, assignment, round(assignment, []))
    expect(assignment.systems).toEqual(['sol-0'])
    expect(membersOf(assignment, 'sol-0').length).toBe(40)

    const sybils = keys('sybil', 600)
    const honest = keys('late-honest', 10)
    const flood = [...sybils, ...honest].map((k) => signMembershipRequest(crypto, k, { kind: 'join', nonce: 1 }))
    const sybilIds = new Set(sybils.map((k) => toHex(k.publicKey)))
    let before = assignment
    assignment = applyMembershipRound(crypto, RULES, assignment, round(assignment, flood))
    const cap = Math.floor(RULES.maxNewcomerShare * solarSystemThreshold(RULES))
    for (let r = 0; r < 30 && (assignment.pending.length > 0 || r === 0); r++) {
      for (const group of assignment.systems) {
        const admitted = membersOf(assignment, group).filter((id) => !before.members.has(id))
        expect(admitted.length, `${group} in round ${assignment.round}`).toBeLessThanOrEqual(RULES.admissionsPerRound)
        const newcomers = membersOf(assignment, group).filter((id) => assignment.round - assignment.members.get(id)!.joined < RULES.newcomerAgeRounds)
        expect(newcomers.length).toBeLessThanOrEqual(cap)
      }
      before = assignment
      assignment = applyMembershipRound(crypto, RULES, assignment, round(assignment, []))
    }
    expect(assignment.pending).toEqual([])
    // The veterans' system took Sybils only into its free seats, a limited number per round; the veterans stay.
    const sol0 = membersOf(assignment, 'sol-0')
    expect(sol0.filter((id) => !sybilIds.has(id)).length).toBeGreaterThanOrEqual(40)
    expect(sol0.length).toBeLessThanOrEqual(64)
    // The honest late joiners were seated among the Sybils, not behind all of them.
    for (const k of honest) expect(assignment.members.has(toHex(k.publicKey))).toBe(true)
    expect(assignment.systems.length).toBe(Math.ceil(650 / 64))
  })

  it('a full solar system admits only to replace a leaver; the rest open new solar systems, in order', () => {
    const tight: MembershipRules = { ...RULES, facilitators: 4, membersPerFacilitator: 1, admissionsPerRound: 4, maxNewcomerShare: 1 }
    expect(solarSystemThreshold(tight)).toBe(4)
    const nodes = keys('replace', 10)
    const join = (i: number, nonce = 1) => signMembershipRequest(crypto, nodes[i]!, { kind: 'join', nonce })
    let a = emptyAssignment()
    a = applyMembershipRound(
      crypto,
      tight,
      a,
      round(
        a,
        [0, 1, 2, 3].map((i) => join(i)),
      ),
    )
    expect(a.systems).toEqual(['sol-0'])
    a = applyMembershipRound(
      crypto,
      tight,
      a,
      round(
        a,
        [4, 5, 6, 7].map((i) => join(i)),
      ),
    )
    expect(a.systems).toEqual(['sol-0', 'sol-1'])
    expect([membersOf(a, 'sol-0').length, membersOf(a, 'sol-1').length]).toEqual([4, 4])
    const leaver = membersOf(a, 'sol-0')[0]!
    const leaverIndex = nodes.findIndex((k) => toHex(k.publicKey) === leaver)
    a = applyMembershipRound(crypto, tight, a, round(a, [signMembershipRequest(crypto, nodes[leaverIndex]!, { kind: 'leave', nonce: 2 }), join(8)]))
    expect(a.members.get(toHex(nodes[8]!.publicKey))?.group).toBe('sol-0')
    expect(a.systems).toEqual(['sol-0', 'sol-1'])
    a = applyMembershipRound(crypto, tight, a, round(a, [join(9)]))
    expect(a.systems).toEqual(['sol-0', 'sol-1', 'sol-2'])
    expect(a.members.get(toHex(nodes[9]!.publicKey))?.group).toBe('sol-2')
  })

  it('silent members are removed after the timeout; leavers go; rejoiners with a higher nonce are placed again; replays are ignored', () => {
    const nodes = keys('sleepy', 8)
    const ids = nodes.map((k) => toHex(k.publicKey))
    let a = emptyAssignment()
    a = applyMembershipRound(
      crypto,
      RULES,
      a,
      round(
        a,
        nodes.map((k) => signMembershipRequest(crypto, k, { kind: 'join', nonce: 1 })),
      ),
    )
    expect(a.members.size).toBe(8)
    const [sleeper, leaver] = [ids[0]!, ids[1]!]
    for (let i = 0; i < RULES.silentRounds - 1; i++)
      a = applyMembershipRound(
        crypto,
        RULES,
        a,
        round(
          a,
          [],
          ids.filter((id) => id !== sleeper),
        ),
      )
    expect(a.members.has(sleeper)).toBe(true)
    a = applyMembershipRound(
      crypto,
      RULES,
      a,
      round(
        a,
        [signMembershipRequest(crypto, nodes[1]!, { kind: 'leave', nonce: 2 })],
        ids.filter((id) => id !== sleeper),
      ),
    )
    expect(a.members.has(sleeper)).toBe(false)
    expect(a.members.has(leaver)).toBe(false)
    // A replay of the old join is ignored; a join with a higher nonce is placed again.
    const replay = signMembershipRequest(crypto, nodes[1]!, { kind: 'join', nonce: 1 })
    a = applyMembershipRound(crypto, RULES, a, round(a, [replay, signMembershipRequest(crypto, nodes[0]!, { kind: 'join', nonce: 2 })]))
    expect(a.members.has(leaver)).toBe(false)
    expect(a.members.get(sleeper)?.joined).toBe(a.round)
    a = applyMembershipRound(crypto, RULES, a, round(a, [signMembershipRequest(crypto, nodes[1]!, { kind: 'join', nonce: 3 })]))
    expect(a.members.get(leaver)?.group).toBe('sol-0')
    expect(a.members.size).toBe(8)
    // A forged request (someone else's signature) changes nothing.
    const forged = { ...signMembershipRequest(crypto, nodes[2]!, { kind: 'leave', nonce: 9 }), signature: crypto.sign(new Uint8Array(32), nodes[3]!) }
    const digest = toHex(assignmentDigest(crypto, applyMembershipRound(crypto, RULES, a, round(a, []))))
    expect(toHex(assignmentDigest(crypto, applyMembershipRound(crypto, RULES, a, round(a, [forged]))))).toBe(digest)
  })
  it('a leave and a rejoin that reach the root in one round are both certified: the node leaves and is placed again', () => {
    const nodes = keys('rejoin', 8)
    const validators = keys('rejoin-root', 4)
    const ids = validators.map((k) => toHex(k.publicKey))
    const rules = defaultSolarSystemRules({ facilitators: 4 })
    const genesis = { level: 1, group: 'root', members: ids, facilitators: ids }
    const seed = genesisState(crypto, genesis, rules)
    const kind = levelInputs({ crypto, rules, level: 1, children: [], membership: true })
    const mover = nodes[3]!
    const leave = signMembershipRequest(crypto, mover, { kind: 'leave', nonce: 2 })
    const rejoin = signMembershipRequest(crypto, mover, { kind: 'join', nonce: 3 })
    // The leave and the rejoin are separate sources of one facilitator's pool; another facilitator holds only one.
    let pool: InputPool<LevelInput> = new Map()
    pool = addInput(kind, pool, { kind: 'request', request: leave }, 0)
    pool = addInput(kind, pool, { kind: 'request', request: rejoin }, 1)
    expect(pool.size).toBe(2)
    const proposal = (inputs: LevelInput[]) => kind.encodeProposal(inputs)
    const agreed = new Map([
      [ids[0]!, proposal(kind.select(seed, pool))],
      [ids[1]!, proposal([{ kind: 'request', request: rejoin }])],
      [ids[2]!, proposal([{ kind: 'request', request: leave }])],
    ])
    const { body } = kind.fold(seed, agreed, new Map())
    const mine = body.checkpoints.filter((entry) => toHex(entry.publicKey) === toHex(mover.publicKey))
    expect(mine.map((entry) => entry.sequenceNumber)).toEqual([2, 3])
    const { requests, missing } = certifiedRequests(body, indexMembershipRequests(crypto, [leave, rejoin]))
    expect(missing).toBe(0)

    let a = emptyAssignment()
    a = applyMembershipRound(
      crypto,
      RULES,
      a,
      round(
        a,
        nodes.map((k) => signMembershipRequest(crypto, k, { kind: 'join', nonce: 1 })),
      ),
    )
    a = applyMembershipRound(crypto, RULES, a, round(a, []))
    const before = a.members.get(toHex(mover.publicKey))!
    a = applyMembershipRound(crypto, RULES, a, round(a, requests))
    const after = a.members.get(toHex(mover.publicKey))!
    // Placed again, as a joiner of this round (not kept as if it had never left), under the rejoin's nonce.
    expect(after.joined).toBe(a.round)
    expect(after.joined).toBeGreaterThan(before.joined)
    expect(a.nonces.get(toHex(mover.publicKey))).toBe(3)
    expect(a.members.size).toBe(8)
    // A leave newer than the join wins alone: the node is gone.
    const late = signMembershipRequest(crypto, mover, { kind: 'leave', nonce: 5 })
    const early = signMembershipRequest(crypto, mover, { kind: 'join', nonce: 4 })
    const { body: both } = kind.fold(
      seed,
      new Map([
        [
          ids[0]!,
          proposal([
            { kind: 'request', request: early },
            { kind: 'request', request: late },
          ]),
        ],
      ]),
      new Map(),
    )
    expect(both.checkpoints.map((entry) => entry.sequenceNumber)).toEqual([5])
    a = applyMembershipRound(crypto, RULES, a, round(a, [late, early]))
    expect(a.members.has(toHex(mover.publicKey))).toBe(false)
  })
})
