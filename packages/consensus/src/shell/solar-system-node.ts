/**
 * The imperative shell of a solar-system node: it runs the pure round machine over a gossip `Network` and a
 * `Clock`, so the same code runs on `SimNetwork` and on `Libp2pNetwork`.
 *
 * Every node is a member: after each certified round it appends a checkpoint block recording that result to its
 * own chain and submits it, with the stretch of its chain it closes, to the next round's facilitators. A node the
 * election picks is also a facilitator for that round: it checks each member's stretch in full (signatures, links,
 * balances) before it holds it, runs the agreement with the other facilitators over coalescing reliable links,
 * signs the result and gossips the certificate. Every node follows the certificates (verified in one batch against
 * the committee the previous certificate named), keeps the certified history and the transfer ledger, and answers
 * from them: the certified anchors counterparties check proposals against (`anchors`), and which transfers each
 * round finalised (`onFinalised`, `agreementProof`). A node that falls behind fetches the certificates it missed
 * from the peer that sent a newer one.
 */
import { type Crypto, equalBytes, type KeyPair, type SignedMessage, toHex } from '@constellation/crypto'
import type { Clock, TimerHandle, Verdict } from '@constellation/gossip'
import {
  type BlockLimits,
  blockHash,
  type CertifiedAnchors,
  DEFAULT_BLOCK_LIMITS,
  decodeBlock,
  encodeBlock,
  type HalfBlock,
  PayloadRegistry,
  type StretchTail,
} from '@constellation/trustchain'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { checkpointStep, recordedRound } from './checkpoint-cadence.js'
import { type AgreementProof, buildAgreementProof, type TransactionHalves, transactionLeaf } from '../finality/agreement-proof.js'
import { CertificateHistory } from '../finality/certificate-history.js'
import { type BatchVerifier, type CheckpointCertificate, checkCertificate } from '../round/certificate.js'
import { resultHash } from '../round/checkpoint-result.js'
import { addToPool, type AnchoredCheckpoint, type CheckpointPool, finishSubmission, planSubmission, prunePool } from '../round/checkpoint-pool.js'
import { type FacilitatorRoundState, startRound } from '../round/facilitator-round.js'
import type { RoundJournal } from '../round/round-journal.js'
import { checkpointInputs } from '../round/round-inputs.js'
import type { MemberSchedule } from '../membership/member-schedule.js'
import {
  anchorOf,
  applyResult,
  genesisState,
  scheduleMembers,
  type SolarSystemGenesis,
  type SolarSystemRules,
  type SolarSystemState,
} from '../round/solar-system.js'
import { serveCertificateRange } from './certificate-range.js'
import { applyInTurn, catchUpFrom, judgeNext, notifyListeners, readAnnouncement } from './certificate-following.js'
import { createMemoryRoundJournal } from './memory-round-journal.js'
import { RoundDriver, type RoundDriverStats } from './round-driver.js'
import {
  CERTIFICATES_PROTOCOL,
  certificateTopic,
  CHECKPOINT_PROTOCOL,
  decodeCertificateRangeRequest,
  decodeMemberSubmission,
  decodeSubmissionAnswer,
  encodeCheckpointSubmission,
  encodeIdleNotice,
  encodeSubmissionAnswer,
  type SubmissionAnswer,
  ROUND_PROTOCOL,
} from './wire.js'
import { AnswerWatch, ForkEvidence } from './fork-reports.js'
import { type ConsensusNetwork, DEFAULT_TIMING, type SolarSystemTiming } from './shell-timing.js'

/**
 * The part of a trustchain node the consensus needs: appending checkpoint blocks to the own chain, and the own
 * blocks after a position (the stretch a checkpoint closes, submitted with it).
 */
export interface CheckpointWriter {
  checkpoint(options: { consensusResultHash: Uint8Array; round: number }): Promise<HalfBlock>
  stretch(after: number): Promise<readonly HalfBlock[]>
  /**
   * The proposal an own agreement answered, as this node received it. With it the node reports a proposer that
   * forked its chain (the proposal it answered is not the one certified at that position); without it, it cannot.
   */
  proposalOf?(agreement: HalfBlock): Promise<HalfBlock | undefined>
  /**
   * Calls `listener` after the own chain grew (a transfer's proposal or agreement; checkpoints may be reported too)
   * and returns the unsubscribe. A member that told the facilitators it is idle for the round checkpoints at once
   * then, so the transfer is final a round sooner; without it, it waits for the next certificate.
   */
  onGrown?(listener: () => void): () => void
}

/** A round's finalised transfers as a node applied it: the certificate (with its leaves) and the leaves. */
export interface FinalisedRound {
  readonly round: number
  readonly certificate: CheckpointCertificate
  /** `finalisedLeaf(proposal hash, agreement hash)` of each transfer the round finalised. */
  readonly leaves: readonly Uint8Array[]
}

export { type ConsensusNetwork, DEFAULT_TIMING, type SolarSystemTiming } from './shell-timing.js'

export interface SolarSystemNodeOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly network: ConsensusNetwork
  readonly clock: Clock
  readonly chain: CheckpointWriter
  readonly genesis: SolarSystemGenesis
  readonly rules: SolarSystemRules
  /** Checks certificate signatures in batches (default: `crypto.verifyMany` in this thread). */
  readonly verifier?: BatchVerifier
  readonly timing?: Partial<SolarSystemTiming>
  readonly limits?: BlockLimits
  /** Payload kinds the members' stretches are checked against (default: transfers). */
  readonly registry?: PayloadRegistry
  /**
   * Rounds whose certificates (with their finalised leaves) are kept in memory, to build agreement proofs and serve
   * catching-up members the leaves (default 256). Older rounds' proofs need the leaves from elsewhere (a journal).
   */
  readonly finalityWindowRounds?: number
  /** Failures of the node itself (a chain that cannot append, say); the node keeps running. */
  readonly onError?: (error: unknown) => void
  /**
   * Certificates this node applied before it stopped (from its own disk), rounds 1, 2, … in order: `start()` checks
   * each against the committee the one before named and applies it without replaying side effects, so a restarted
   * node resumes with its history and memes instead of fetching them all from peers. The first that does not
   * follow or does not verify ends the replay (the rest are fetched from peers as after any gap).
   */
  readonly restore?: readonly CheckpointCertificate[]
  /**
   * Where the facilitator's round inputs are journalled before what they make it send leaves (see
   * round/round-journal.ts): a node started again on the same journal (after a crash, say) resumes the round it was
   * in, sending the same messages again and never a conflicting one. Default: a journal in memory, which carries a
   * round over `stop()` and `start()` of this node object but survives no process.
   */
  readonly roundJournal?: RoundJournal
  /**
   * Rounds up to this one are not facilitated even when the election names this node: for a node restarted without
   * the round journal of its previous process, which does not know what it signed and sent in the rounds it was
   * facilitating; facilitating such a round again could equivocate, and sitting it out counts as one of the t faults
   * the round tolerates. A node with a durable `roundJournal` needs none.
   */
  readonly sitOutThroughRound?: number
  /**
   * The solar system's epoch changes (from the membership the root certified). A node that is not a genesis member
   * may run with one: it follows the certificates and becomes a member at the epoch that admits it.
   */
  readonly epochs?: MemberSchedule
  /**
   * Rounds a member whose chain has not moved goes between checkpoints (default 64; 1 checkpoints every round, as a
   * member with transfers does). In the rounds between it sends an idle notice instead (see checkpoint-cadence.ts).
   * A hierarchy that removes members silent for `silentRounds` membership rounds must see one in time.
   */
  readonly idleCheckpointRounds?: number
}

/** Rounds, frames (`RoundDriverStats`: sent, failed, received, messages sent and dropped) and certificates. */
export interface SolarSystemStats extends RoundDriverStats {
  readonly roundsCertified: number
  readonly roundsFacilitated: number
  readonly certificatesRejected: number
  /** Certificates fetched from peers to catch up after falling behind. */
  readonly certificatesFetched: number
}

type Listener = (certificate: CheckpointCertificate, state: SolarSystemState) => void

const DEFAULT_FINALITY_WINDOW_ROUNDS = 256
const DEFAULT_IDLE_CHECKPOINT_ROUNDS = 64
/** Members whose last checked stretch a facilitator keeps (bounded by the solar system's size). */
const MAX_CHECKED_STRETCHES = 4_096

/** A bounded map that forgets its oldest entries. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > capacity) map.delete(map.keys().next().value as K)
}

export class SolarSystemNode {
  readonly crypto: Crypto
  readonly self: string
  readonly history: CertificateHistory
  readonly #options: SolarSystemNodeOptions
  readonly #timing: SolarSystemTiming
  readonly #idleCheckpointRounds: number
  readonly #limits: BlockLimits
  readonly #driver: RoundDriver<AnchoredCheckpoint>
  readonly #listeners = new Set<Listener>()
  readonly #onStop = new Set<() => void>()
  readonly #registry: PayloadRegistry
  /** The recent rounds' certificates with their finalised leaves, and which round finalised each leaf (hex). */
  readonly #recent = new Map<number, FinalisedRound>()
  readonly #finalisedIn = new Map<string, number>()
  readonly #finalisedListeners = new Set<(finalised: FinalisedRound) => void>()
  /** Per facilitator, the own stretch it acknowledged: the anchor it was after, and the last block sent. */
  readonly #submitted = new Map<string, { readonly anchor: number; readonly upTo: number }>()
  /** Per member, the stretch this node last checked: the next submission repeats it, and only what it adds is checked. */
  readonly #checked = new Map<string, StretchTail>()
  /** Proposals of checked stretches, and fraud proofs made from counterparties' reports (facilitator side). */
  readonly #evidence: ForkEvidence
  /** Own agreements until final, and the forked proposals to report (member side). */
  readonly #answers: AnswerWatch
  readonly #unsubscribe: (() => void)[] = []
  #state: SolarSystemState
  /** Checkpoints that arrived for a round this node has not started yet. */
  #pending: CheckpointPool = new Map()
  #arrivals = 0
  /** Certificates are applied one at a time, in round order. */
  #applying: Promise<void> = Promise.resolve()
  #catchingUp = false
  /** Fires when no certificate arrived for a while: this node then asks its peers for newer ones. */
  #stallTimer: TimerHandle | undefined
  #checkpointTimer: TimerHandle | undefined
  /** The round this member told the facilitators it is idle for; it checkpoints at once if its chain grows meanwhile. */
  #idleFor: number | undefined
  /** Idle notices for the round after the one this facilitator is in (it is behind): replayed when it enters it. */
  #idleAhead: { readonly round: number; readonly members: Set<string> } | undefined
  #stallProbes = 0
  #running = false
  #stats = { roundsCertified: 0, roundsFacilitated: 0, certificatesRejected: 0, certificatesFetched: 0 }

  constructor(options: SolarSystemNodeOptions) {
    this.#options = options
    this.crypto = options.crypto
    this.self = toHex(options.keyPair.publicKey)
    if (options.network.peerId !== this.self) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'the network must run under the node’s own key')
    this.#timing = { ...DEFAULT_TIMING, ...options.timing }
    this.#limits = options.limits ?? DEFAULT_BLOCK_LIMITS
    this.#registry = options.registry ?? new PayloadRegistry()
    this.#evidence = new ForkEvidence(options.crypto, this.#limits)
    this.#answers = new AnswerWatch(options.crypto)
    const idleRounds = options.idleCheckpointRounds ?? DEFAULT_IDLE_CHECKPOINT_ROUNDS
    if (!(Number.isSafeInteger(idleRounds) && idleRounds >= 1))
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'idleCheckpointRounds must be a positive integer')
    this.#idleCheckpointRounds = idleRounds
    this.#state = this.#scheduled(genesisState(options.crypto, options.genesis, options.rules))
    if (!this.#state.members.has(this.self) && options.epochs === undefined)
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'this node is not a member of the solar system')
    this.history = new CertificateHistory(options.crypto, options.genesis)
    const frameBudget = options.network.limits.maxMessageBytes - 1024
    if (options.rules.maxProposalBytes > frameBudget) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_INPUT,
        `rules.maxProposalBytes (${options.rules.maxProposalBytes}) must leave room in one network message (${options.network.limits.maxMessageBytes} bytes)`,
      )
    }
    const { level, group } = options.genesis
    this.#driver = new RoundDriver<AnchoredCheckpoint>({
      network: options.network,
      clock: options.clock,
      protocol: ROUND_PROTOCOL,
      level,
      group,
      timing: this.#timing,
      maxProposalBytes: options.rules.maxProposalBytes,
      isMember: (peer) => this.#state.members.has(peer),
      certifiedRound: () => this.#state.round,
      onCertified: (certificate) => this.#enqueueApply([certificate], true),
      onAhead: (peer, round) => void this.#catchUp(peer, round),
      journal: options.roundJournal ?? createMemoryRoundJournal(),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    })
  }

  /** The solar system's state after the last certified round this node applied. */
  get state(): SolarSystemState {
    return this.#state
  }

  /** The round this node facilitates now, if any (for diagnostics and the explorer). */
  get facilitatorRound(): FacilitatorRoundState | undefined {
    return this.#driver.round
  }

  get stats(): SolarSystemStats {
    return { ...this.#stats, ...this.#driver.stats }
  }

  onCertificate(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    this.#driver.start()
    const { network, genesis } = this.#options
    try {
      const loading = this.#driver.load()
      if (loading !== undefined) await loading
    } catch (error) {
      this.#running = false
      this.#driver.stop()
      throw error
    }
    await this.#restore(this.#options.restore ?? [])
    this.#unsubscribe.push(
      network.subscribe(certificateTopic(genesis.level, genesis.group), (message) => this.#onCertificateGossip(message.data, message.from)),
      network.handle(ROUND_PROTOCOL, (request) => this.#driver.onFrame(request.from, request.data)),
      network.handle(CHECKPOINT_PROTOCOL, (request) => this.#onSubmission(request.from, request.data)),
      network.handle(CERTIFICATES_PROTOCOL, (request) => this.#onRangeRequest(request.data)),
    )
    const grown = this.#options.chain.onGrown?.(() => this.#onGrown())
    if (grown !== undefined) this.#unsubscribe.push(grown)
    this.#enterRound()
    this.#armStallTimer()
    await this.#submitCheckpoint()
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    for (const off of this.#unsubscribe.splice(0)) off()
    this.#driver.stop()
    this.#stallTimer?.cancel()
    this.#checkpointTimer?.cancel()
    for (const notify of [...this.#onStop]) notify()
    await this.#applying
  }

  /** The certified anchors of the members, as of the last round this node applied (for counterparties' checks). */
  anchors(): CertifiedAnchors {
    return {
      round: () => this.#state.round,
      anchorOf: (publicKey) => anchorOf(this.#state, toHex(publicKey)),
    }
  }

  /** Calls `listener` with each round's finalised transfers as this node applies it (restored rounds excepted). */
  onFinalised(listener: (finalised: FinalisedRound) => void): () => void {
    this.#finalisedListeners.add(listener)
    return () => this.#finalisedListeners.delete(listener)
  }

  /** The round that finalised the transaction, when it is within the recent rounds this node keeps. */
  finalisedIn(transaction: TransactionHalves): number | undefined {
    return this.#finalisedIn.get(toHex(transactionLeaf(this.crypto, transaction)))
  }

  /** A recent round's certificate with its finalised leaves, if still kept. */
  finalisedRound(round: number): FinalisedRound | undefined {
    return this.#recent.get(round)
  }

  /**
   * The transaction's agreement proof, built from what this node holds: the certificate of the round that finalised
   * it and that round's leaves (kept for recent rounds; pass `from` with an older round's certificate and leaves).
   * NOT_FINAL while the consensus has not finalised it (or its round is not held); INVALID_INPUT when the two halves
   * are not one signed transaction.
   */
  agreementProof(
    transaction: TransactionHalves,
    from?: { readonly certificate: CheckpointCertificate; readonly leaves: readonly Uint8Array[] },
  ): AgreementProof {
    if (from !== undefined) return buildAgreementProof(this.crypto, transaction, from.certificate, from.leaves)
    const round = this.finalisedIn(transaction)
    const held = round === undefined ? undefined : this.#recent.get(round)
    if (held === undefined) throw new ConsensusError(ConsensusErrorCode.NOT_FINAL, 'the transaction is not among the transfers this node saw finalised', {})
    return buildAgreementProof(this.crypto, transaction, held.certificate, held.leaves)
  }

  /** Keeps a round's finalised leaves (within the window) and tells the listeners. */
  #noteFinalised(certificate: CheckpointCertificate, notify: boolean): void {
    const { round } = certificate.result.body
    const leaves = certificate.finalised ?? []
    const finalised: FinalisedRound = { round, certificate, leaves }
    this.#recent.set(round, finalised)
    for (const leaf of leaves) this.#finalisedIn.set(toHex(leaf), round)
    this.#answers.noteFinal(leaves)
    const window = this.#options.finalityWindowRounds ?? DEFAULT_FINALITY_WINDOW_ROUNDS
    const old = this.#recent.get(round - window)
    if (old !== undefined) {
      this.#recent.delete(round - window)
      for (const leaf of old.leaves) {
        const key = toHex(leaf)
        if (this.#finalisedIn.get(key) === round - window) this.#finalisedIn.delete(key)
      }
    }
    if (!notify) return
    for (const listener of this.#finalisedListeners) {
      try {
        listener(finalised)
      } catch (error) {
        this.#options.onError?.(error)
      }
    }
  }

  /** Replays certificates from the node's own disk (see `restore`): verified, applied, no listeners, no checkpoints. */
  async #restore(certificates: readonly CheckpointCertificate[]): Promise<void> {
    for (const certificate of certificates) {
      const { body } = certificate.result
      if (body.round <= this.#state.round) continue
      if (body.round !== this.#state.round + 1 || body.level !== this.#options.genesis.level || body.group !== this.#options.genesis.group) return
      if ((await checkCertificate(this.crypto, certificate, this.#state.committee, this.#options.verifier)) !== undefined) return
      // An epoch not learned yet: the rest is fetched from peers once it is (see `#settled`).
      if (this.#options.epochs?.untilSettled?.(body.round + 2) !== undefined) return
      let next: SolarSystemState
      try {
        next = applyResult(this.#options.rules, this.#state, certificate.result, resultHash(this.crypto, body))
      } catch {
        return
      }
      this.history.append(this.crypto, certificate)
      this.#noteFinalised(certificate, false)
      this.#state = this.#scheduled(next)
    }
  }

  /**
   * Waits for the schedule to know every epoch up to the round it was asked about (`untilSettled`); false when the
   * node stopped meanwhile. Applying a round whose epoch two rounds on is not known yet could schedule the wrong
   * member set, so the node waits instead: safety never rests on learning the root's results in time.
   */
  async #settled(waiting: Promise<void>): Promise<boolean> {
    let onStop: () => void = () => undefined
    const stopped = new Promise<void>((resolve) => {
      onStop = resolve
      this.#onStop.add(resolve)
    })
    await Promise.race([waiting, stopped])
    this.#onStop.delete(onStop)
    return this.#running
  }

  /** The state with the epoch change that takes effect two rounds on, when the schedule has one. */
  #scheduled(state: SolarSystemState): SolarSystemState {
    const members = this.#options.epochs?.membersFrom(state.round + 2)
    return members === undefined ? state : scheduleMembers(state, members)
  }

  // ---- member ------------------------------------------------------------------------------------------

  /** Checkpoints after `checkpointDelayMs`; a newer certificate meanwhile replaces the pending checkpoint. */
  #scheduleCheckpoint(): void {
    this.#checkpointTimer?.cancel()
    this.#checkpointTimer = undefined
    const delay = this.#timing.checkpointDelayMs
    if (delay <= 0) {
      void this.#submitCheckpoint()
      return
    }
    this.#checkpointTimer = this.#options.clock.setTimer(delay, () => {
      this.#checkpointTimer = undefined
      if (this.#running) void this.#submitCheckpoint()
    })
  }

  /**
   * Checkpoints for the next round when the own chain moved (or the idle cadence is due), and submits the stretch of
   * the own chain after the own certified checkpoint that the checkpoint closes to the next facilitators; tells them
   * it is idle otherwise (see checkpoint-cadence.ts). Each facilitator gets only the blocks it has not acknowledged
   * yet; one that asks for more gets them at once.
   */
  async #submitCheckpoint(): Promise<void> {
    const state = this.#state
    // Not a member (yet, or any more): nothing to checkpoint for.
    if (!state.members.has(this.self)) return
    this.#idleFor = undefined
    const anchor = anchorOf(state, this.self)?.sequenceNumber ?? 0
    let stretch: readonly HalfBlock[]
    try {
      stretch = await this.#options.chain.stretch(anchor)
      const step = checkpointStep({
        stretch,
        round: state.round,
        anchorRound: state.lastCheckpoints.get(this.self)?.round ?? 0,
        idleCheckpointRounds: this.#idleCheckpointRounds,
        maxCheckpointAgeRounds: this.#options.rules.maxCheckpointAgeRounds,
        reporting: this.#answers.reporting,
      })
      if (!this.#running || state !== this.#state) return
      if (step === 'idle') return this.#sendIdle(state)
      if (step === 'checkpoint') {
        const block = await this.#options.chain.checkpoint({ consensusResultHash: state.resultHash, round: state.round })
        // Blocks appended between the read and the checkpoint belong to it too: read again then.
        const last = stretch.at(-1)?.sequenceNumber ?? anchor
        stretch =
          block.sequenceNumber === last + 1
            ? [...stretch, block]
            : (await this.#options.chain.stretch(anchor)).filter((own) => own.sequenceNumber <= block.sequenceNumber)
      }
    } catch (error) {
      this.#options.onError?.(error)
      return
    }
    if (!this.#running || stretch.length === 0) return
    this.#answers.noteOwn(stretch)
    const reports = this.#answers.nextReports()
    for (const facilitator of state.committee.facilitators) {
      if (facilitator === this.self) {
        // Its own blocks: signed here, so checked without verifying them again.
        this.#takeStretch(stretch, 'none').catch((error: unknown) => this.#options.onError?.(error))
        for (const proposal of reports) this.#evidence.takeReport(this.#state, proposal)
        continue
      }
      void this.#submitTo(facilitator, anchor, stretch, reports)
    }
  }

  /** Tells the facilitators of the round after `state` that this member has nothing to checkpoint for it. */
  #sendIdle(state: SolarSystemState): void {
    const round = state.round + 1
    this.#idleFor = round
    const { level, group } = this.#options.genesis
    const notice = encodeIdleNotice({ level, group, idle: round })
    for (const facilitator of state.committee.facilitators) {
      if (facilitator === this.self) this.#takeIdle(this.self, round)
      // Unanswered is fine: that facilitator waits for its timer instead, as for any member it did not hear from.
      else this.#options.network.request(facilitator, CHECKPOINT_PROTOCOL, notice, { timeout: this.#timing.requestTimeoutMs }).catch(() => undefined)
    }
  }

  /** The own chain grew: a member idle for this round checkpoints now rather than a round later. */
  #onGrown(): void {
    if (!this.#running || this.#idleFor === undefined || this.#idleFor !== this.#state.round + 1 || this.#checkpointTimer !== undefined) return
    this.#idleFor = undefined
    void this.#submitCheckpoint()
  }

  /** Sends `facilitator` the part of `stretch` (after `anchor`) it lacks, and what it asks for if it lacks more. */
  async #submitTo(facilitator: string, anchor: number, stretch: readonly HalfBlock[], reports: readonly HalfBlock[]): Promise<void> {
    const { level, group } = this.#options.genesis
    const reported = reports.length === 0 ? {} : { reports: reports.map((proposal) => encodeBlock(proposal, this.#limits)) }
    const acknowledged = this.#submitted.get(facilitator)
    let from = acknowledged !== undefined && acknowledged.anchor === anchor ? acknowledged.upTo + 1 : anchor + 1
    const top = (stretch.at(-1) as HalfBlock).sequenceNumber
    for (let attempt = 0; attempt < 2 && this.#running; attempt++) {
      const blocks = stretch.filter((own) => own.sequenceNumber >= from)
      if (blocks.length === 0) return
      const bytes = encodeCheckpointSubmission({ level, group, blocks: blocks.map((own) => encodeBlock(own, this.#limits)), ...reported })
      let answer: SubmissionAnswer
      try {
        answer = decodeSubmissionAnswer(
          await this.#options.network.request(facilitator, CHECKPOINT_PROTOCOL, bytes, { timeout: this.#timing.requestTimeoutMs }),
        )
      } catch {
        // A facilitator that does not answer is one of the t the round tolerates; the next checkpoint sends it all again.
        this.#submitted.delete(facilitator)
        return
      }
      if (answer.resend === undefined) {
        remember(this.#submitted, facilitator, { anchor, upTo: top }, MAX_CHECKED_STRETCHES)
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

  // ---- facilitator -------------------------------------------------------------------------------------

  async #onSubmission(from: string, data: Uint8Array): Promise<Uint8Array> {
    const submission = decodeMemberSubmission(data, this.#options.network.limits.maxMessageBytes)
    const { level, group } = this.#options.genesis
    if (submission.level !== level || submission.group !== group) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'another solar system')
    if ('idle' in submission) {
      this.#takeIdle(from, submission.idle)
      return encodeSubmissionAnswer({})
    }
    const blocks = submission.blocks.map((bytes) => decodeBlock(this.crypto, bytes, this.#limits))
    for (const bytes of submission.reports ?? []) this.#evidence.takeReport(this.#state, decodeBlock(this.crypto, bytes, this.#limits))
    const resend = await this.#takeStretch(blocks, 'all')
    return encodeSubmissionAnswer(resend === undefined ? {} : { resend })
  }

  /**
   * Checks a member's stretch (its blocks after its certified checkpoint, the new checkpoint last) against this node's
   * state and holds it for the round; the first block needed when the run starts past what this node holds.
   */
  async #takeStretch(blocks: readonly HalfBlock[], signatures: 'all' | 'none'): Promise<number | undefined> {
    const checkpoint = blocks.at(-1)
    if (checkpoint !== undefined && checkpoint.type === 'checkpoint' && recordedRound(checkpoint) > this.#state.round + 1) {
      // At most one round ahead, or anyone could push a member's real checkpoint out of the pool with a forged, higher one.
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'the checkpoint records a round too far ahead')
    }
    const member = checkpoint === undefined ? '' : toHex(checkpoint.publicKey)
    // The plan runs against the state it was made on, even if a round is applied while the signatures are checked
    // (the round rebases the stretch on its anchor then).
    const plan = planSubmission(this.crypto, this.#state, blocks, this.#checked.get(member))
    if (plan.kind === 'resend') return plan.from
    if (plan.kind === 'refused') throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, plan.reason)
    const verdicts = signatures === 'none' ? 'none' : await this.#verifyAll(plan.rest)
    const checked = finishSubmission(this.crypto, this.#registry, plan, verdicts)
    if (checked.kind === 'refused') throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, checked.reason)
    if (checked.kind === 'resend') return checked.from
    remember(this.#checked, member, checked.checkpoint.tail, MAX_CHECKED_STRETCHES)
    this.#evidence.noteChecked(plan.rest)
    this.#acceptCheckpoint(checked.checkpoint)
    return undefined
  }

  /** An idle notice from `member` (authenticated by the transport) for `round`: counted if that round is this one's. */
  #takeIdle(member: string, round: number): void {
    if (!this.#state.members.has(member)) return
    if (round === this.#state.round + 1) {
      this.#driver.drive({ type: 'idle', member })
      return
    }
    // The member applied a certificate this node has not yet: held for that round (bounded by the members).
    if (round !== this.#state.round + 2) return
    if (this.#idleAhead?.round !== round) this.#idleAhead = { round, members: new Set() }
    this.#idleAhead.members.add(member)
  }

  async #verifyAll(blocks: readonly HalfBlock[]): Promise<readonly boolean[]> {
    const items: SignedMessage[] = blocks.map((block) => ({ publicKey: block.publicKey, message: blockHash(this.crypto, block), signature: block.signature }))
    return this.#options.verifier === undefined ? this.crypto.verifyMany(items) : await this.#options.verifier(items)
  }

  #acceptCheckpoint(input: AnchoredCheckpoint): void {
    const recorded = recordedRound(input.block)
    if (this.#driver.round !== undefined && recorded <= this.#state.round) {
      this.#driver.drive({ type: 'checkpoint', block: input })
      return
    }
    // Not facilitating now, or the member has applied a certificate this node has not yet: hold the newest per member
    // for the round it belongs to; `#enterRound` checks the rest then.
    this.#pending = addToPool(this.#pending, input, this.#arrivals++)
  }

  /** Starts facilitating round `state.round + 1` when the election picked this node. */
  #enterRound(): void {
    const state = this.#state
    const round = state.round + 1
    const carried: CheckpointPool = new Map([...this.#pending, ...(this.#driver.round?.pool ?? [])])
    if (!state.committee.facilitators.includes(this.self) || round <= (this.#options.sitOutThroughRound ?? 0) || !this.#driver.mayFacilitate(round)) {
      this.#driver.enter(round)
      // Held for a later round: drop what this round made stale, so the pool stays bounded by the members.
      this.#pending = prunePool(this.crypto, this.#options.rules, state, carried)
      return
    }
    this.#pending = new Map()
    this.#stats.roundsFacilitated++
    const { crypto, keyPair, rules } = this.#options
    // The round checks each carried checkpoint against the new state as it takes it in (no separate prune first).
    const inputs = checkpointInputs(crypto, rules, this.#limits, this.#evidence.toPropose(state))
    const idle = this.#idleAhead?.round === round ? this.#idleAhead.members : new Set<string>()
    this.#idleAhead = undefined
    this.#driver.enter(round, startRound({ crypto, keyPair, rules, seed: state, limits: this.#limits, inputs }), () => {
      for (const entry of carried.values()) this.#driver.drive({ type: 'checkpoint', block: entry.block })
      for (const member of idle) this.#driver.drive({ type: 'idle', member })
    })
  }

  // ---- certificates ------------------------------------------------------------------------------------

  /** Forwarded only once verified, so a forged certificate costs its sender a reject and travels no further. */
  async #onCertificateGossip(data: Uint8Array, from: string): Promise<Verdict> {
    const announced = readAnnouncement(data, this.#options.genesis, this.#state.round)
    if (announced.kind === 'stale') void this.#driver.observeGossip(data, (round) => this.history.committeeFor(round), this.crypto, this.#options.verifier)
    if (announced.kind === 'malformed') this.#stats.certificatesRejected++
    if (announced.kind === 'ahead') void this.#catchUp(from, announced.round)
    if (announced.kind !== 'next') return announced.kind === 'malformed' ? 'reject' : 'ignore'
    const committee = this.#state.committee
    const verdict = await judgeNext(
      this.crypto,
      announced.certificate,
      committee,
      () => committee === this.#state.committee,
      this.#options.verifier,
      this.#options.onError,
    )
    if (verdict === 'reject') this.#stats.certificatesRejected++
    if (verdict === 'accept') {
      this.#driver.heardCertificate(announced.certificate.result.body.round)
      this.#enqueueApply([announced.certificate], true)
    }
    return verdict
  }

  #enqueueApply(certificates: readonly CheckpointCertificate[], trusted: boolean): void {
    this.#applying = applyInTurn(this.#applying, certificates, (certificate) => this.#apply(certificate, trusted), this.#options.onError)
  }

  async #apply(certificate: CheckpointCertificate, trusted: boolean): Promise<void> {
    if (!this.#running) return
    const { body } = certificate.result
    if (body.round !== this.#state.round + 1) return
    if (!trusted) {
      const invalid = await checkCertificate(this.crypto, certificate, this.#state.committee, this.#options.verifier)
      // The check awaited: a node stopped meanwhile applies nothing (no round, checkpoint or listener after stop).
      if (invalid !== undefined || !this.#running || body.round !== this.#state.round + 1) {
        if (invalid !== undefined) this.#stats.certificatesRejected++
        return
      }
    } else if (body.round !== this.#state.round + 1) {
      return
    }
    // Only a schedule still learning makes the node wait (an await here otherwise would reorder it against stop()).
    const waiting = this.#options.epochs?.untilSettled?.(body.round + 2)
    if (waiting !== undefined && (!(await this.#settled(waiting)) || body.round !== this.#state.round + 1)) return
    let next: SolarSystemState
    try {
      next = applyResult(this.#options.rules, this.#state, certificate.result, resultHash(this.crypto, body))
    } catch (error) {
      this.#stats.certificatesRejected++
      this.#options.onError?.(error)
      return
    }
    this.history.append(this.crypto, certificate)
    this.#state = this.#scheduled(next)
    this.#stats.roundsCertified++
    this.#enterRound()
    this.#armStallTimer()
    this.#noteFinalised(certificate, true)
    void this.#reviewAnswers()
    notifyListeners(this.#listeners, certificate, next, this.#options.onError)
    this.#scheduleCheckpoint()
  }

  /** Own agreements certified on both sides yet not final answered a forked proposal: those are reported. */
  async #reviewAnswers(): Promise<void> {
    const proposalOf = this.#options.chain.proposalOf
    if (proposalOf === undefined) return
    for (const agreement of this.#answers.suspects(this.#state, this.self)) {
      const proposal = await proposalOf(agreement).catch(() => undefined)
      if (proposal !== undefined && proposal.sequenceNumber === agreement.linkSequenceNumber && equalBytes(proposal.publicKey, agreement.linkPublicKey))
        this.#answers.report(proposal)
    }
  }

  /**
   * Progress watchdog: when no certificate arrives for `stallTimeoutMs`, ask the next peer in turn for newer ones. A
   * node that missed the gossip of the latest certificate (after a partition, say) learns of it this way; without it
   * a committee with more than t such nodes would wait for a certificate nobody can make.
   */
  #armStallTimer(): void {
    this.#stallTimer?.cancel()
    if (!this.#running) return
    this.#stallTimer = this.#options.clock.setTimer(this.#timing.stallTimeoutMs, () => {
      const peers = this.#options.network
        .peers()
        .filter((peer) => this.#state.members.has(peer))
        .sort()
      const peer = peers[this.#stallProbes++ % Math.max(1, peers.length)]
      if (peer !== undefined) void this.#catchUp(peer, Number.POSITIVE_INFINITY)
      this.#armStallTimer()
    })
  }

  /** Fetches the certificates from this node's round up to `target` (inclusive) from `peer`, applying them in order. */
  async #catchUp(peer: string, target: number): Promise<void> {
    if (this.#catchingUp) return
    this.#catchingUp = true
    const { level, group } = this.#options.genesis
    this.#stats.certificatesFetched += await catchUpFrom(
      {
        network: this.#options.network,
        protocol: CERTIFICATES_PROTOCOL,
        level,
        group,
        timeoutMs: this.#timing.requestTimeoutMs,
        held: () => this.#state.round,
        running: () => this.#running,
        apply: (certificates) => {
          this.#enqueueApply(certificates, false)
          return this.#applying
        },
      },
      peer,
      target,
    )
    this.#catchingUp = false
  }

  #onRangeRequest(data: Uint8Array): Uint8Array {
    // Recent rounds go with their finalised leaves, so a member that catches up learns which of its transfers are final.
    return serveCertificateRange(
      this.history,
      decodeCertificateRangeRequest(data),
      this.#options.network.limits.maxMessageBytes,
      (round) => this.#recent.get(round)?.certificate,
    )
  }
}

export function createSolarSystemNode(options: SolarSystemNodeOptions): SolarSystemNode {
  return new SolarSystemNode(options)
}
