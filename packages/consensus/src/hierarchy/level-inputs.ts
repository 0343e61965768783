/**
 * The inputs of a round above level 0 — star clusters, galaxies, the universe — for the one round machine
 * (`startRound(config with inputs: levelInputs(...))`).
 *
 * A level-k group certifies its children, the groups of level k - 1 named in its configuration. A child's input is a
 * run of its consecutive certificates, starting right after the last one this group certified for it, together
 * with that last result as the anchor: the anchor's certificate digest must be the one this group's state recorded,
 * so its `nextFacilitators` say who must sign the run's first certificate, and each certificate names the signers of
 * the next. Every check is a pure function of the group's replicated state and the input, so every honest
 * facilitator reaches the same verdict. The result records, per child, its newest certified round and that
 * certificate's digest (a `CheckpointEntry` whose key is the child's genesis hash), and its `children` field is the
 * Merkle root over the digests of every child certificate it certified, child by child, round by round: any child
 * certificate can then be proven committed by a Merkle proof.
 *
 * The root of the hierarchy also certifies signed membership requests (join, leave): per key the newest valid leave
 * and, when it is newer still, the newest join (a node that left and rejoined within one round), each recorded as an
 * entry `{ publicKey, sequenceNumber: nonce, hash: request digest }`, so a replayed or older request is refused by
 * every honest facilitator alike, and every node derives the assignment from the certified result.
 */
import { compareBytes, type Crypto, encodeCanonical, equalBytes, toHex } from '@constellation/crypto'
import * as t from 'io-ts'
import { closedRecord, decodeWith, deepFreeze, listUpTo } from '../codec/fields.js'
import { EMPTY_LEDGER_DELTA } from '../ledger/transfer-ledger.js'
import type { FoldOutcome } from '../round/result-fold.js'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { checkMembershipRequest, type MembershipRequest, MembershipRequestCodec, membershipRequestDigest } from '../membership/membership-request.js'
import { type CheckpointCertificate, CheckpointCertificateCodec, checkCertificateNow } from '../round/certificate.js'
import {
  certificateDigest,
  type CheckpointEntry,
  type CheckpointResult,
  CheckpointResultCodec,
  type ObservationRecord,
  resultHash,
} from '../round/checkpoint-result.js'
import { type Committee, createCommittee } from '../round/committee.js'
import type { RoundInputKind } from '../round/round-inputs.js'
import { genesisHashOf, type SolarSystemGenesis, type SolarSystemRules, type SolarSystemState } from '../round/solar-system.js'
import { merkleRoot } from './merkle.js'

/** A run of one child group's certificates, anchored at the last result of it this group certified. */
export interface ChildCertificates {
  readonly kind: 'child'
  readonly group: string
  /** The child's result this group certified last (absent before the first). */
  readonly anchor?: CheckpointResult
  /** Consecutive, from the round after the anchor's (or round 1). */
  readonly certificates: readonly CheckpointCertificate[]
}

export interface MembershipInput {
  readonly kind: 'request'
  readonly request: MembershipRequest
}

export type LevelInput = ChildCertificates | MembershipInput

/** A child group as its parent knows it: its genesis, and its key (the genesis hash) in the parent's results. */
export interface ChildGroup {
  readonly genesis: SolarSystemGenesis
  readonly key: Uint8Array
  readonly keyHex: string
}

export interface LevelConfig {
  readonly crypto: Crypto
  readonly rules: SolarSystemRules
  /** This group's level (>= 1). */
  readonly level: number
  /** The groups of level - 1 this group certifies. */
  readonly children: readonly SolarSystemGenesis[]
  /** Whether this group certifies membership requests (the root does). */
  readonly membership?: boolean
  /** Certificates of one child per input at most (default 16): a child further behind catches up over rounds. */
  readonly maxCertificatesPerInput?: number
}

/** The children of a level, keyed by group name. */
export function childGroups(crypto: Crypto, level: number, children: readonly SolarSystemGenesis[]): ReadonlyMap<string, ChildGroup> {
  const out = new Map<string, ChildGroup>()
  for (const genesis of children) {
    if (genesis.level !== level - 1)
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `child ${genesis.group} is at level ${genesis.level}, not ${level - 1}`)
    if (out.has(genesis.group)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `child ${genesis.group} is listed twice`)
    const key = genesisHashOf(crypto, genesis)
    out.set(genesis.group, { genesis, key, keyHex: toHex(key) })
  }
  return out
}

export const DEFAULT_MAX_CERTIFICATES_PER_INPUT = 16

/** The kind of a level's inputs, and what a facilitator keeps of the proposals it agreed on. */
export interface LevelInputKind extends RoundInputKind<LevelInput> {
  /**
   * The membership requests a proposal carries, unchecked (none when it does not decode): a facilitator that folded
   * the agreed proposals keeps those the result certified, so it can serve them though nobody else passed them on.
   */
  readonly requestsIn: (proposal: Uint8Array) => readonly MembershipRequest[]
}

function proposalCodec(maxInputs: number, maxCertificates: number) {
  const child = closedRecord('ChildCertificates', {
    group: t.string,
    anchor: t.union([CheckpointResultCodec, t.null]),
    certificates: listUpTo(CheckpointCertificateCodec, maxCertificates, 'Certificates'),
  })
  return closedRecord('LevelProposal', {
    children: listUpTo(child, maxInputs, 'ChildInputs'),
    requests: listUpTo(MembershipRequestCodec, maxInputs, 'Requests'),
  })
}

function wireOf(input: LevelInput): unknown {
  return input.kind === 'child'
    ? {
        group: input.group,
        anchor: input.anchor === undefined ? null : CheckpointResultCodec.encode(input.anchor),
        certificates: input.certificates.map((c) => CheckpointCertificateCodec.encode(c)),
      }
    : MembershipRequestCodec.encode(input.request)
}

/** Where a child's run starts: the committee of its first certificate, the result it must extend, and its round. */
interface RunStart {
  readonly committee: Committee
  readonly previous: Uint8Array
  readonly round: number
}

export function levelInputs(config: LevelConfig): LevelInputKind {
  const { crypto, rules, level } = config
  if (!(Number.isSafeInteger(level) && level >= 1))
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'a level above 0 certifies certificates; level must be >= 1')
  const children = childGroups(crypto, level, config.children)
  const maxCertificates = config.maxCertificatesPerInput ?? DEFAULT_MAX_CERTIFICATES_PER_INPUT
  const codec = proposalCodec(rules.maxCheckpointsPerProposal, maxCertificates)
  // Signature verdicts by digest and signatures, so a certificate or request that recurs in many proposals costs its
  // signature checks once per facilitator (the cache lives with this facilitator's kind, never shared between nodes).
  const verdicts = new Map<string, string | undefined>()
  const certificateVerdict = (certificate: CheckpointCertificate, committee: Committee): string | undefined => {
    const key = `${toHex(certificateDigest(crypto, certificate.result))}/${committee.facilitators.join(',')}/${certificate.signatures.map((s) => toHex(s.signature)).join('')}`
    if (!verdicts.has(key)) verdicts.set(key, checkCertificateNow(crypto, certificate, committee))
    return verdicts.get(key)
  }

  const runStart = (seed: SolarSystemState, child: ChildGroup, anchor: CheckpointResult | undefined): RunStart | string => {
    const last = seed.lastCheckpoints.get(child.keyHex)
    if (last === undefined) {
      if (anchor !== undefined) return 'an anchor for a child this group never certified'
      return { committee: createCommittee(child.genesis.facilitators), previous: genesisHashOf(crypto, child.genesis), round: 1 }
    }
    if (anchor === undefined) return 'no anchor: the run must start at the last certified result of the child'
    if (!equalBytes(certificateDigest(crypto, anchor), last.entry.hash)) return 'its anchor is not the last certified result of the child'
    try {
      return { committee: createCommittee(anchor.nextFacilitators), previous: resultHash(crypto, anchor.body), round: anchor.body.round + 1 }
    } catch {
      return 'its anchor names no valid committee'
    }
  }

  const checkChild = (seed: SolarSystemState, input: ChildCertificates): string | undefined => {
    const child = children.get(input.group)
    if (child === undefined) return 'not a child of this group'
    if (input.certificates.length === 0 || input.certificates.length > maxCertificates) return 'a run of certificates must hold 1 to the limit'
    const start = runStart(seed, child, input.anchor)
    if (typeof start === 'string') return start
    let { committee, previous, round } = start
    for (const certificate of input.certificates) {
      const { body } = certificate.result
      if (body.level !== child.genesis.level || body.group !== child.genesis.group) return 'a certificate of another group'
      if (body.round !== round || !equalBytes(body.previousResultHash, previous)) return 'its certificates are not consecutive from the anchor'
      const why = certificateVerdict(certificate, committee)
      if (why !== undefined) return `a certificate is invalid: ${why}`
      try {
        committee = createCommittee(certificate.result.nextFacilitators)
      } catch {
        return 'a certificate names no valid next committee'
      }
      previous = resultHash(crypto, body)
      round++
    }
    return undefined
  }

  const checkRequest = (seed: SolarSystemState, request: MembershipRequest): string | undefined => {
    if (config.membership !== true) return 'this group does not certify membership'
    const key = `${toHex(membershipRequestDigest(crypto, request))}/${toHex(request.signature)}`
    if (!verdicts.has(key)) verdicts.set(key, checkMembershipRequest(crypto, request))
    const why = verdicts.get(key)
    if (why !== undefined) return why
    const last = seed.lastCheckpoints.get(toHex(request.publicKey))
    return last !== undefined && request.nonce <= last.entry.sequenceNumber ? 'its nonce is not above the last certified request of its key' : undefined
  }

  const check = (seed: SolarSystemState, input: LevelInput): string | undefined => {
    if (seed.genesis.level !== level) return 'this kind serves another level'
    return input.kind === 'child' ? checkChild(seed, input) : checkRequest(seed, input.request)
  }

  const lastRound = (input: ChildCertificates): number => (input.certificates.at(-1) as CheckpointCertificate).result.body.round

  const kind: LevelInputKind = {
    check,
    // A key's leave and its join are separate sources, so a rejoin does not push the leave before it out of the pool.
    sourceOf: (input) => (input.kind === 'child' ? `child:${input.group}` : `request:${input.request.kind}:${toHex(input.request.publicKey)}`),
    positionOf: (input) => (input.kind === 'child' ? lastRound(input) : input.request.nonce),
    // A facilitator proposes once every child has sent something new (or its timer fires).
    collectionTarget: () => Math.max(1, children.size),
    // Requests never hurry a proposal: they ride along with the children's certificates or the timer.
    counts: (input) => input.kind === 'child',
    select: (_seed, pool) => {
      const entries = [...pool.values()].sort((a, b) => {
        // Children's certificates first (they carry finality), then requests in arrival order.
        if (a.block.kind !== b.block.kind) return a.block.kind === 'child' ? -1 : 1
        return a.arrival - b.arrival
      })
      const chosen: LevelInput[] = []
      let bytes = 16
      for (const { block } of entries) {
        if (chosen.length === rules.maxCheckpointsPerProposal) break
        const size = encodeCanonical(wireOf(block) as Parameters<typeof encodeCanonical>[0]).length + 9
        if (bytes + size > rules.maxProposalBytes) continue
        bytes += size
        chosen.push(block)
      }
      return chosen
    },
    encodeProposal: (inputs) =>
      encodeCanonical({
        children: inputs.filter((input) => input.kind === 'child').map(wireOf),
        requests: inputs.filter((input) => input.kind === 'request').map(wireOf),
      } as Parameters<typeof encodeCanonical>[0]),
    fold: (seed, agreed) => foldLevel(seed, agreed),
    requestsIn: (proposal) => {
      try {
        return decode(proposal).flatMap((input) => (input.kind === 'request' ? [input.request] : []))
      } catch {
        return []
      }
    },
  }

  const decode = (bytes: Uint8Array): LevelInput[] => {
    const wire = deepFreeze(decodeWith(codec, bytes, rules.maxProposalBytes, 'level proposal'))
    return [
      ...wire.children.map(
        (child): LevelInput =>
          child.anchor === null
            ? { kind: 'child', group: child.group, certificates: child.certificates }
            : { kind: 'child', group: child.group, anchor: child.anchor, certificates: child.certificates },
      ),
      ...wire.requests.map((request): LevelInput => ({ kind: 'request', request })),
    ]
  }

  /** The algebra above level 0: the union of the valid inputs, newest per source, conflicts certified by neither side. */
  const foldLevel = (seed: SolarSystemState, agreed: ReadonlyMap<string, Uint8Array>): FoldOutcome => {
    const observations: ObservationRecord[] = []
    const runs = new Map<string, ChildCertificates>()
    const conflicted = new Set<string>()
    const requests = new Map<string, MembershipRequest>()
    for (const proposer of seed.committee.facilitators) {
      const bytes = agreed.get(proposer)
      let honest = bytes !== undefined
      if (bytes !== undefined) {
        let inputs: LevelInput[] = []
        try {
          inputs = decode(bytes)
        } catch {
          honest = false
        }
        for (const input of inputs) {
          if (check(seed, input) !== undefined) {
            honest = false
            continue
          }
          if (input.kind === 'child') {
            const held = runs.get(input.group)
            if (held === undefined) runs.set(input.group, input)
            else if (!prefixConsistent(crypto, held, input)) conflicted.add(input.group)
            else if (lastRound(input) > lastRound(held)) runs.set(input.group, input)
          } else {
            const key = `${input.request.kind}:${toHex(input.request.publicKey)}`
            const held = requests.get(key)
            if (held === undefined || input.request.nonce > held.nonce) requests.set(key, input.request)
            else if (held.nonce === input.request.nonce && !equalBytes(membershipRequestDigest(crypto, held), membershipRequestDigest(crypto, input.request))) {
              // Two requests its key signed under one nonce: neither is certified, now or later under that nonce.
              conflicted.add(`request:${key}`)
            }
          }
        }
      }
      observations.push({ memeId: proposer, outcome: honest ? 'good' : 'bad', values: honest ? { roundsServed: 1 } : { roundsFaulty: 1 } })
    }
    const entries: CheckpointEntry[] = []
    const leaves: { key: Uint8Array; digests: Uint8Array[] }[] = []
    for (const [group, run] of runs) {
      if (conflicted.has(group)) continue
      const child = children.get(group) as ChildGroup
      const last = run.certificates.at(-1) as CheckpointCertificate
      entries.push({ publicKey: child.key, sequenceNumber: last.result.body.round, hash: certificateDigest(crypto, last.result), balance: 0 })
      leaves.push({ key: child.key, digests: run.certificates.map((certificate) => certificateDigest(crypto, certificate.result)) })
    }
    // Per key the newest leave and the newest join: both are certified when the join is the newer (a leave and the
    // rejoin after it, in one round, so the assignment sees the node leave and come back); otherwise the leave alone.
    for (const [key, request] of requests) {
      if (conflicted.has(`request:${key}`)) continue
      const other = requests.get(`${request.kind === 'join' ? 'leave' : 'join'}:${toHex(request.publicKey)}`)
      if (other !== undefined && other.nonce > request.nonce && request.kind === 'join') continue
      if (other !== undefined && other.nonce === request.nonce) continue // one nonce, two kinds: a conflict
      entries.push({ publicKey: request.publicKey, sequenceNumber: request.nonce, hash: membershipRequestDigest(crypto, request), balance: 0 })
    }
    // By key, then by nonce: the last entry of a key is its newest request, which the state records.
    entries.sort((a, b) => compareBytes(a.publicKey, b.publicKey) || a.sequenceNumber - b.sequenceNumber)
    leaves.sort((a, b) => compareBytes(a.key, b.key))
    return {
      finalised: [],
      body: deepFreeze({
        level,
        group: seed.genesis.group,
        round: seed.round + 1,
        previousResultHash: seed.resultHash,
        checkpoints: entries,
        observations,
        faults: [],
        children: merkleRoot(
          crypto,
          leaves.flatMap((leaf) => leaf.digests),
        ),
        // Levels above the solar systems move no value: their ledger stays empty.
        ledger: EMPTY_LEDGER_DELTA,
      }),
    }
  }

  return kind
}

/** Two valid runs of one child from one anchor agree on every round they share (they do unless the child forked). */
function prefixConsistent(crypto: Crypto, a: ChildCertificates, b: ChildCertificates): boolean {
  const shared = Math.min(a.certificates.length, b.certificates.length)
  for (let i = 0; i < shared; i++) {
    const x = (a.certificates[i] as CheckpointCertificate).result
    const y = (b.certificates[i] as CheckpointCertificate).result
    if (!equalBytes(certificateDigest(crypto, x), certificateDigest(crypto, y))) return false
  }
  return true
}
