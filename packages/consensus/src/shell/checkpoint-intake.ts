/**
 * The facilitator side of a solar-system node: the members' submissions come in here. Each member's stretch is
 * checked in full (signatures, links, balances) before its checkpoint is held — only what the member added since the
 * stretch this node last checked of it — and idle notices are counted; both go to the round this node facilitates,
 * or are held for the round they belong to. When the election picks the node, `enterRound` starts the round with
 * what it holds and the fraud proofs made from counterparties' reports.
 */
import { type Crypto, type KeyPair, type SignedMessage, toHex } from '@constellation/crypto'
import { type BlockLimits, blockHash, decodeBlock, type HalfBlock, type PayloadRegistry, type StretchTail } from '@constellation/trustchain'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { BatchVerifier } from '../round/certificate.js'
import { addToPool, type AnchoredCheckpoint, type CheckpointPool, finishSubmission, planSubmission, prunePool } from '../round/checkpoint-pool.js'
import { type FacilitatorRoundState, type RoundEvent, startRound } from '../round/facilitator-round.js'
import { checkpointInputs } from '../round/round-inputs.js'
import type { SolarSystemGenesis, SolarSystemRules, SolarSystemState } from '../round/solar-system.js'
import { remember } from './bounded-map.js'
import { recordedRound } from './checkpoint-cadence.js'
import { ForkEvidence } from './fork-reports.js'
import { SettlementEvidenceBook } from './settlement-evidence.js'
import { decodeMemberSubmission, encodeEvidenceAnswer, encodeSubmissionAnswer, type SettlementEvidence } from './wire.js'
import type { CommitteeLookup } from '../finality/agreement-proof.js'
import type { CertificateHistory } from '../finality/certificate-history.js'

/** Members whose last checked stretch a facilitator keeps (bounded by the solar system's size). */
const MAX_CHECKED_STRETCHES = 4_096

/** The node's seat in the solar system's rounds (its `RoundDriver`), as the intake drives it. */
export interface RoundSeat {
  readonly round: FacilitatorRoundState<AnchoredCheckpoint> | undefined
  mayFacilitate(round: number): boolean
  enter(round: number, machine?: FacilitatorRoundState<AnchoredCheckpoint>, feed?: () => void): void
  drive(event: RoundEvent<AnchoredCheckpoint>): void
}

export interface CheckpointIntakeOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly genesis: SolarSystemGenesis
  readonly rules: SolarSystemRules
  readonly limits: BlockLimits
  readonly registry: PayloadRegistry
  readonly verifier: BatchVerifier | undefined
  /** Bytes of one network message at most (a submission's bound). */
  readonly maxMessageBytes: number
  /** Rounds up to this one are not facilitated (see `SolarSystemNodeOptions.sitOutThroughRound`). */
  readonly sitOutThroughRound: number
  readonly seat: RoundSeat
  /** The root's committees, to check rooted agreement proofs of transfers from other solar systems (optional). */
  readonly rootCommittee?: CommitteeLookup | undefined
  /** Other solar systems' histories as this node follows them, to check credits against (optional). */
  readonly followedHistory?: ((group: string) => CertificateHistory | undefined) | undefined
  /** The solar system's state after the last round the node applied. */
  state(): SolarSystemState
}

export class CheckpointIntake {
  readonly #options: CheckpointIntakeOptions
  readonly #self: string
  /** Per member, the stretch this node last checked: the next submission repeats it, and only what it adds is checked. */
  readonly #checked = new Map<string, StretchTail>()
  /** Proposals of checked stretches, and fraud proofs made from counterparties' reports. */
  readonly #evidence: ForkEvidence
  /** Settlements across solar systems this node checked the evidence of. */
  readonly #settlements: SettlementEvidenceBook
  /** Checkpoints that arrived for a round this node has not started yet. */
  #pending: CheckpointPool = new Map()
  #arrivals = 0
  /** Idle notices for the round after the one this facilitator is in (it is behind): replayed when it enters it. */
  #idleAhead: { readonly round: number; readonly members: Set<string> } | undefined
  #roundsFacilitated = 0

  constructor(options: CheckpointIntakeOptions) {
    this.#options = options
    this.#self = toHex(options.keyPair.publicKey)
    this.#evidence = new ForkEvidence(options.crypto, options.limits)
    this.#settlements = new SettlementEvidenceBook({
      crypto: options.crypto,
      limits: options.limits,
      verifier: options.verifier,
      rootCommittee: options.rootCommittee,
      followedHistory: options.followedHistory,
    })
  }

  get roundsFacilitated(): number {
    return this.#roundsFacilitated
  }

  /** A member's submission (authenticated by the transport): its stretch and reports, or an idle notice. */
  async onSubmission(from: string, data: Uint8Array): Promise<Uint8Array> {
    const { crypto, limits } = this.#options
    const submission = decodeMemberSubmission(data, this.#options.maxMessageBytes)
    const { level, group } = this.#options.genesis
    if (submission.level !== level || submission.group !== group) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'another solar system')
    if ('idle' in submission) {
      this.takeIdle(from, submission.idle)
      return encodeSubmissionAnswer({})
    }
    if ('answers' in submission) return encodeEvidenceAnswer(await this.takeEvidence(from, submission))
    const blocks = submission.blocks.map((bytes) => decodeBlock(crypto, bytes, limits))
    for (const bytes of submission.reports ?? []) this.#evidence.takeReport(this.#options.state(), decodeBlock(crypto, bytes, limits))
    const resend = await this.takeStretch(blocks, 'all')
    return encodeSubmissionAnswer(resend === undefined ? {} : { resend })
  }

  /**
   * A member's evidence for transfers across solar systems: what checks is held to propose (see
   * `settlement-evidence.ts`). Returns, per piece, whether this node holds it now.
   */
  takeEvidence(from: string, evidence: SettlementEvidence): Promise<boolean[]> {
    return this.#settlements.take(this.#options.state(), from, evidence)
  }

  /** Counterparties' reports of forked proposals: each one that proves a fork becomes a fraud proof to propose. */
  takeReports(reports: readonly HalfBlock[]): void {
    for (const proposal of reports) this.#evidence.takeReport(this.#options.state(), proposal)
  }

  /**
   * Checks a member's stretch (its blocks after its certified checkpoint, the new checkpoint last) against this node's
   * state and holds it for the round; the first block needed when the run starts past what this node holds.
   */
  async takeStretch(blocks: readonly HalfBlock[], signatures: 'all' | 'none'): Promise<number | undefined> {
    const { crypto } = this.#options
    const state = this.#options.state()
    const checkpoint = blocks.at(-1)
    if (checkpoint !== undefined && checkpoint.type === 'checkpoint' && recordedRound(checkpoint) > state.round + 1) {
      // At most one round ahead, or anyone could push a member's real checkpoint out of the pool with a forged, higher one.
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'the checkpoint records a round too far ahead')
    }
    const member = checkpoint === undefined ? '' : toHex(checkpoint.publicKey)
    // The plan runs against the state it was made on, even if a round is applied while the signatures are checked
    // (the round rebases the stretch on its anchor then).
    const plan = planSubmission(crypto, state, blocks, this.#checked.get(member))
    if (plan.kind === 'resend') return plan.from
    if (plan.kind === 'refused') throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, plan.reason)
    const verdicts = signatures === 'none' ? 'none' : await this.#verifyAll(plan.rest)
    const checked = finishSubmission(crypto, this.#options.registry, plan, verdicts)
    if (checked.kind === 'refused') throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, checked.reason)
    if (checked.kind === 'resend') return checked.from
    remember(this.#checked, member, checked.checkpoint.tail, MAX_CHECKED_STRETCHES)
    this.#evidence.noteChecked(plan.rest)
    this.#acceptCheckpoint(checked.checkpoint)
    return undefined
  }

  /** An idle notice from `member` (authenticated by the transport) for `round`: counted if that round is this one's. */
  takeIdle(member: string, round: number): void {
    const state = this.#options.state()
    if (!state.members.has(member)) return
    if (round === state.round + 1) {
      this.#options.seat.drive({ type: 'idle', member })
      return
    }
    // The member applied a certificate this node has not yet: held for that round (bounded by the members).
    if (round !== state.round + 2) return
    if (this.#idleAhead?.round !== round) this.#idleAhead = { round, members: new Set() }
    this.#idleAhead.members.add(member)
  }

  async #verifyAll(blocks: readonly HalfBlock[]): Promise<readonly boolean[]> {
    const { crypto, verifier } = this.#options
    const items: SignedMessage[] = blocks.map((block) => ({ publicKey: block.publicKey, message: blockHash(crypto, block), signature: block.signature }))
    return verifier === undefined ? crypto.verifyMany(items) : await verifier(items)
  }

  #acceptCheckpoint(input: AnchoredCheckpoint): void {
    const { seat } = this.#options
    const recorded = recordedRound(input.block)
    if (seat.round !== undefined && recorded <= this.#options.state().round) {
      seat.drive({ type: 'checkpoint', block: input })
      return
    }
    // Not facilitating now, or the member has applied a certificate this node has not yet: hold the newest per member
    // for the round it belongs to; `enterRound` checks the rest then.
    this.#pending = addToPool(this.#pending, input, this.#arrivals++)
  }

  /** Moves to round `state.round + 1`, and facilitates it when the election picked this node. */
  enterRound(): void {
    const { crypto, keyPair, rules, limits, seat } = this.#options
    const state = this.#options.state()
    const round = state.round + 1
    const carried: CheckpointPool = new Map([...this.#pending, ...(seat.round?.pool ?? [])])
    if (!state.committee.facilitators.includes(this.#self) || round <= this.#options.sitOutThroughRound || !seat.mayFacilitate(round)) {
      seat.enter(round)
      // Held for a later round: drop what this round made stale, so the pool stays bounded by the members.
      this.#pending = prunePool(crypto, rules, state, carried)
      return
    }
    this.#pending = new Map()
    this.#roundsFacilitated++
    // The round checks each carried checkpoint against the new state as it takes it in (no separate prune first).
    const inputs = checkpointInputs(crypto, rules, limits, this.#evidence.toPropose(state), () => this.#settlements.toPropose(state))
    const idle = this.#idleAhead?.round === round ? this.#idleAhead.members : new Set<string>()
    this.#idleAhead = undefined
    seat.enter(round, startRound({ crypto, keyPair, rules, seed: state, limits, inputs }), () => {
      for (const entry of carried.values()) seat.drive({ type: 'checkpoint', block: entry.block })
      for (const member of idle) seat.drive({ type: 'idle', member })
    })
  }
}
