/**
 * The imperative shell of a solar-system node: it runs the pure round machine over a gossip `Network` and a
 * `Clock`, so the same code runs on `SimNetwork` and on `Libp2pNetwork`.
 *
 * Every node is a member: after each certified round it appends a checkpoint block recording that result to its
 * own chain and submits it, with the stretch of its chain it closes, to the next round's facilitators
 * (checkpoint-submitter.ts). A node the election picks is also a facilitator for that round: it checks each member's
 * stretch in full (signatures, links, balances) before it holds it (checkpoint-intake.ts), runs the agreement with
 * the other facilitators over coalescing reliable links, signs the result and gossips the certificate. Every node
 * follows the certificates (certificate-follower.ts: verified in one batch against the committee the previous
 * certificate named), keeps the certified history and the transfer ledger, and answers from them: the certified
 * anchors counterparties check proposals against (`anchors`), and which transfers each round finalised
 * (`onFinalised`, `agreementProof`). A node that falls behind fetches the certificates it missed from the peer that
 * sent a newer one.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { type BlockLimits, type CertifiedAnchors, DEFAULT_BLOCK_LIMITS, PayloadRegistry } from '@constellation/trustchain'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { AgreementProof, TransactionHalves } from '../finality/agreement-proof.js'
import { CertificateHistory } from '../finality/certificate-history.js'
import { type CheckpointCertificate, checkCertificate } from '../round/certificate.js'
import type { AnchoredCheckpoint } from '../round/checkpoint-pool.js'
import { resultHash } from '../round/checkpoint-result.js'
import type { FacilitatorRoundState } from '../round/facilitator-round.js'
import { anchorOf, applyResult, genesisState, scheduleMembers, type SolarSystemState } from '../round/solar-system.js'
import { CertificateFollower } from './certificate-follower.js'
import { notifyListeners } from './certificate-following.js'
import { serveCertificateRange } from './certificate-range.js'
import { CheckpointIntake } from './checkpoint-intake.js'
import { CheckpointSubmitter } from './checkpoint-submitter.js'
import { FinalisedRounds } from './finalised-rounds.js'
import { SettlementCourier } from './settlement-courier.js'
import { createMemoryRoundJournal } from './memory-round-journal.js'
import { RoundDriver } from './round-driver.js'
import { DEFAULT_TIMING, type SolarSystemTiming } from './shell-timing.js'
import type { CertificateListener, FinalisedRound, SolarSystemNodeOptions, SolarSystemStats } from './shell-types.js'
import { CERTIFICATES_PROTOCOL, certificateTopic, CHECKPOINT_PROTOCOL, decodeCertificateRangeRequest, ROUND_PROTOCOL } from './wire.js'

const DEFAULT_FINALITY_WINDOW_ROUNDS = 256
const DEFAULT_IDLE_CHECKPOINT_ROUNDS = 64

export class SolarSystemNode {
  readonly crypto: Crypto
  readonly self: string
  readonly history: CertificateHistory
  readonly #options: SolarSystemNodeOptions
  readonly #timing: SolarSystemTiming
  readonly #limits: BlockLimits
  readonly #driver: RoundDriver<AnchoredCheckpoint>
  readonly #follower: CertificateFollower<SolarSystemState>
  /** The facilitator side: members' submissions, and the rounds this node facilitates. */
  readonly #intake: CheckpointIntake
  /** The member side: the own checkpoints and stretches, submitted to the facilitators. */
  readonly #submitter: CheckpointSubmitter
  readonly #finalised: FinalisedRounds
  /** Evidence for transfers across solar systems, when the node settles them (`options.crossSystem`). */
  readonly #courier: SettlementCourier | undefined
  readonly #listeners = new Set<CertificateListener>()
  readonly #onStop = new Set<() => void>()
  readonly #unsubscribe: (() => void)[] = []
  #state: SolarSystemState
  #stallProbes = 0
  #running = false
  #roundsCertified = 0

  constructor(options: SolarSystemNodeOptions) {
    this.#options = options
    this.crypto = options.crypto
    this.self = toHex(options.keyPair.publicKey)
    if (options.network.peerId !== this.self) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'the network must run under the node’s own key')
    this.#timing = { ...DEFAULT_TIMING, ...options.timing }
    this.#limits = options.limits ?? DEFAULT_BLOCK_LIMITS
    const idleRounds = options.idleCheckpointRounds ?? DEFAULT_IDLE_CHECKPOINT_ROUNDS
    if (!(Number.isSafeInteger(idleRounds) && idleRounds >= 1))
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'idleCheckpointRounds must be a positive integer')
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
    const { crypto, network, clock, genesis, rules, verifier, onError } = options
    this.#driver = new RoundDriver<AnchoredCheckpoint>({
      network,
      clock,
      protocol: ROUND_PROTOCOL,
      level: genesis.level,
      group: genesis.group,
      timing: this.#timing,
      maxProposalBytes: rules.maxProposalBytes,
      isMember: (peer) => this.#state.members.has(peer),
      certifiedRound: () => this.#state.round,
      onCertified: (certificate) => void this.#follower.enqueue([certificate], true),
      onAhead: (peer, round) => void this.#follower.catchUp(peer, round),
      journal: options.roundJournal ?? createMemoryRoundJournal(),
      ...(onError === undefined ? {} : { onError }),
    })
    const state = () => this.#state
    const running = () => this.#running
    this.#intake = new CheckpointIntake({
      crypto,
      keyPair: options.keyPair,
      genesis,
      rules,
      limits: this.#limits,
      registry: options.registry ?? new PayloadRegistry(),
      verifier,
      maxMessageBytes: network.limits.maxMessageBytes,
      sitOutThroughRound: options.sitOutThroughRound ?? 0,
      seat: this.#driver,
      rootCommittee: options.crossSystem?.rootCommittee,
      followedHistory: options.crossSystem?.followedHistory,
      state,
    })
    const crossSystem = options.crossSystem
    this.#courier =
      crossSystem === undefined
        ? undefined
        : new SettlementCourier({
            crypto,
            self: this.self,
            network,
            group: genesis,
            timing: this.#timing,
            limits: this.#limits,
            crossSystem,
            own: this.#intake,
            maxMessageBytes: network.limits.maxMessageBytes,
            onError,
            running,
          })
    this.#submitter = new CheckpointSubmitter({
      crypto,
      self: this.self,
      network,
      clock,
      chain: options.chain,
      group: genesis,
      timing: this.#timing,
      limits: this.#limits,
      idleCheckpointRounds: idleRounds,
      maxCheckpointAgeRounds: rules.maxCheckpointAgeRounds,
      own: this.#intake,
      onError,
      running,
      state,
    })
    this.#finalised = new FinalisedRounds(crypto, options.finalityWindowRounds ?? DEFAULT_FINALITY_WINDOW_ROUNDS, onError)
    this.#follower = new CertificateFollower<SolarSystemState>({
      crypto,
      network,
      clock,
      group: genesis,
      protocol: CERTIFICATES_PROTOCOL,
      timing: this.#timing,
      verifier,
      onError,
      running,
      held: () => this.#state.round,
      committee: () => this.#state.committee,
      ready: (certificate) => {
        // Only a schedule still learning makes the node wait.
        const waiting = options.epochs?.untilSettled?.(certificate.result.body.round + 2)
        return waiting === undefined ? undefined : this.#settled(waiting)
      },
      advance: (certificate) => applyResult(rules, this.#state, certificate.result, resultHash(crypto, certificate.result.body)),
      applied: (certificate, next) => this.#applied(certificate, next),
      stale: (data) => void this.#driver.observeGossip(data, (round) => this.history.committeeFor(round), crypto, verifier),
      heard: (round) => this.#driver.heardCertificate(round),
      // The connected members in turn.
      onStall: () => {
        const peers = network
          .peers()
          .filter((peer) => this.#state.members.has(peer))
          .sort()
        const peer = peers[this.#stallProbes++ % Math.max(1, peers.length)]
        if (peer !== undefined) void this.#follower.catchUp(peer, Number.POSITIVE_INFINITY)
      },
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
    return { roundsCertified: this.#roundsCertified, roundsFacilitated: this.#intake.roundsFacilitated, ...this.#follower.stats, ...this.#driver.stats }
  }

  onCertificate(listener: CertificateListener): () => void {
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
      network.subscribe(certificateTopic(genesis.level, genesis.group), (message) => this.#follower.onGossip(message.data, message.from)),
      network.handle(ROUND_PROTOCOL, (request) => this.#driver.onFrame(request.from, request.data)),
      network.handle(CHECKPOINT_PROTOCOL, (request) => this.#intake.onSubmission(request.from, request.data)),
      network.handle(CERTIFICATES_PROTOCOL, (request) => this.#onRangeRequest(request.data)),
    )
    const grown = this.#options.chain.onGrown?.(() => this.#submitter.onGrown())
    if (grown !== undefined) this.#unsubscribe.push(grown)
    this.#intake.enterRound()
    this.#follower.armStallTimer()
    await this.#submitter.submit()
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    for (const off of this.#unsubscribe.splice(0)) off()
    this.#driver.stop()
    this.#follower.stop()
    this.#submitter.stop()
    for (const notify of [...this.#onStop]) notify()
    await this.#follower.settled()
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
    return this.#finalised.onFinalised(listener)
  }

  /** The round that finalised the transaction, when it is within the recent rounds this node keeps. */
  finalisedIn(transaction: TransactionHalves): number | undefined {
    return this.#finalised.finalisedIn(transaction)
  }

  /** A recent round's certificate with its finalised leaves, if still kept. */
  finalisedRound(round: number): FinalisedRound | undefined {
    return this.#finalised.round(round)
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
    return this.#finalised.agreementProof(transaction, from)
  }

  /** A certificate of the next round, checked and applied (see `CertificateFollower`): what follows from it. */
  #applied(certificate: CheckpointCertificate, next: SolarSystemState): void {
    this.history.append(this.crypto, certificate)
    this.#state = this.#scheduled(next)
    this.#roundsCertified++
    this.#intake.enterRound()
    this.#follower.armStallTimer()
    this.#finalised.notify(this.#keepFinalised(certificate))
    void this.#submitter.reviewAnswers()
    notifyListeners(this.#listeners, certificate, next, this.#options.onError)
    this.#submitter.schedule()
    this.#courier?.send(this.#state).catch((error: unknown) => this.#options.onError?.(error))
  }

  /** Keeps a round's finalised leaves (within the window): the own agreements among them are final. */
  #keepFinalised(certificate: CheckpointCertificate): FinalisedRound {
    const finalised = this.#finalised.keep(certificate)
    this.#submitter.noteFinal(finalised.leaves)
    return finalised
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
      this.#keepFinalised(certificate)
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

  #onRangeRequest(data: Uint8Array): Uint8Array {
    // Recent rounds go with their finalised leaves, so a member that catches up learns which of its transfers are final.
    return serveCertificateRange(
      this.history,
      decodeCertificateRangeRequest(data),
      this.#options.network.limits.maxMessageBytes,
      (round) => this.#finalised.round(round)?.certificate,
    )
  }
}

export function createSolarSystemNode(options: SolarSystemNodeOptions): SolarSystemNode {
  return new SolarSystemNode(options)
}
