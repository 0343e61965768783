/**
 * A solar system's replicated state and how a certified result moves it forward.
 *
 * Every member keeps this state; it is a pure function of the genesis and the sequence of certified results, so
 * every honest node holds the same one: the last certified round and its hash, the facilitators of the next round,
 * each member's last certified checkpoint, and the memes from which Proof of Meme elects facilitators. Facilitators
 * use `nextResult` to turn what their agreement decided into a result; members use `applyResult` to follow it.
 * Both run the same election, so a result whose `nextFacilitators` differ from the election is refused.
 */
import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import {
  createMeme,
  type DockingPolicy,
  type ElectionConfig,
  type Election,
  type Meme,
  type MempoolPolicy,
  type Observation,
  type ProvenFault,
  runElection,
  type Scorer,
  scoreMemes,
} from '@constellation/meme-reputation'
import { type CertifiedAnchor, ZERO_HASH } from '@constellation/trustchain'
import { deepFreeze } from '../codec/fields.js'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { applyLedgerDelta, genesisLedger, type TransferLedger } from '../ledger/transfer-ledger.js'
import { type CheckpointEntry, type CheckpointResult, MAX_CHECKPOINTS_PER_RESULT, MAX_FACILITATORS, type ResultBody } from './checkpoint-result.js'
import { type Committee, createCommittee } from './committee.js'

/** The trusted start of a solar system: who is in it and who facilitates round 1. */
export interface SolarSystemGenesis {
  readonly level: number
  readonly group: string
  /** Member ids (lowercase hex public keys). */
  readonly members: readonly string[]
  /** Facilitators of round 1, drawn from `members`. */
  readonly facilitators: readonly string[]
  /**
   * Opening balances by member: what each chain's genesis block states and may spend before any transfer (a member
   * not listed opens with 0).
   */
  readonly balances?: Readonly<Record<string, number>>
}

/** The rules every member of a solar system must share; they shape the results' hashes. */
export interface SolarSystemRules {
  readonly scorer: Scorer
  readonly docking: DockingPolicy
  /** `seats` is the number of facilitators per round. */
  readonly election: ElectionConfig
  /** Priority of waiting checkpoints when a proposal is full: reputation decides when, never whether. */
  readonly mempool: MempoolPolicy
  /** Checkpoints one facilitator proposes at most per round; the rest wait for the next round. */
  readonly maxCheckpointsPerProposal: number
  /**
   * Bytes of one proposal at most; checkpoints past it wait too. Every facilitator must use the same bound (it
   * decides which proposals are well-formed), and one proposal must fit in one network message.
   */
  readonly maxProposalBytes: number
  /** A checkpoint may record a result at most this many rounds old. */
  readonly maxCheckpointAgeRounds: number
}

export interface CertifiedCheckpoint {
  readonly entry: CheckpointEntry
  readonly round: number
}

export interface SolarSystemState {
  readonly genesis: SolarSystemGenesis
  /** Hash of the genesis: the "result" of round 0. */
  readonly genesisHash: Uint8Array
  /** The last certified round (0 before the first). */
  readonly round: number
  /** `h_round`. */
  readonly resultHash: Uint8Array
  /** `h_{round-1}` (the genesis hash while round <= 1). */
  readonly previousResultHash: Uint8Array
  /** Facilitators of round `round + 1`. */
  readonly committee: Committee
  readonly members: ReadonlySet<string>
  readonly memes: readonly Meme[]
  /** Docked scores of `memes` at `round`, aligned with it. */
  readonly scores: Float64Array
  readonly memeIndex: ReadonlyMap<string, number>
  /** Each member's last checkpoint included in a certified result, with the round that certified it. */
  readonly lastCheckpoints: ReadonlyMap<string, CertifiedCheckpoint>
  /** Spendable balances and the transfers under way, as the certified results left them. */
  readonly ledger: TransferLedger
  /** The opening balances of the genesis, by member. */
  readonly openingBalances: ReadonlyMap<string, number>
  /** Hashes (hex) of the last `maxCheckpointAgeRounds + 1` results by round, genesis as round 0. */
  readonly recentResults: ReadonlyMap<number, string>
  /**
   * Positions (`member/sequence`) where a member was proven to have signed two blocks, with the round that recorded
   * it, for the last `FRAUD_MEMORY_ROUNDS` rounds: a fraud docks its member once, however often it is reported.
   */
  readonly provenFrauds: ReadonlyMap<string, number>
  /** The latest election record (undefined before the first result). */
  readonly election?: Election
  /**
   * An epoch change scheduled for the end of round `round + 1` (`scheduleMembers`): the member set from round
   * `round + 2` on, ascending. The result of round `round + 1` then elects its next facilitators from these members.
   */
  readonly nextMembers?: readonly string[]
}

/** Rounds a proven fraud's position is remembered (a report after that docks the member again). */
export const FRAUD_MEMORY_ROUNDS = 4_096

/** The key of a proven fraud in `SolarSystemState.provenFrauds`. */
export const fraudPosition = (member: string, sequenceNumber: number): string => `${member}/${sequenceNumber}`

export function genesisHashOf(crypto: Crypto, genesis: SolarSystemGenesis): Uint8Array {
  const balances = Object.entries(genesis.balances ?? {})
    .filter(([, amount]) => amount > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
  return crypto.sha256(
    encodeCanonical(['constellation/genesis/2', genesis.level, genesis.group, [...genesis.members].sort(), [...genesis.facilitators].sort(), balances]),
  )
}

/** The opening balances of a genesis, checked: members only, safe non-negative integers. */
function openingBalancesOf(genesis: SolarSystemGenesis, members: ReadonlySet<string>): Map<string, number> {
  const balances = new Map<string, number>()
  for (const [member, amount] of Object.entries(genesis.balances ?? {})) {
    if (!members.has(member)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `genesis balance for ${member.slice(0, 16)}, which is not a member`)
    if (!(Number.isSafeInteger(amount) && amount >= 0))
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `genesis balance of ${member.slice(0, 16)} must be a non-negative safe integer`)
    if (amount > 0) balances.set(member, amount)
  }
  return balances
}

/**
 * A member's certified anchor: its last certified checkpoint (position, hash, the balance it records) and what it
 * may spend, or its genesis for a member with none yet. Undefined for a chain that is not a member.
 */
export function anchorOf(state: SolarSystemState, member: string): CertifiedAnchor | undefined {
  if (!state.members.has(member)) return undefined
  const spendable = state.ledger.spendable.get(member) ?? 0
  const last = state.lastCheckpoints.get(member)
  if (last === undefined) return { sequenceNumber: 0, hash: ZERO_HASH, balance: state.openingBalances.get(member) ?? 0, spendable, round: state.round }
  return { sequenceNumber: last.entry.sequenceNumber, hash: last.entry.hash, balance: last.entry.balance, spendable, round: state.round }
}

export function genesisState(crypto: Crypto, genesis: SolarSystemGenesis, rules: SolarSystemRules): SolarSystemState {
  const members = new Set(genesis.members)
  if (members.size !== genesis.members.length) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'genesis members must be distinct')
  if (!Number.isSafeInteger(genesis.level) || genesis.level < 0)
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'genesis level must be a non-negative integer')
  if (typeof genesis.group !== 'string' || genesis.group.length === 0 || genesis.group.length > 128) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'genesis group must be a non-empty string of at most 128 characters')
  }
  const committee = createCommittee(genesis.facilitators)
  for (const id of committee.facilitators) {
    if (!members.has(id)) throw new ConsensusError(ConsensusErrorCode.INVALID_COMMITTEE, `facilitator ${id.slice(0, 16)} is not a member`)
  }
  if (
    !(
      Number.isSafeInteger(rules.maxCheckpointsPerProposal) &&
      rules.maxCheckpointsPerProposal >= 1 &&
      rules.maxCheckpointsPerProposal <= MAX_CHECKPOINTS_PER_RESULT
    )
  ) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `maxCheckpointsPerProposal must be an integer in [1, ${MAX_CHECKPOINTS_PER_RESULT}]`)
  }
  if (!(Number.isSafeInteger(rules.maxProposalBytes) && rules.maxProposalBytes >= 1_024)) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'maxProposalBytes must be an integer of at least 1,024')
  }
  // A result must decode wherever it is sent: its lists are bounded by the codecs.
  if (members.size > MAX_CHECKPOINTS_PER_RESULT) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `a solar system holds at most ${MAX_CHECKPOINTS_PER_RESULT} members`)
  }
  if (!(rules.election.seats <= MAX_FACILITATORS))
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `at most ${MAX_FACILITATORS} facilitators a round`)
  for (const feature of ['roundsServed', 'roundsFaulty', 'provenFrauds', 'uptime']) {
    if (!rules.scorer.schema.index.has(feature)) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_INPUT,
        `the scorer's feature schema must have '${feature}', which results observe (see consensusFeatureSchema)`,
      )
    }
  }
  if (!(Number.isSafeInteger(rules.maxCheckpointAgeRounds) && rules.maxCheckpointAgeRounds >= 1)) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'maxCheckpointAgeRounds must be a positive integer')
  }
  const ids = [...members].sort()
  const memes = ids.map((id) => createMeme(rules.scorer.schema, id, 0))
  const genesisHash = genesisHashOf(crypto, genesis)
  const openingBalances = openingBalancesOf(genesis, members)
  return {
    genesis,
    genesisHash,
    round: 0,
    resultHash: genesisHash,
    previousResultHash: genesisHash,
    committee,
    members,
    memes,
    scores: scoreMemes(rules.scorer, memes, 0),
    memeIndex: new Map(ids.map((id, i) => [id, i])),
    lastCheckpoints: new Map(),
    ledger: genesisLedger(openingBalances),
    openingBalances,
    recentResults: new Map([[0, toHex(genesisHash)]]),
    provenFrauds: new Map(),
  }
}

/** The meme updates a body implies, in meme-reputation's terms. */
function memeUpdatesOf(body: ResultBody): { observations: Observation[]; faults: ProvenFault[] } {
  return {
    observations: body.observations.map((record) => ({ memeId: record.memeId, outcome: record.outcome, values: record.values })),
    faults: body.faults.map((fault) => ({ memeId: fault.memeId, kind: fault.kind })),
  }
}

/**
 * Schedules an epoch change at the end of the next round: every honest node that schedules the same members after
 * the same certified round switches at the same boundary, because the switch is part of the state both the
 * facilitators (`nextResult`) and the followers (`applyResult`) advance. Removed members lose their memes and are
 * never elected again; admitted members get fresh memes and, from the round after next, submit checkpoints and
 * can be elected. The certificate of the next round names facilitators among the new members, so the committee
 * handover stays in the certificates and anyone holding the genesis can still follow the history.
 */
export function scheduleMembers(state: SolarSystemState, members: readonly string[]): SolarSystemState {
  const sorted = [...members].sort()
  if (sorted.length === 0) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'a solar system needs at least one member')
  if (sorted.length > MAX_CHECKPOINTS_PER_RESULT)
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `a solar system holds at most ${MAX_CHECKPOINTS_PER_RESULT} members`)
  for (const [i, id] of sorted.entries()) {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'member ids are lowercase hex 32-byte public keys', { id })
    if (i > 0 && id === sorted[i - 1]) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `member ${id.slice(0, 16)} is listed twice`)
  }
  return { ...state, nextMembers: Object.freeze(sorted) }
}

/** The memes, checkpoints and meme updates of an epoch change: only the new members' count from now on. */
function switchMembers(rules: SolarSystemRules, state: SolarSystemState, next: readonly string[], updates: ReturnType<typeof memeUpdatesOf>) {
  const members = new Set(next)
  const kept = state.memes.filter((meme) => members.has(meme.id))
  const added = next.filter((id) => !state.memeIndex.has(id)).map((id) => createMeme(rules.scorer.schema, id, state.round))
  const memes = [...kept, ...added]
  return {
    members,
    memes,
    memeIndex: new Map(memes.map((meme, i) => [meme.id, i])),
    lastCheckpoints: new Map([...state.lastCheckpoints].filter(([id]) => members.has(id))),
    // An update naming a removed member would admit its meme again (meme-reputation admits unknown ids).
    observations: updates.observations.filter((observation) => members.has(observation.memeId)),
    faults: updates.faults.filter((fault) => members.has(fault.memeId)),
  }
}

/** Runs the round's election over the memes the body updates: the next state and the next facilitators. */
function advance(rules: SolarSystemRules, state: SolarSystemState, body: ResultBody, hash: Uint8Array): SolarSystemState {
  const updates = memeUpdatesOf(body)
  const switched = state.nextMembers === undefined ? undefined : switchMembers(rules, state, state.nextMembers, updates)
  const { observations, faults } = switched ?? updates
  const before = switched ?? state
  const ran = runElection({
    scorer: rules.scorer,
    docking: rules.docking,
    config: rules.election,
    round: body.round,
    memes: before.memes,
    observations,
    faults,
    resultHash: hash,
    previousHash: state.resultHash,
    index: before.memeIndex,
  })
  const lastCheckpoints = new Map(before.lastCheckpoints)
  for (const entry of body.checkpoints) {
    const id = toHex(entry.publicKey)
    if (switched === undefined || switched.members.has(id)) lastCheckpoints.set(id, { entry, round: body.round })
  }
  const recentResults = new Map(state.recentResults)
  recentResults.set(body.round, toHex(hash))
  recentResults.delete(body.round - rules.maxCheckpointAgeRounds - 1)
  const memeIndex = ran.memes.length === before.memes.length ? before.memeIndex : new Map(ran.memes.map((meme, i) => [meme.id, i]))
  let provenFrauds = state.provenFrauds
  const forgetBefore = body.round - FRAUD_MEMORY_ROUNDS
  if (body.faults.length > 0 || (provenFrauds.size > 0 && (provenFrauds.values().next().value as number) < forgetBefore)) {
    const kept = new Map([...provenFrauds].filter(([, round]) => round >= forgetBefore))
    for (const fault of body.faults) kept.set(fraudPosition(fault.memeId, fault.sequenceNumber), body.round)
    provenFrauds = kept
  }
  const { nextMembers: _done, ...rest } = state
  return {
    ...rest,
    ...(switched === undefined ? {} : { members: switched.members }),
    round: body.round,
    resultHash: hash,
    previousResultHash: state.resultHash,
    committee: createCommittee(ran.election.elected),
    memes: ran.memes,
    scores: ran.scores,
    memeIndex,
    lastCheckpoints,
    ledger: applyLedgerDelta(state.ledger, body.ledger, body.round),
    recentResults,
    provenFrauds,
    election: ran.election,
  }
}

/** The result a facilitator signs for `body`: the body and the facilitators its election picks. */
export function nextResult(
  rules: SolarSystemRules,
  state: SolarSystemState,
  body: ResultBody,
  hash: Uint8Array,
): { result: CheckpointResult; state: SolarSystemState } {
  const next = advance(rules, state, body, hash)
  return { result: deepFreeze({ body, nextFacilitators: [...next.committee.facilitators] }), state: next }
}

/**
 * Follows a certified result (its certificate already verified against `state.committee`): refuses one that does
 * not extend this state, or whose next facilitators differ from the election every honest node runs.
 */
export function applyResult(rules: SolarSystemRules, state: SolarSystemState, result: CheckpointResult, hash: Uint8Array): SolarSystemState {
  const { body } = result
  const refuse = (reason: string) =>
    new ConsensusError(ConsensusErrorCode.INVALID_CERTIFICATE, `the result of round ${body.round} does not follow round ${state.round}: ${reason}`, { reason })
  if (body.level !== state.genesis.level || body.group !== state.genesis.group) throw refuse('another group or level')
  if (body.round !== state.round + 1) throw refuse(`expected round ${state.round + 1}`)
  if (toHex(body.previousResultHash) !== toHex(state.resultHash)) throw refuse('it names another previous result')
  const next = advance(rules, state, body, hash)
  const elected = next.committee.facilitators
  if (elected.length !== result.nextFacilitators.length || elected.some((id, i) => id !== result.nextFacilitators[i])) {
    throw refuse('its next facilitators are not the ones the election picks')
  }
  return next
}

/** Rounds since the member's last certified checkpoint: how long its checkpoints have waited, on public data. */
export function waitedRounds(state: SolarSystemState, memberId: string): number {
  return state.round - (state.lastCheckpoints.get(memberId)?.round ?? 0)
}

/** Score of a member (0 for an unknown one), for checkpoint priority. */
export function scoreOf(state: SolarSystemState, memberId: string): number {
  const i = state.memeIndex.get(memberId)
  return i === undefined ? 0 : (state.scores[i] ?? 0)
}
