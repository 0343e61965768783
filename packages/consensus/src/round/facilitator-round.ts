/**
 * One facilitator's part in one checkpoint round, as a pure state machine.
 *
 * The round unfolds from its seed — the solar system's state after round r - 1 — through three phases:
 *   collecting: members' checkpoint blocks arrive and are checked; once N - t members are heard from (or the proposal
 *     timer fires, for members that never show up) the facilitator proposes what it holds, by priority. A member
 *     whose chain has not moved says so instead of checkpointing (`idle`): it counts as heard, so a round with some
 *     idle members starts as soon as the others' checkpoints are in, but a round with nothing but idle members waits
 *     for the timer, so an idle network runs a round per `proposalTimeoutMs` instead of as fast as it can;
 *   agreeing: the asynchronous common subset runs over the facilitators' proposals;
 *   signing: the agreed proposals are folded into the result (`foldAgreement`), the next committee is elected,
 *     and the facilitators exchange signature shares until 2t + 1 make the certificate.
 * `stepRound(state, event)` never touches a clock, a socket or a random source, and never mutates `state`; the
 * shell delivers events and performs the sends.
 *
 * The same machine runs at every level of the hierarchy: `config.inputs` says what the round's inputs are (members'
 * checkpoint blocks by default; the certificates of the level below in a star cluster, galaxy or the universe).
 */
import { type Crypto, fromHex, type KeyPair, SIGNATURE_LENGTH, toHex } from '@constellation/crypto'
import type { BlockLimits } from '@constellation/trustchain'
import { deepFreeze } from '../codec/fields.js'
import type { AnchoredCheckpoint } from './checkpoint-pool.js'
import type { AcsMessage } from '../acs/acs-messages.js'
import { type AcsState, acsStep, initialAcsState } from '../acs/common-subset.js'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { assembleCertificate, type CertificateSignature, type CheckpointCertificate, signResult } from './certificate.js'
import { certificateDigest, type CheckpointResult, resultHash } from './checkpoint-result.js'
import { commonCoin } from './common-coin.js'
import { addInput, checkpointInputs, type InputPool, type RoundInputKind } from './round-inputs.js'
import { nextResult, type SolarSystemRules, type SolarSystemState } from './solar-system.js'

/** What facilitators send each other during a round. */
export type RoundMessage =
  | { readonly kind: 'acs'; readonly message: AcsMessage }
  /** A signature share on the result digest. */
  | { readonly kind: 'share'; readonly signature: Uint8Array }

export interface RoundConfig<I = AnchoredCheckpoint> {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly rules: SolarSystemRules
  /** The state after round r - 1: its committee runs round r. */
  readonly seed: SolarSystemState
  readonly limits?: BlockLimits
  /** What the round agrees on (default: members' checkpoint blocks, `checkpointInputs`). */
  readonly inputs?: RoundInputKind<I>
}

export type RoundPhase = 'collecting' | 'agreeing' | 'signing' | 'certified'

export interface FacilitatorRoundState<I = AnchoredCheckpoint> {
  readonly config: RoundConfig<I>
  /** The input kind in use (`config.inputs` or the checkpoint default). */
  readonly inputs: RoundInputKind<I>
  readonly self: string
  readonly round: number
  readonly phase: RoundPhase
  readonly pool: InputPool<I>
  readonly arrivals: number
  /** Members that said they have nothing to checkpoint for this round (members of the seed only; bounded by them). */
  readonly idle: ReadonlySet<string>
  /** Inputs proposed (for diagnostics and the explorer; absent after a proposal resumed from a journal). */
  readonly proposed?: readonly I[]
  /** The encoded proposal this facilitator made, once it has: what its round journal keeps. */
  readonly proposal?: Uint8Array
  readonly acs: AcsState
  readonly result?: {
    readonly result: CheckpointResult
    readonly hash: Uint8Array
    readonly digest: Uint8Array
    readonly next: SolarSystemState
    /** The leaves of the transfers the result finalises (level 0), carried beside the certificate. */
    readonly finalised: readonly Uint8Array[]
  }
  /** Valid shares by signer; shares that came before our own result are held unchecked in `early`. */
  readonly shares: ReadonlyMap<string, CertificateSignature>
  readonly early: ReadonlyMap<string, Uint8Array>
  readonly certificate?: CheckpointCertificate
  /** Checkpoint blocks refused, by reason (bounded by the reasons' count). */
  readonly refused: ReadonlyMap<string, number>
}

/** A `checkpoint` event carries one input: a member's checkpoint block at level 0, a child's certificates above. */
export type RoundEvent<I = AnchoredCheckpoint> =
  | { readonly type: 'checkpoint'; readonly block: I }
  /** The proposal timer fired: propose what is held even if fewer than N - t checkpoints arrived. */
  | { readonly type: 'proposal-timeout' }
  /**
   * `member` has nothing to checkpoint for this round (its chain has not moved since its last checkpoint). The shell
   * passes only what the transport authenticated as coming from `member`.
   */
  | { readonly type: 'idle'; readonly member: string }
  | { readonly type: 'message'; readonly from: string; readonly message: RoundMessage }

export type RoundEffect =
  | { readonly type: 'send'; readonly to: string | 'all'; readonly message: RoundMessage }
  | { readonly type: 'certified'; readonly certificate: CheckpointCertificate; readonly state: SolarSystemState }

export interface RoundStep<I = AnchoredCheckpoint> {
  readonly state: FacilitatorRoundState<I>
  readonly effects: readonly RoundEffect[]
}

export function startRound<I>(config: RoundConfig<I> & { readonly inputs: RoundInputKind<I> }, pool?: InputPool<I>): FacilitatorRoundState<I>
export function startRound(config: RoundConfig, pool?: InputPool<AnchoredCheckpoint>): FacilitatorRoundState
export function startRound<I>(config: RoundConfig<I>, pool: InputPool<I> = new Map()): FacilitatorRoundState<I> {
  const { crypto, keyPair, seed, rules } = config
  // Without a kind the inputs are anchored checkpoints: I is then AnchoredCheckpoint, its default.
  const inputs = config.inputs ?? (checkpointInputs(crypto, rules, config.limits) as unknown as RoundInputKind<I>)
  const self = toHex(keyPair.publicKey)
  const committee = seed.committee
  if (!committee.facilitators.includes(self)) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `this node is not a facilitator of round ${seed.round + 1}`)
  }
  const round = seed.round + 1
  const acs = initialAcsState({
    participants: committee.facilitators,
    self,
    faults: committee.faults,
    coin: commonCoin(crypto, { previousResultHash: seed.resultHash, level: seed.genesis.level, group: seed.genesis.group, round }),
    digest: (value) => crypto.sha256(value),
    maxProposalBytes: rules.maxProposalBytes,
  })
  return {
    config,
    inputs,
    self,
    round,
    phase: 'collecting',
    pool,
    arrivals: pool.size,
    idle: new Set(),
    acs,
    shares: new Map(),
    early: new Map(),
    refused: new Map(),
  }
}

/** Inputs held before proposing: N - t of the members at level 0 (the kind decides above). */
export function collectionTarget<I>(state: FacilitatorRoundState<I>): number {
  return state.inputs.collectionTarget(state.config.seed)
}

// The checkpoint signature comes last: `Parameters<typeof stepRound>` names it, as before the machine was generic.
export function stepRound<I>(state: FacilitatorRoundState<I>, event: RoundEvent<I>): RoundStep<I>
export function stepRound(state: FacilitatorRoundState, event: RoundEvent): RoundStep
export function stepRound<I>(state: FacilitatorRoundState<I>, event: RoundEvent<I>): RoundStep<I> {
  switch (event.type) {
    case 'checkpoint':
      return onCheckpoint(state, event.block)
    case 'proposal-timeout':
      return state.phase === 'collecting' ? propose(state) : { state, effects: [] }
    case 'idle':
      return onIdle(state, event.member)
    case 'message':
      return onMessage(state, event.from, event.message)
  }
}

function onCheckpoint<I>(state: FacilitatorRoundState<I>, block: I): RoundStep<I> {
  const why = state.inputs.check(state.config.seed, block)
  if (why !== undefined) {
    const refused = new Map(state.refused)
    refused.set(why, (refused.get(why) ?? 0) + 1)
    return { state: { ...state, refused }, effects: [] }
  }
  // Blocks that arrive after the proposal wait in the pool for the next round.
  const pool = addInput(state.inputs, state.pool, block, state.arrivals)
  const next = { ...state, pool, arrivals: state.arrivals + 1 }
  return heardEnough(next) ? propose(next) : { state: next, effects: [] }
}

function onIdle<I>(state: FacilitatorRoundState<I>, member: string): RoundStep<I> {
  if (state.idle.has(member) || !state.config.seed.members.has(member)) return { state, effects: [] }
  const next = { ...state, idle: new Set(state.idle).add(member) }
  return heardEnough(next) ? propose(next) : { state: next, effects: [] }
}

/**
 * Whether to propose before the timer: the sources heard from (inputs that count, and idle members with no input
 * held) reach the collection target, and at least one input is held — a round of idle members only has nothing to
 * agree on and waits for the timer, which paces an idle network.
 */
function heardEnough<I>(state: FacilitatorRoundState<I>): boolean {
  if (state.phase !== 'collecting') return false
  const { counts } = state.inputs
  let held = state.pool.size
  if (counts !== undefined) {
    held = 0
    for (const entry of state.pool.values()) if (counts(entry.block)) held++
  }
  if (held === 0) return false
  // The pool is keyed by source: an idle member whose input is held anyway counts once.
  let idle = 0
  for (const member of state.idle) if (!state.pool.has(member)) idle++
  return held + idle >= collectionTarget(state)
}

function propose<I>(state: FacilitatorRoundState<I>): RoundStep<I> {
  const chosen = state.inputs.select(state.config.seed, state.pool)
  const proposal = state.inputs.encodeProposal(chosen)
  const stepped = acsStep(state.acs, { type: 'propose', value: proposal })
  return afterAcs({ ...state, phase: 'agreeing', proposed: chosen, proposal }, stepped)
}

/**
 * Proposes `proposal` as it was made before a restart (from the round journal), instead of choosing again from a
 * pool that is no longer the one it was chosen from: a facilitator never proposes twice in a round. A machine that
 * has proposed already is left as it is.
 */
export function proposeJournalled<I>(state: FacilitatorRoundState<I>, proposal: Uint8Array): RoundStep<I> {
  if (state.phase !== 'collecting') return { state, effects: [] }
  const stepped = acsStep(state.acs, { type: 'propose', value: proposal })
  return afterAcs({ ...state, phase: 'agreeing', proposal }, stepped)
}

function afterAcs<I>(state: FacilitatorRoundState<I>, stepped: ReturnType<typeof acsStep>): RoundStep<I> {
  const effects: RoundEffect[] = stepped.outbox.map((out) => ({ type: 'send', to: out.to, message: { kind: 'acs', message: out.message } }))
  let next: FacilitatorRoundState<I> = { ...state, acs: stepped.state }
  if (stepped.output !== undefined && next.result === undefined) {
    const signed = sign(next, stepped.output.proposals)
    next = signed.state
    effects.push(...signed.effects)
  }
  return { state: next, effects }
}

/** Folds the agreed proposals into the result, signs it and sends the share; checks shares that came early. */
function sign<I>(state: FacilitatorRoundState<I>, agreed: ReadonlyMap<string, Uint8Array>): RoundStep<I> {
  const { crypto, keyPair, rules, seed } = state.config
  const { body, finalised } = state.inputs.fold(seed, agreed, state.pool)
  const hash = resultHash(crypto, body)
  const { result, state: nextState } = nextResult(rules, seed, body, hash)
  const digest = certificateDigest(crypto, result)
  const own = signResult(crypto, keyPair, result)
  const shares = new Map(state.shares)
  shares.set(state.self, own)
  for (const [signer, signature] of state.early) {
    if (crypto.verify(signature, digest, fromHex(signer))) shares.set(signer, { signer, signature })
  }
  const next: FacilitatorRoundState<I> = {
    ...state,
    phase: 'signing',
    result: { result, hash, digest, next: nextState, finalised },
    shares,
    early: new Map(),
  }
  const effects: RoundEffect[] = [{ type: 'send', to: 'all', message: { kind: 'share', signature: own.signature } }]
  const done = maybeCertify(next)
  return { state: done.state, effects: [...effects, ...done.effects] }
}

function maybeCertify<I>(state: FacilitatorRoundState<I>): RoundStep<I> {
  const committee = state.config.seed.committee
  if (state.certificate !== undefined || state.result === undefined || state.shares.size < committee.quorum) return { state, effects: [] }
  const assembled = assembleCertificate(state.result.result, [...state.shares.values()], committee)
  // Level 0 results finalise transfers: their leaves travel with the certificate (its result commits to their root).
  const certificate = state.config.seed.genesis.level === 0 ? deepFreeze({ ...assembled, finalised: [...state.result.finalised] }) : assembled
  return {
    state: { ...state, phase: 'certified', certificate },
    effects: [{ type: 'certified', certificate, state: state.result.next }],
  }
}

function onMessage<I>(state: FacilitatorRoundState<I>, from: string, message: RoundMessage): RoundStep<I> {
  const committee = state.config.seed.committee
  if (from === state.self || !committee.facilitators.includes(from)) return { state, effects: [] }
  if (message.kind === 'acs') return afterAcs(state, acsStep(state.acs, { type: 'message', from, message: message.message }))
  // Frames are decoded with a codec, but the machine never trusts its input: anything else is dropped.
  if (message.kind !== 'share' || !(message.signature instanceof Uint8Array) || message.signature.length !== SIGNATURE_LENGTH) return { state, effects: [] }
  if (state.shares.has(from)) return { state, effects: [] }
  if (state.result === undefined) {
    // Held until our own result exists to check it against; one per facilitator, so bounded by n.
    if (state.early.has(from)) return { state, effects: [] }
    const early = new Map(state.early)
    early.set(from, message.signature)
    return { state: { ...state, early }, effects: [] }
  }
  if (!state.config.crypto.verify(message.signature, state.result.digest, fromHex(from))) return { state, effects: [] }
  const shares = new Map(state.shares)
  shares.set(from, { signer: from, signature: message.signature })
  return maybeCertify({ ...state, shares })
}
