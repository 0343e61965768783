/**
 * A node's seat in its group's rounds, over the network: the pure round machine of the current round (when the
 * election picked the node), its proposal timer, reliable coalescing links to the other facilitators, and round
 * frames that arrived before their round started. Both shells run their rounds through it — `SolarSystemNode` at
 * level 0, `LevelNode` above — and differ only in what a round's inputs are and where they come from.
 *
 * The driver performs the machine's effects: messages go out on the links, a certificate is gossiped on the group's
 * topic and handed to the shell, which applies it and moves the driver to the next round (`enter`).
 *
 * With a round journal (see round/round-journal.ts) nothing a step makes the machine send leaves, and no frame is
 * acknowledged, before the step's records are durable (journal-writer.ts). A round the journal holds is resumed from
 * it when the node enters that round again (after a restart): the same messages go out again, and nothing is decided
 * anew.
 */
import type { Clock, TimerHandle } from '@constellation/gossip'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { Crypto } from '@constellation/crypto'
import { type BatchVerifier, type CheckpointCertificate, checkCertificate, decodeCertificate, encodeCertificate } from '../round/certificate.js'
import type { Committee } from '../round/committee.js'
import { type FacilitatorRoundState, type RoundEffect, type RoundEvent, stepRound } from '../round/facilitator-round.js'
import { journalFloor, type ResumedRound, resumeRound, type RoundJournal, type RoundRecord } from '../round/round-journal.js'
import { EarlyFrames } from './early-frames.js'
import { JournalWriter, NO_ANSWER } from './journal-writer.js'
import { PeerLinks } from './peer-links.js'
import type { ConsensusNetwork, SolarSystemTiming } from './shell-timing.js'
import type { RoundDriverStats } from './shell-types.js'
import { certificateTopic, decodeCertificateAnnouncement, decodeRoundFrame, encodeCertificateAnnouncement, encodeRoundFrame } from './wire.js'

/** Bytes of round frames buffered per member for rounds this node has not started yet. */
const MAX_EARLY_BYTES_PER_PEER = 4 << 20
/** How long each facilitator after the round's first waits, per place in turn, before it publishes the certificate. */
const PUBLISH_TURN_MS = 250
/** Rounds ahead of this node's for which frames are buffered. */
const EARLY_ROUNDS = 3

export interface RoundDriverOptions {
  readonly network: ConsensusNetwork
  readonly clock: Clock
  /** The request/response protocol of the group's round frames. */
  readonly protocol: string
  readonly level: number
  readonly group: string
  readonly timing: Pick<SolarSystemTiming, 'proposalTimeoutMs' | 'requestTimeoutMs' | 'retryMinMs' | 'retryMaxMs' | 'framesInFlight'>
  /** Bytes of one proposal at most (the rules' bound: it decides which frames' values are well-formed). */
  readonly maxProposalBytes: number
  /** Whether `peer` may send round frames (a member of the group). */
  readonly isMember: (peer: string) => boolean
  /** The last round this node applied. */
  readonly certifiedRound: () => number
  /** The certificate this node's machine assembled (already gossiped): the shell applies it. */
  readonly onCertified: (certificate: CheckpointCertificate) => void
  /** A frame of a round past the next one came from `peer`: it holds certificates up to `round` this node lacks. */
  readonly onAhead: (peer: string, round: number) => void
  readonly onError?: (error: unknown) => void
  /**
   * Where the rounds' inputs are journalled before what they make the machine send leaves. Without one a restarted
   * process knows nothing of the rounds it facilitated, and must not facilitate them again.
   */
  readonly journal?: RoundJournal
}

export class RoundDriver<I> {
  readonly #options: RoundDriverOptions
  #links: PeerLinks
  readonly #early = new EarlyFrames(MAX_EARLY_BYTES_PER_PEER)
  #round: FacilitatorRoundState<I> | undefined
  #proposalTimer: TimerHandle | undefined
  #received = { framesReceived: 0, messagesDropped: 0 }
  /** Set by `stop`: a shell's apply that finishes after it must not start a round (a timer and frames nobody stops). */
  #stopped = false
  /** Certificates this facilitator waits to publish (its turn comes after others'), by round. */
  readonly #publishing = new Map<number, TimerHandle>()
  /** The newest round whose certificate this node heard gossiped by someone else. */
  #heard = 0
  /** The journal's records of the rounds not entered yet in this life, by round (read at `load`). */
  readonly #journalled = new Map<number, RoundRecord[]>()
  /** Rounds below this one may have been facilitated before without the journal holding them now. */
  #floor = 0
  readonly #writer: JournalWriter<I>

  constructor(options: RoundDriverOptions) {
    this.#options = options
    this.#links = this.#createLinks()
    this.#writer = new JournalWriter<I>(
      options.journal,
      ({ machine, effect }) => this.#perform(machine, effect),
      (error) => this.#abandoned(error),
    )
  }

  #createLinks(): PeerLinks {
    const { clock, network, timing, protocol, level, group } = this.#options
    return new PeerLinks({
      clock,
      maxFrameBytes: network.limits.maxMessageBytes - 1024,
      maxInFlight: timing.framesInFlight,
      retryMinMs: timing.retryMinMs,
      retryMaxMs: timing.retryMaxMs,
      transport: {
        send: async (peer, round, messages) => {
          await network.request(peer, protocol, encodeRoundFrame({ level, group, round, messages }), { timeout: timing.requestTimeoutMs })
        },
      },
    })
  }

  /** The machine of the round this node facilitates now, if any. */
  get round(): FacilitatorRoundState<I> | undefined {
    return this.#round
  }

  get stats(): RoundDriverStats {
    return { ...this.#links.stats, ...this.#received }
  }

  /** Fresh links, for a node that starts (again). */
  start(): void {
    this.#stopped = false
    this.#links = this.#createLinks()
  }

  stop(): void {
    this.#stopped = true
    this.#proposalTimer?.cancel()
    this.#proposalTimer = undefined
    for (const timer of this.#publishing.values()) timer.cancel()
    this.#publishing.clear()
    this.#links.close()
    this.#writer.stop()
  }

  /**
   * Reads the journal (a node starting): the rounds it holds are resumed when entered, and rounds below the oldest
   * one it facilitated are not facilitated again. Throws when the journal cannot be read back whole.
   */
  load(): void | Promise<void> {
    this.#journalled.clear()
    this.#floor = 0
    const journal = this.#options.journal
    if (journal === undefined) return
    const loaded = journal.load()
    // A journal that reads at once (in memory) is taken at once: no await, so starting costs no extra turn.
    if (!(loaded instanceof Promise)) return this.#take(loaded)
    return loaded.then((records) => this.#take(records))
  }

  #take(records: readonly RoundRecord[]): void {
    for (const record of records) {
      const held = this.#journalled.get(record.round)
      if (held === undefined) this.#journalled.set(record.round, [record])
      else held.push(record)
    }
    this.#floor = journalFloor(records) ?? 0
  }

  /**
   * Whether this node may facilitate `round`: not when the round is older than what the journal holds, for it may
   * have sent messages in it that it no longer knows (it follows that round's certificate instead).
   */
  mayFacilitate(round: number): boolean {
    return this.#options.journal === undefined || round >= this.#floor
  }

  /**
   * The shell accepted a certificate of `round` gossiped (whoever made it): a copy this facilitator still waits to
   * publish would only be a duplicate — each facilitator's certificate holds its own set of signature shares, so
   * the copies differ and gossip would carry every one of them to every node.
   */
  heardCertificate(round: number): void {
    if (round > this.#heard) this.#heard = round
    for (const [pending, timer] of this.#publishing) {
      if (pending > round) continue
      timer.cancel()
      this.#publishing.delete(pending)
    }
  }

  /**
   * Moves to round `round`. With a `machine` (the election picked this node), facilitates it: `feed` hands the
   * machine the inputs the shell holds, the proposal timer starts, and the frames that came early are replayed.
   */
  enter(round: number, machine?: FacilitatorRoundState<I>, feed?: () => void): void {
    // Stopped: the round held stays as it was (its pool is what a restart carries over), and none starts.
    if (this.#stopped) return
    this.#proposalTimer?.cancel()
    this.#proposalTimer = undefined
    this.#links.setRound(round)
    this.#round = undefined
    // Frames of rounds that are over can never be used; those of this round are replayed if we facilitate it.
    const replay = this.#early.release(round)
    const journal = this.#options.journal
    const journalled = this.#journalled.get(round)
    if (journal !== undefined) {
      for (const held of this.#journalled.keys()) if (held <= round) this.#journalled.delete(held)
      this.#settled(journal.prune(round))
    }
    if (machine === undefined) return
    let resumed: ResumedRound<I> | undefined
    if (journal !== undefined) {
      if (!this.mayFacilitate(round)) return
      if (journalled !== undefined) {
        try {
          resumed = resumeRound(machine, journalled, (bytes) => this.#readFrame(bytes).messages)
        } catch (error) {
          // A journal this round cannot be resumed from: sitting the round out is what cannot conflict.
          this.#options.onError?.(error)
          return
        }
      }
      if (journalled?.some((record) => record.type === 'seed') !== true)
        this.#writer.record({ type: 'seed', round, resultHash: machine.config.seed.resultHash })
    }
    const current = resumed?.state ?? machine
    this.#round = current
    // Sent before the restart, or about to be: the journal holds what they came from, so they go out again at once.
    for (const effect of resumed?.effects ?? []) this.#perform(current, effect)
    feed?.()
    this.#proposalTimer = this.#options.clock.setTimer(this.#options.timing.proposalTimeoutMs, () => {
      if (this.#round?.round === round) this.drive({ type: 'proposal-timeout' })
    })
    const early = [...(resumed?.early ?? []).map(({ from, bytes }) => ({ peer: from, bytes })), ...replay]
    for (const { peer, bytes } of early) {
      try {
        const answer = this.onFrame(peer, bytes)
        if (answer instanceof Promise) answer.catch(() => undefined)
      } catch {
        // Checked when it arrived; nothing in it can fail now but the round's own rules, which drop quietly.
      }
    }
  }

  drive(event: RoundEvent<I>): void {
    const round = this.#round
    if (round === undefined) return
    this.#writer.commit(this.#step(round, event))
  }

  /** Steps the machine; the proposal it made, if it made one, is recorded. */
  #step(machine: FacilitatorRoundState<I>, event: RoundEvent<I>): { readonly machine: FacilitatorRoundState<I>; readonly effect: RoundEffect }[] {
    const stepped = stepRound(machine, event)
    this.#round = stepped.state
    const { proposal } = stepped.state
    if (this.#options.journal !== undefined && machine.proposal === undefined && proposal !== undefined) {
      this.#writer.record({ type: 'proposal', round: machine.round, value: proposal })
    }
    return stepped.effects.map((effect) => ({ machine, effect }))
  }

  /** A journal write failed: the round is given up (it counts as one of the t faults); the next one starts afresh. */
  #abandoned(error: unknown): void {
    this.#options.onError?.(error)
    this.#round = undefined
    this.#proposalTimer?.cancel()
    this.#proposalTimer = undefined
  }

  /** A journal call that may complete later: its failure is reported. */
  #settled(outcome: void | Promise<void>): void {
    if (outcome !== undefined) outcome.catch((error: unknown) => this.#options.onError?.(error))
  }

  #readFrame(bytes: Uint8Array): ReturnType<typeof decodeRoundFrame> {
    return decodeRoundFrame(bytes, this.#options.network.limits.maxMessageBytes, this.#options.maxProposalBytes)
  }

  #perform(machine: FacilitatorRoundState<I>, effect: RoundEffect): void {
    const round = machine.round
    if (effect.type === 'send') {
      const self = machine.self
      const targets = effect.to === 'all' ? machine.config.seed.committee.facilitators.filter((id) => id !== self) : [effect.to]
      for (const peer of targets) this.#links.enqueue(peer, round, effect.message)
      return
    }
    this.#options.onCertified(effect.certificate)
    // One facilitator publishes at once, the round's first in turn; each other one waits its turn and publishes only
    // if no certificate of the round reached it meanwhile, so a silent or slow first costs a short delay, not the round.
    const { facilitators } = machine.config.seed.committee
    const rank = (facilitators.indexOf(machine.self) - (round % facilitators.length) + facilitators.length) % facilitators.length
    if (rank <= 0) return this.#publish(round, effect.certificate)
    if (this.#heard >= round) return
    this.#publishing.set(
      round,
      this.#options.clock.setTimer(rank * PUBLISH_TURN_MS, () => {
        this.#publishing.delete(round)
        if (this.#heard < round && !this.#stopped) this.#publish(round, effect.certificate)
      }),
    )
  }

  /**
   * A certificate announcement gossiped by someone else, for a round this node already holds (so the shell drops it
   * unread): when it is a valid certificate of a round this facilitator still waits to publish, that copy serves.
   * Checked in full first, so a forged copy cannot keep the honest ones from being published.
   */
  async observeGossip(data: Uint8Array, committeeFor: (round: number) => Committee | undefined, crypto: Crypto, verifier?: BatchVerifier): Promise<void> {
    if (this.#publishing.size === 0) return
    let certificate: CheckpointCertificate
    try {
      const announcement = decodeCertificateAnnouncement(data)
      if (!this.#publishing.has(announcement.round)) return
      certificate = decodeCertificate(announcement.certificate)
      const { body } = certificate.result
      if (body.round !== announcement.round || body.level !== this.#options.level || body.group !== this.#options.group) return
    } catch {
      return
    }
    const round = certificate.result.body.round
    const committee = committeeFor(round)
    if (committee === undefined || (await checkCertificate(crypto, certificate, committee, verifier).catch(() => 'unchecked')) !== undefined) return
    this.heardCertificate(round)
  }

  #publish(round: number, certificate: CheckpointCertificate): void {
    const { network, level, group } = this.#options
    const bytes = encodeCertificateAnnouncement({ round, certificate: encodeCertificate(certificate) })
    network.publish(certificateTopic(level, group), bytes).catch((error: unknown) => this.#options.onError?.(error))
  }

  /**
   * A round frame from `from`: driven into the current round, held for a later one, or dropped when stale. With a
   * journal, the answer (the acknowledgement) comes once the frame is journalled.
   */
  onFrame(from: string, data: Uint8Array): Uint8Array | Promise<Uint8Array> {
    const { level, group } = this.#options
    if (!this.#options.isMember(from)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'round frames come from members only')
    const frame = this.#readFrame(data)
    if (frame.level !== level || frame.group !== group) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'another group')
    this.#received.framesReceived++
    this.#received.messagesDropped += frame.dropped
    const certified = this.#options.certifiedRound()
    const current = this.#round
    const journal = this.#options.journal
    if (current !== undefined && frame.round === current.round) {
      if (journal !== undefined) this.#writer.record({ type: 'frame', round: frame.round, from, bytes: data })
      // Each message's effects in turn, as without a journal: they leave in that order once the frame is durable.
      for (const message of frame.messages) this.#writer.commit(this.#step(this.#round ?? current, { type: 'message', from, message }))
      return this.#writer.answer()
    }
    if (frame.round > certified + 1 || (frame.round === certified + 1 && current === undefined)) {
      // A round this node has not reached (or not started) yet: keep the frame, within a byte budget per member, to
      // replay then. Past the budget the frame is refused, not acknowledged, so the sender retries it later.
      // A facilitator of a later round holds the certificates this node lacks: fetch them now, not at the watchdog.
      if (frame.round > certified + 1) this.#options.onAhead(from, frame.round - 1)
      if (frame.round > certified + EARLY_ROUNDS) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'a frame for a round too far ahead')
      this.#early.hold(from, frame.round, data)
      // Acknowledged, its sender will not send it again: journalled first, so a restart still has it.
      if (journal !== undefined) {
        this.#writer.record({ type: 'early', round: frame.round, from, bytes: data })
        return this.#writer.answer()
      }
    }
    return NO_ANSWER
  }
}
