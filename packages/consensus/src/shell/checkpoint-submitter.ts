/**
 * The member side of a solar-system node: after each certified round it appends a checkpoint block recording that
 * result to its own chain (when its chain moved, or the idle cadence is due; see checkpoint-cadence.ts) and submits
 * it, with the stretch of its chain it closes, to the next round's facilitators; otherwise it tells them it is idle.
 * It also watches its own agreements until they are final, and reports a proposer that forked its chain.
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import type { Clock, TimerHandle } from '@constellation/gossip'
import { type BlockLimits, encodeBlock, type HalfBlock } from '@constellation/trustchain'
import { anchorOf, type SolarSystemState } from '../round/solar-system.js'
import { remember } from './bounded-map.js'
import { checkpointStep } from './checkpoint-cadence.js'
import { AnswerWatch } from './fork-reports.js'
import type { ConsensusNetwork, SolarSystemTiming } from './shell-timing.js'
import type { CheckpointWriter } from './shell-types.js'
import { CHECKPOINT_PROTOCOL, decodeSubmissionAnswer, encodeCheckpointSubmission, encodeIdleNotice, type SubmissionAnswer } from './wire.js'

/** Facilitators whose acknowledgement of the own stretch a member keeps (bounded by the solar system's size). */
const MAX_ACKNOWLEDGEMENTS = 4_096

/** The node's own facilitator side, which takes the member's submissions without the network (see `CheckpointIntake`). */
export interface OwnFacilitator {
  takeStretch(blocks: readonly HalfBlock[], signatures: 'none'): Promise<number | undefined>
  takeReports(reports: readonly HalfBlock[]): void
  takeIdle(member: string, round: number): void
}

export interface CheckpointSubmitterOptions {
  readonly crypto: Crypto
  readonly self: string
  readonly network: Pick<ConsensusNetwork, 'request'>
  readonly clock: Clock
  readonly chain: CheckpointWriter
  readonly group: { readonly level: number; readonly group: string }
  readonly timing: Pick<SolarSystemTiming, 'checkpointDelayMs' | 'requestTimeoutMs'>
  readonly limits: BlockLimits
  /** See `SolarSystemNodeOptions.idleCheckpointRounds`. */
  readonly idleCheckpointRounds: number
  /** How old a result a checkpoint may record (the rules' `maxCheckpointAgeRounds`). */
  readonly maxCheckpointAgeRounds: number
  readonly own: OwnFacilitator
  readonly onError: ((error: unknown) => void) | undefined
  running(): boolean
  /** The solar system's state after the last round the node applied. */
  state(): SolarSystemState
}

export class CheckpointSubmitter {
  readonly #options: CheckpointSubmitterOptions
  /** Per facilitator, the own stretch it acknowledged: the anchor it was after, and the last block sent. */
  readonly #submitted = new Map<string, { readonly anchor: number; readonly upTo: number }>()
  /** Own agreements until final, and the forked proposals to report. */
  readonly #answers: AnswerWatch
  #checkpointTimer: TimerHandle | undefined
  /** The round this member told the facilitators it is idle for; it checkpoints at once if its chain grows meanwhile. */
  #idleFor: number | undefined

  constructor(options: CheckpointSubmitterOptions) {
    this.#options = options
    this.#answers = new AnswerWatch(options.crypto)
  }

  /** Checkpoints after `checkpointDelayMs`; a newer certificate meanwhile replaces the pending checkpoint. */
  schedule(): void {
    this.#checkpointTimer?.cancel()
    this.#checkpointTimer = undefined
    const delay = this.#options.timing.checkpointDelayMs
    if (delay <= 0) {
      void this.submit()
      return
    }
    this.#checkpointTimer = this.#options.clock.setTimer(delay, () => {
      this.#checkpointTimer = undefined
      if (this.#options.running()) void this.submit()
    })
  }

  /** The node stopped: no checkpoint pending. */
  stop(): void {
    this.#checkpointTimer?.cancel()
  }

  /**
   * Checkpoints for the next round when the own chain moved (or the idle cadence is due), and submits the stretch of
   * the own chain after the own certified checkpoint that the checkpoint closes to the next facilitators; tells them
   * it is idle otherwise (see checkpoint-cadence.ts). Each facilitator gets only the blocks it has not acknowledged
   * yet; one that asks for more gets them at once.
   */
  async submit(): Promise<void> {
    const { self, chain, onError } = this.#options
    const state = this.#options.state()
    // Not a member (yet, or any more): nothing to checkpoint for.
    if (!state.members.has(self)) return
    this.#idleFor = undefined
    const anchor = anchorOf(state, self)?.sequenceNumber ?? 0
    let stretch: readonly HalfBlock[]
    try {
      stretch = await chain.stretch(anchor)
      const step = checkpointStep({
        stretch,
        round: state.round,
        anchorRound: state.lastCheckpoints.get(self)?.round ?? 0,
        idleCheckpointRounds: this.#options.idleCheckpointRounds,
        maxCheckpointAgeRounds: this.#options.maxCheckpointAgeRounds,
        reporting: this.#answers.reporting,
      })
      if (!this.#options.running() || state !== this.#options.state()) return
      if (step === 'idle') return this.#sendIdle(state)
      if (step === 'checkpoint') {
        const block = await chain.checkpoint({ consensusResultHash: state.resultHash, round: state.round })
        // Blocks appended between the read and the checkpoint belong to it too: read again then.
        const last = stretch.at(-1)?.sequenceNumber ?? anchor
        stretch =
          block.sequenceNumber === last + 1 ? [...stretch, block] : (await chain.stretch(anchor)).filter((own) => own.sequenceNumber <= block.sequenceNumber)
      }
    } catch (error) {
      onError?.(error)
      return
    }
    if (!this.#options.running() || stretch.length === 0) return
    this.#answers.noteOwn(stretch)
    const reports = this.#answers.nextReports()
    for (const facilitator of state.committee.facilitators) {
      if (facilitator === self) {
        // Its own blocks: signed here, so checked without verifying them again.
        this.#options.own.takeStretch(stretch, 'none').catch((error: unknown) => onError?.(error))
        this.#options.own.takeReports(reports)
        continue
      }
      void this.#submitTo(facilitator, anchor, stretch, reports)
    }
  }

  /** Tells the facilitators of the round after `state` that this member has nothing to checkpoint for it. */
  #sendIdle(state: SolarSystemState): void {
    const { self, network, group } = this.#options
    const round = state.round + 1
    this.#idleFor = round
    const notice = encodeIdleNotice({ level: group.level, group: group.group, idle: round })
    for (const facilitator of state.committee.facilitators) {
      if (facilitator === self) this.#options.own.takeIdle(self, round)
      // Unanswered is fine: that facilitator waits for its timer instead, as for any member it did not hear from.
      else network.request(facilitator, CHECKPOINT_PROTOCOL, notice, { timeout: this.#options.timing.requestTimeoutMs }).catch(() => undefined)
    }
  }

  /** The own chain grew: a member idle for this round checkpoints now rather than a round later. */
  onGrown(): void {
    if (!this.#options.running() || this.#idleFor === undefined || this.#idleFor !== this.#options.state().round + 1 || this.#checkpointTimer !== undefined)
      return
    this.#idleFor = undefined
    void this.submit()
  }

  /** Sends `facilitator` the part of `stretch` (after `anchor`) it lacks, and what it asks for if it lacks more. */
  async #submitTo(facilitator: string, anchor: number, stretch: readonly HalfBlock[], reports: readonly HalfBlock[]): Promise<void> {
    const { network, group, limits } = this.#options
    const reported = reports.length === 0 ? {} : { reports: reports.map((proposal) => encodeBlock(proposal, limits)) }
    const acknowledged = this.#submitted.get(facilitator)
    let from = acknowledged !== undefined && acknowledged.anchor === anchor ? acknowledged.upTo + 1 : anchor + 1
    const top = (stretch.at(-1) as HalfBlock).sequenceNumber
    for (let attempt = 0; attempt < 2 && this.#options.running(); attempt++) {
      const blocks = stretch.filter((own) => own.sequenceNumber >= from)
      if (blocks.length === 0) return
      const bytes = encodeCheckpointSubmission({ level: group.level, group: group.group, blocks: blocks.map((own) => encodeBlock(own, limits)), ...reported })
      let answer: SubmissionAnswer
      try {
        answer = decodeSubmissionAnswer(await network.request(facilitator, CHECKPOINT_PROTOCOL, bytes, { timeout: this.#options.timing.requestTimeoutMs }))
      } catch {
        // A facilitator that does not answer is one of the t the round tolerates; the next checkpoint sends it all again.
        this.#submitted.delete(facilitator)
        return
      }
      if (answer.resend === undefined) {
        remember(this.#submitted, facilitator, { anchor, upTo: top }, MAX_ACKNOWLEDGEMENTS)
        return
      }
      // It holds less than acknowledged (a restart) or is behind this node's anchor: the blocks it asks for, once.
      if (answer.resend >= from || answer.resend < 1) return
      from = answer.resend
      if (from <= anchor) {
        const below = await this.#options.chain.stretch(from - 1).catch(() => undefined)
        if (below === undefined) return
        stretch = below.filter((own) => own.sequenceNumber <= top)
      }
    }
  }

  /** A round applied: the own agreements it finalised (its leaves) are no longer watched. */
  noteFinal(leaves: readonly Uint8Array[]): void {
    this.#answers.noteFinal(leaves)
  }

  /** Own agreements certified on both sides yet not final answered a forked proposal: those are reported. */
  async reviewAnswers(): Promise<void> {
    const { proposalOf } = this.#options.chain
    if (proposalOf === undefined) return
    for (const agreement of this.#answers.suspects(this.#options.state(), this.#options.self)) {
      const proposal = await proposalOf(agreement).catch(() => undefined)
      if (proposal !== undefined && proposal.sequenceNumber === agreement.linkSequenceNumber && equalBytes(proposal.publicKey, agreement.linkPublicKey))
        this.#answers.report(proposal)
    }
  }
}
