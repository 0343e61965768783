/**
 * Sleepy membership: which solar system each node belongs to, as a pure function of the certified results of the
 * root of the hierarchy — so every honest node that follows the root computes the same map.
 *
 * One membership round per root result: the join and leave requests that result certified, and the members seen
 * (their checkpoints certified below since the last membership round), move the assignment forward:
 *   1. leavers go; members silent for `silentRounds` membership rounds are removed (crashed or asleep);
 *   2. joiners queue, in certified order, and within one result by `H(h || key)` — a hash the joiner could not know
 *      when it signed, so it cannot choose its place;
 *   3. a solar system admits members until it reaches its threshold (`solarSystemThreshold`: the lesser of what
 *      security allows — members per facilitator — and what one round can certify); once full it admits only to
 *      replace leavers; while the queue is longer than all free seats, new solar systems are opened, named in order;
 *   4. Sybil pressure: a solar system admits at most `admissionsPerRound` per round, and newcomers (members younger
 *      than `newcomerAgeRounds`) fill at most `maxNewcomerShare` of its seats; joiners go to the emptiest system
 *      first, so a flood of fresh keys is spread over every system and must wait, instead of taking over one.
 * A rejoining node sends a join with a higher nonce and is placed again like any joiner — also when its leave and its
 * rejoin are certified in one root result (the leave is applied first).
 */
import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { checkMembershipRequest, type MembershipRequest } from './membership-request.js'

export interface MembershipRules {
  /** Facilitators of one solar-system round (n >= 4 tolerates one Byzantine). */
  readonly facilitators: number
  /** Security: members per facilitator at most. */
  readonly membersPerFacilitator: number
  /** Throughput: members whose checkpoints one round certifies at most. */
  readonly maxMembersForThroughput: number
  /** Members one solar system admits per membership round at most. */
  readonly admissionsPerRound: number
  /** Of a solar system's threshold, the share newcomers may hold at most. */
  readonly maxNewcomerShare: number
  /** Membership rounds after which a member no longer counts as a newcomer. */
  readonly newcomerAgeRounds: number
  /** Membership rounds without a certified checkpoint after which a member is removed. */
  readonly silentRounds: number
  /** Joiners waiting at most; later ones (by queue order) are dropped and must ask again. */
  readonly maxPending: number
}

/** Members a solar system admits before it is full. */
export function solarSystemThreshold(rules: MembershipRules): number {
  return Math.max(rules.facilitators, Math.min(rules.facilitators * rules.membersPerFacilitator, rules.maxMembersForThroughput))
}

export interface MemberRecord {
  readonly group: string
  /** Membership round of admission. */
  readonly joined: number
  /** Last membership round in which the member was seen (its checkpoint certified), or its admission. */
  readonly lastSeen: number
  readonly validator: boolean
}

export interface PendingJoin {
  readonly id: string
  readonly validator: boolean
  /** Membership round whose result certified the join. */
  readonly since: number
  /** Hex of `H(h || key)`: the joiner's place among those certified in one round. */
  readonly rank: string
}

export interface Assignment {
  /** The last membership round applied (0 before the first). */
  readonly round: number
  /** Solar systems in the order they were opened. */
  readonly systems: readonly string[]
  readonly members: ReadonlyMap<string, MemberRecord>
  /** Joiners waiting for a seat, in queue order. */
  readonly pending: readonly PendingJoin[]
  /** The highest nonce applied per key: older requests are ignored. */
  readonly nonces: ReadonlyMap<string, number>
}

export interface MembershipRound {
  readonly round: number
  /** The root result's hash `h`. */
  readonly resultHash: Uint8Array
  /** The requests that result certified (any order, duplicates allowed: they are checked and sorted here). */
  readonly requests: readonly MembershipRequest[]
  /** Members whose checkpoints were certified since the previous membership round. */
  readonly seen: ReadonlySet<string>
}

export function emptyAssignment(): Assignment {
  return { round: 0, systems: [], members: new Map(), pending: [], nonces: new Map() }
}

export function checkMembershipRules(rules: MembershipRules): void {
  const positive = [
    'facilitators',
    'membersPerFacilitator',
    'maxMembersForThroughput',
    'admissionsPerRound',
    'newcomerAgeRounds',
    'silentRounds',
    'maxPending',
  ] as const
  for (const name of positive) {
    if (!(Number.isSafeInteger(rules[name]) && rules[name] >= 1))
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `membership rule ${name} must be a positive integer`)
  }
  if (!(rules.maxNewcomerShare > 0 && rules.maxNewcomerShare <= 1))
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'maxNewcomerShare must be in (0, 1]')
}

/** The solar system names, in opening order: deterministic, so every node opens the same ones. */
export function solarSystemName(index: number): string {
  return `sol-${index}`
}

export function applyMembershipRound(crypto: Crypto, rules: MembershipRules, assignment: Assignment, input: MembershipRound): Assignment {
  checkMembershipRules(rules)
  if (input.round !== assignment.round + 1) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `membership round ${input.round} does not follow ${assignment.round}`)
  }
  const round = input.round
  const nonces = new Map(assignment.nonces)
  const members = new Map(assignment.members)
  let pending = [...assignment.pending]

  // The newest valid request per key beyond what was applied — and, when that is a join, the newest leave before it
  // (a node that left and rejoined within one root round): the order they arrived in does not matter.
  const newest = new Map<string, MembershipRequest>()
  const leftBefore = new Map<string, MembershipRequest>()
  for (const request of input.requests) {
    if (checkMembershipRequest(crypto, request) !== undefined) continue
    const id = toHex(request.publicKey)
    if (request.nonce <= (nonces.get(id) ?? 0)) continue
    const held = newest.get(id)
    if (held === undefined || request.nonce > held.nonce) newest.set(id, request)
    const left = leftBefore.get(id)
    if (request.kind === 'leave' && (left === undefined || request.nonce > left.nonce)) leftBefore.set(id, request)
  }
  const ranked = [...newest.entries()]
    .map(([id, request]) => ({ id, request, rank: toHex(crypto.sha256(encodeCanonical(['constellation/join-rank/1', input.resultHash, request.publicKey]))) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))

  // 1. Leavers and silent members go (a rejoiner's leave too: it is placed again below, like any joiner); everyone
  //    seen is marked.
  for (const { id, request } of ranked) {
    nonces.set(id, request.nonce)
    if (request.kind === 'leave' || leftBefore.has(id)) {
      members.delete(id)
      pending = pending.filter((join) => join.id !== id)
    }
  }
  for (const [id, record] of members) {
    if (input.seen.has(id)) members.set(id, { ...record, lastSeen: round })
    else if (round - record.lastSeen >= rules.silentRounds) members.delete(id)
  }

  // 2. Joiners queue (a member's repeated join changes nothing; a waiting joiner's newer join keeps its place).
  for (const { id, request, rank } of ranked) {
    if (request.kind !== 'join' || members.has(id)) continue
    const waiting = pending.findIndex((join) => join.id === id)
    if (waiting !== -1) pending[waiting] = { ...(pending[waiting] as PendingJoin), validator: request.validator }
    else pending.push({ id, validator: request.validator, since: round, rank })
  }
  pending = pending.slice(0, rules.maxPending)

  // 3. Open solar systems while the queue is longer than the free seats.
  const threshold = solarSystemThreshold(rules)
  const sizes = new Map<string, number>(assignment.systems.map((group) => [group, 0]))
  const newcomers = new Map<string, number>(assignment.systems.map((group) => [group, 0]))
  for (const record of members.values()) {
    sizes.set(record.group, (sizes.get(record.group) ?? 0) + 1)
    if (round - record.joined < rules.newcomerAgeRounds) newcomers.set(record.group, (newcomers.get(record.group) ?? 0) + 1)
  }
  const systems = [...assignment.systems]
  const freeSeats = () => systems.reduce((sum, group) => sum + threshold - (sizes.get(group) ?? 0), 0)
  while (pending.length > freeSeats()) {
    const group = solarSystemName(systems.length)
    systems.push(group)
    sizes.set(group, 0)
    newcomers.set(group, 0)
  }

  // 4. Seat joiners in queue order, each in the emptiest system that may still admit this round.
  const newcomerCap = Math.max(1, Math.floor(rules.maxNewcomerShare * threshold))
  const admitted = new Map<string, number>()
  const mayAdmit = (group: string) =>
    (sizes.get(group) ?? 0) < threshold && (admitted.get(group) ?? 0) < rules.admissionsPerRound && (newcomers.get(group) ?? 0) < newcomerCap
  const waiting: PendingJoin[] = []
  for (const join of pending) {
    let best: string | undefined
    for (const group of systems) {
      if (mayAdmit(group) && (best === undefined || (sizes.get(group) ?? 0) < (sizes.get(best) ?? 0))) best = group
    }
    if (best === undefined) {
      waiting.push(join)
      continue
    }
    members.set(join.id, { group: best, joined: round, lastSeen: round, validator: join.validator })
    sizes.set(best, (sizes.get(best) ?? 0) + 1)
    newcomers.set(best, (newcomers.get(best) ?? 0) + 1)
    admitted.set(best, (admitted.get(best) ?? 0) + 1)
  }
  return { round, systems, members, pending: waiting, nonces }
}

/** The members of one solar system, ascending. */
export function membersOf(assignment: Assignment, group: string): string[] {
  return [...assignment.members].flatMap(([id, record]) => (record.group === group ? [id] : [])).sort()
}

/** A digest of the whole assignment: equal on two nodes exactly when their maps are equal. */
export function assignmentDigest(crypto: Crypto, assignment: Assignment): Uint8Array {
  const members = [...assignment.members].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, r]) => [id, r.group, r.joined, r.lastSeen, r.validator])
  const pending = assignment.pending.map((join) => [join.id, join.validator, join.since, join.rank])
  const nonces = [...assignment.nonces].sort(([a], [b]) => (a < b ? -1 : 1))
  return crypto.sha256(encodeCanonical(['constellation/assignment/1', assignment.round, [...assignment.systems], members, pending, nonces]))
}
