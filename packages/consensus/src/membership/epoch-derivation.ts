/**
 * Epoch changes of one solar system derived from the root's certified results, so honest members switch member
 * sets at the same round without anyone handing them a schedule.
 *
 * Per certified root result (in order) the assignment moves on by `applyMembershipRound`: the join and leave
 * requests the result certified, and as "seen" every member whose checkpoint one of the child certificates the
 * result committed includes. The epoch rule, for a solar system `g` (a child of the root), is a function of the root
 * result alone:
 *   - only a root result that commits certificates of `g` starts an epoch for it; the one ending at `g`'s round `R`
 *     starts it at round `R + delay`, with `membersOf(assignment after that result, g)` — when that differs from the
 *     members `g` has then. Membership changes certified by root results that commit nothing of `g` wait for the
 *     next one that does (the assignment is cumulative, so nothing is lost);
 *   - `R` grows strictly from one such root result to the next (a child's runs are consecutive), so two never
 *     name one boundary.
 * `delay >= 2` because `scheduleMembers` switches the member set from round `E` on in the state after round `E - 2`.
 *
 * A member can only use an epoch it has learned: knowing the root results up to the first that commits `g`'s round
 * `k + 2 - delay` settles whether an epoch starts at `k + 2` (`settledThrough`). A member that has not learned that
 * far must not move past round `k` — it waits (`SolarSystemNode` holds the certificate of round `k` until the schedule
 * is settled for `k + 2`). No timing assumption makes this safe; the delay only lets the solar system run up to
 * `delay - 2` rounds ahead of the root's commitments without waiting.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { childGroups } from '../hierarchy/level-inputs.js'
import { merkleRoot } from '../hierarchy/merkle.js'
import type { CheckpointCertificate } from '../round/certificate.js'
import { certificateDigest, resultHash } from '../round/checkpoint-result.js'
import type { SolarSystemGenesis } from '../round/solar-system.js'
import { type Assignment, applyMembershipRound, type MembershipRules, membersOf, type MemberRecord } from './assignment.js'
import { certifiedRequests, indexMembershipRequests, type MembershipRequest } from './membership-request.js'

export interface EpochRules {
  readonly membership: MembershipRules
  /** Solar-system rounds between the newest round of a group a root result commits and the epoch it starts (>= 2). */
  readonly delay: number
}

/** An epoch of one solar system: from round `fromRound` on, the members are `members` (ascending). */
export interface Epoch {
  readonly fromRound: number
  readonly members: readonly string[]
}

/** One certified root result with what it commits to, as a follower fetched it (checked here against the result). */
export interface RootResult {
  /** The root's certificate (its signatures checked by the caller against the committee its history names). */
  readonly certificate: CheckpointCertificate
  /** The membership requests it certified (any order; extra ones are ignored). */
  readonly requests: readonly MembershipRequest[]
  /** Per child group, the run of its certificates the result committed (consecutive, ending at the round it records). */
  readonly runs: ReadonlyMap<string, readonly CheckpointCertificate[]>
}

export interface EpochDerivation {
  readonly group: string
  readonly assignment: Assignment
  /** Per child group (by name), its newest round a root result committed (0: none yet). */
  readonly committed: ReadonlyMap<string, number>
  /** The members `group` has from the last epoch on (the genesis members before any). */
  readonly members: readonly string[]
  /** Every epoch derived so far, oldest first. */
  readonly epochs: readonly Epoch[]
}

function checkEpochRules(rules: EpochRules): void {
  if (!(Number.isSafeInteger(rules.delay) && rules.delay >= 2))
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'the epoch delay must be an integer of at least 2')
}

/**
 * The derivation before the root's first result: the assignment holds the solar systems' genesis members (in the
 * order given, named as `solarSystemName` names them), each admitted at membership round 0.
 */
export function startEpochDerivation(systems: readonly SolarSystemGenesis[], group: string): EpochDerivation {
  const members = new Map<string, MemberRecord>()
  for (const system of systems) {
    for (const id of system.members) {
      if (members.has(id)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `member ${id.slice(0, 16)} is in two solar systems`)
      members.set(id, { group: system.group, joined: 0, lastSeen: 0, validator: false })
    }
  }
  const own = systems.find((system) => system.group === group)
  if (own === undefined) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `${group} is not one of the solar systems`)
  const assignment: Assignment = { round: 0, systems: systems.map((system) => system.group), members, pending: [], nonces: new Map() }
  return { group, assignment, committed: new Map(systems.map((system) => [system.group, 0])), members: [...own.members].sort(), epochs: [] }
}

/** The members whose checkpoints the certificates include. */
export function checkpointAuthors(certificates: Iterable<CheckpointCertificate>): Set<string> {
  const out = new Set<string>()
  for (const certificate of certificates) for (const entry of certificate.result.body.checkpoints) out.add(toHex(entry.publicKey))
  return out
}

/**
 * Moves the derivation over the next root result: INVALID_INPUT when the result does not follow, or the requests
 * or runs given are not the ones it commits to (then nothing changed: fetch them again, from another validator).
 * Returns the epoch it starts for the group, if any.
 */
export function deriveEpoch(
  crypto: Crypto,
  rules: EpochRules,
  systems: readonly SolarSystemGenesis[],
  derivation: EpochDerivation,
  root: RootResult,
): { readonly derivation: EpochDerivation; readonly epoch?: Epoch } {
  checkEpochRules(rules)
  const { body } = root.certificate.result
  const refuse = (why: string) => new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `root result ${body.round}: ${why}`, { round: body.round })
  if (body.round !== derivation.assignment.round + 1) throw refuse(`expected root round ${derivation.assignment.round + 1}`)
  const children = childGroups(crypto, body.level, systems)
  const byKey = new Map([...children.values()].map((child) => [child.keyHex, child.genesis.group]))
  const { requests, missing } = certifiedRequests(body, indexMembershipRequests(crypto, root.requests), new Set(byKey.keys()))
  if (missing > 0) throw refuse(`${missing} certified membership requests are missing`)

  // The child runs must be exactly what the result's Merkle root commits to: child by child (by key), round by round.
  const committed = new Map(derivation.committed)
  const leaves: { key: string; digests: Uint8Array[] }[] = []
  const seen: CheckpointCertificate[] = []
  for (const entry of body.checkpoints) {
    const group = byKey.get(toHex(entry.publicKey))
    if (group === undefined) continue
    const run = root.runs.get(group) ?? []
    const from = (derivation.committed.get(group) ?? 0) + 1
    const consecutive = run.every((certificate, i) => certificate.result.body.group === group && certificate.result.body.round === from + i)
    if (run.length === 0 || !consecutive || from + run.length - 1 !== entry.sequenceNumber)
      throw refuse(`the run of ${group} is not rounds ${from} to ${entry.sequenceNumber}`)
    leaves.push({ key: toHex(entry.publicKey), digests: run.map((certificate) => certificateDigest(crypto, certificate.result)) })
    seen.push(...run)
    committed.set(group, entry.sequenceNumber)
  }
  leaves.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  if (
    toHex(
      merkleRoot(
        crypto,
        leaves.flatMap((leaf) => leaf.digests),
      ),
    ) !== toHex(body.children)
  )
    throw refuse('the child runs are not the ones it commits to')

  const assignment = applyMembershipRound(crypto, rules.membership, derivation.assignment, {
    round: body.round,
    resultHash: resultHash(crypto, body),
    requests,
    seen: checkpointAuthors(seen),
  })
  const next = { ...derivation, assignment, committed }
  const reached = committed.get(derivation.group) ?? 0
  if (reached === (derivation.committed.get(derivation.group) ?? 0)) return { derivation: next }
  const members = membersOf(assignment, derivation.group)
  // An emptied solar system keeps its last members: with none it could certify nothing, not even its own end.
  if (members.length === 0 || sameMembers(members, derivation.members)) return { derivation: next }
  const epoch: Epoch = Object.freeze({ fromRound: reached + rules.delay, members: Object.freeze(members) })
  return { derivation: { ...next, members: epoch.members, epochs: [...derivation.epochs, epoch] }, epoch }
}

/** The rounds of the group up to which every epoch is known: those before `committed + delay` (see the module header). */
export function settledThrough(rules: EpochRules, derivation: EpochDerivation): number {
  checkEpochRules(rules)
  return (derivation.committed.get(derivation.group) ?? 0) + rules.delay
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i])
}
