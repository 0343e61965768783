/**
 * The imperative shell of a validator in a group above level 0 — a star cluster, a galaxy, the universe. It runs
 * the one round machine with `levelInputs` over a gossip `Network` and a `Clock`, as `SolarSystemNode` does at
 * level 0, and shares its wire formats, peer links and range serving.
 *
 * A validator follows its children — the groups one level down — by subscribing to their certificate topics, and
 * checks each certificate against the committee the one before it named (the child's genesis for round 1). When the
 * election of its own group picks it, it facilitates: each child's run of certificates since the last one the
 * group certified is an input, the facilitators agree on them over coalescing reliable links, and the certificate
 * they sign commits to every child certificate by a Merkle root. It gossips that certificate, follows its own
 * group's certificates (refusing any whose signers or election do not check out), and keeps everything in a
 * `HierarchyIndex`, from which it serves syncing nodes: certificate ranges of every group it follows, and finality
 * paths from a child certificate up to its own level. A validator that falls behind — or starts late — fetches the
 * certificates it lacks from the other validators of its group.
 */
import { type Crypto, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import type { Clock, TimerHandle, Verdict } from '@constellation/gossip'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { CertificateHistory } from '../finality/certificate-history.js'
import { childRun, childRunBytes } from '../hierarchy/child-run.js'
import { encodeFinalityPath, HierarchyIndex } from '../hierarchy/finality-path.js'
import {
  type ChildGroup,
  childGroups,
  DEFAULT_MAX_CERTIFICATES_PER_INPUT,
  type LevelInput,
  type LevelInputKind,
  levelInputs,
} from '../hierarchy/level-inputs.js'
import {
  checkMembershipRequest,
  decodeMembershipRequest,
  encodeMembershipRequest,
  type MembershipRequest,
  membershipRequestDigest,
} from '../membership/membership-request.js'
import { type BatchVerifier, type CheckpointCertificate, checkCertificate } from '../round/certificate.js'
import { type CheckpointEntry, resultHash } from '../round/checkpoint-result.js'
import { type FacilitatorRoundState, startRound } from '../round/facilitator-round.js'
import type { RoundInputKind } from '../round/round-inputs.js'
import { applyResult, genesisState, type SolarSystemGenesis, type SolarSystemRules, type SolarSystemState } from '../round/solar-system.js'
import { serveCertificateRange } from './certificate-range.js'
import { applyInTurn, catchUpFrom, judgeNext, notifyListeners, readAnnouncement, validatorInTurn } from './certificate-following.js'
import { RoundDriver } from './round-driver.js'
import { type ConsensusNetwork, DEFAULT_TIMING, type SolarSystemTiming } from './shell-timing.js'
import type { SolarSystemStats } from './solar-system-node.js'
import {
  certificateTopic,
  decodeCertificateRangeRequest,
  decodeFinalityPathRequest,
  decodeMembershipRequestsAnswer,
  decodeRequestDigests,
  encodeFinalityPathAnswer,
  encodeMembershipRequestsAnswer,
  encodeRequestDigests,
  levelProtocols,
  MAX_REQUESTS_PER_QUERY,
  membershipTopic,
} from './wire.js'

/** Timing of a level's rounds: as a solar system's, without the members' checkpoint pacing. */
export type LevelTiming = Omit<SolarSystemTiming, 'checkpointDelayMs'>

/** Above level 0 a facilitator waits less for its children: a child that certified nothing new has nothing to add. */
export const DEFAULT_LEVEL_TIMING: LevelTiming = Object.freeze({ ...DEFAULT_TIMING, proposalTimeoutMs: 500 })

export interface LevelNodeOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly network: ConsensusNetwork
  readonly clock: Clock
  /** The group this validator belongs to (level >= 1); its members are the group's validators. */
  readonly genesis: SolarSystemGenesis
  /** The groups one level down that the group certifies. */
  readonly children: readonly SolarSystemGenesis[]
  readonly rules: SolarSystemRules
  /** Whether the group certifies membership requests (the root does): validators then take them on `levelProtocols(level).membership`. */
  readonly membership?: boolean
  /** Certificates of one child per input at most (default 16). */
  readonly maxCertificatesPerInput?: number
  /** Checks certificate signatures in batches (default: `crypto.verifyMany` in this thread). */
  readonly verifier?: BatchVerifier
  readonly timing?: Partial<LevelTiming>
  /** Failures of the node itself; the node keeps running. */
  readonly onError?: (error: unknown) => void
}

export interface LevelStats extends SolarSystemStats {
  /** Certificates of the children followed (gossiped or fetched). */
  readonly childCertificates: number
  readonly rangesServed: number
  readonly pathsServed: number
  /** Membership requests taken from nodes (valid, newer than the last certified one of their key; not those passed on by other validators). */
  readonly requestsTaken: number
}

type Listener = (certificate: CheckpointCertificate, state: SolarSystemState) => void

/** Membership requests a root validator holds at most: past it, new keys are refused until some are certified. */
const MAX_HELD_REQUESTS = 4_096

/** A group whose certificates this validator follows: a child, or its own group. */
interface Followed {
  readonly genesis: SolarSystemGenesis
  readonly history: CertificateHistory
  /** Set for a child: its key in this group's results. */
  readonly child?: ChildGroup
  catchingUp: boolean
}

export class LevelNode {
  readonly crypto: Crypto
  readonly self: string
  /** The certified histories of the children and of the own group, and which certificate committed which. */
  readonly index: HierarchyIndex
  readonly #options: LevelNodeOptions
  readonly #timing: LevelTiming
  readonly #protocols: ReturnType<typeof levelProtocols>
  readonly #kind: RoundInputKind<LevelInput>
  readonly #maxPerInput: number
  readonly #own: Followed
  /** Followed groups by `level/group`. */
  readonly #followed = new Map<string, Followed>()
  readonly #validators: readonly string[]
  readonly #listeners = new Set<Listener>()
  readonly #unsubscribe: (() => void)[] = []
  readonly #driver: RoundDriver<LevelInput>
  #state: SolarSystemState
  #stallTimer: TimerHandle | undefined
  #stallProbes = 0
  /** Certificates are appended one at a time, in order per group. */
  #applying: Promise<void> = Promise.resolve()
  #running = false
  /** Membership requests waiting to be certified: per key the newest join and the newest leave. */
  #requests = new Map<string, MembershipRequest>()
  /** The requests the group certified, by digest (hex): served to nodes that derive the assignment. */
  readonly #certifiedRequests = new Map<string, MembershipRequest>()
  /** Requests in the proposals this validator folded whose digests the result certifies, by digest (hex): kept once it is certified. */
  readonly #agreedRequests = new Map<string, MembershipRequest>()
  /** Digests (hex) of requests the group certified that this validator lacks: asked of the other validators. */
  readonly #missingRequests = new Set<string>()
  #fetchingRequests = false
  /** The children's keys in the group's results (hex): every other entry is a membership request. */
  readonly #childKeys: ReadonlySet<string>
  #stats = {
    roundsCertified: 0,
    roundsFacilitated: 0,
    childCertificates: 0,
    certificatesRejected: 0,
    certificatesFetched: 0,
    rangesServed: 0,
    pathsServed: 0,
    requestsTaken: 0,
  }

  constructor(options: LevelNodeOptions) {
    this.#options = options
    this.crypto = options.crypto
    this.self = toHex(options.keyPair.publicKey)
    if (options.network.peerId !== this.self) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'the network must run under the validator’s own key')
    const { genesis, rules } = options
    if (!(Number.isSafeInteger(genesis.level) && genesis.level >= 1))
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'a level node runs a group above level 0')
    this.#timing = { ...DEFAULT_LEVEL_TIMING, ...options.timing }
    this.#protocols = levelProtocols(genesis.level)
    this.#state = genesisState(options.crypto, genesis, rules)
    if (!this.#state.members.has(this.self)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'this node is not a validator of the group')
    this.#validators = [...this.#state.members].filter((id) => id !== this.self).sort()
    const frameBudget = options.network.limits.maxMessageBytes - 1024
    if (rules.maxProposalBytes > frameBudget) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_INPUT,
        `rules.maxProposalBytes (${rules.maxProposalBytes}) must leave room in one network message (${options.network.limits.maxMessageBytes} bytes)`,
      )
    }
    this.#maxPerInput = options.maxCertificatesPerInput ?? DEFAULT_MAX_CERTIFICATES_PER_INPUT
    // One kind for the node's life: its verdict cache spares re-checking a child certificate in every proposal.
    const kind = levelInputs({
      crypto: options.crypto,
      rules,
      level: genesis.level,
      children: options.children,
      maxCertificatesPerInput: this.#maxPerInput,
      membership: options.membership === true,
    })
    // The fold sees every agreed proposal: the requests the result certifies are kept from them, since a request
    // that only its proposer held (it passed it on to nobody) could otherwise never be served once certified.
    this.#kind =
      options.membership === true
        ? {
            ...kind,
            fold: (seed, agreed, pool) => {
              const outcome = kind.fold(seed, agreed, pool)
              this.#noteAgreed(outcome.body.checkpoints, agreed, kind)
              return outcome
            },
          }
        : kind
    this.index = new HierarchyIndex(options.crypto)
    const children = childGroups(options.crypto, genesis.level, options.children)
    this.#childKeys = new Set([...children.values()].map((child) => child.keyHex))
    for (const child of children.values()) {
      this.index.addGroup(child.genesis)
      this.#follow(child.genesis, child)
    }
    this.index.addGroup(genesis, options.children)
    this.#own = this.#follow(genesis, undefined)
    this.#driver = new RoundDriver<LevelInput>({
      network: options.network,
      clock: options.clock,
      protocol: this.#protocols.round,
      level: genesis.level,
      group: genesis.group,
      timing: this.#timing,
      maxProposalBytes: rules.maxProposalBytes,
      isMember: (peer) => this.#state.members.has(peer),
      certifiedRound: () => this.#state.round,
      onCertified: (certificate) => this.#enqueueApply(this.#own, [certificate], true),
      onAhead: (peer, round) => void this.#catchUp(this.#own, peer, round),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    })
  }

  #follow(genesis: SolarSystemGenesis, child: ChildGroup | undefined): Followed {
    const history = this.index.history(genesis.level, genesis.group) as CertificateHistory
    const followed: Followed = child === undefined ? { genesis, history, catchingUp: false } : { genesis, history, child, catchingUp: false }
    this.#followed.set(`${genesis.level}/${genesis.group}`, followed)
    return followed
  }

  /** The group's state after the last certified round this validator applied. */
  get state(): SolarSystemState {
    return this.#state
  }

  /** The group's certified history. */
  get history(): CertificateHistory {
    return this.#own.history
  }

  get facilitatorRound(): FacilitatorRoundState<LevelInput> | undefined {
    return this.#driver.round
  }

  get stats(): LevelStats {
    return { ...this.#stats, ...this.#driver.stats }
  }

  /** Called with each certificate of the own group, once applied. */
  onCertificate(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    this.#driver.start()
    const { network } = this.#options
    for (const followed of this.#followed.values()) {
      const { level, group } = followed.genesis
      this.#unsubscribe.push(network.subscribe(certificateTopic(level, group), (message) => this.#onCertificateGossip(followed, message.data, message.from)))
    }
    this.#unsubscribe.push(
      network.handle(this.#protocols.round, (request) => this.#driver.onFrame(request.from, request.data)),
      network.handle(this.#protocols.certificates, (request) => this.#onRangeRequest(request.data)),
      network.handle(this.#protocols.finalityPath, (request) => this.#onFinalityPathRequest(request.data)),
    )
    if (this.#options.membership === true) {
      const { level, group } = this.#options.genesis
      this.#unsubscribe.push(
        network.handle(this.#protocols.membership, (request) => {
          const taken = this.#onMembershipRequest(request.data, true)
          // Passed on to the other validators, so whichever facilitates proposes it and all can serve it once certified.
          if (taken) network.publish(membershipTopic(level, group), request.data).catch((error: unknown) => this.#options.onError?.(error))
          return new Uint8Array(0)
        }),
        network.subscribe(membershipTopic(level, group), (message) => {
          try {
            return this.#onMembershipRequest(message.data, false) ? 'accept' : 'ignore'
          } catch {
            return 'ignore'
          }
        }),
        network.handle(this.#protocols.membershipRequests, (request) => this.#onCertifiedRequestsQuery(request.data)),
      )
    }
    this.#enterRound()
    this.#armStallTimer()
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    for (const off of this.#unsubscribe.splice(0)) off()
    this.#driver.stop()
    this.#stallTimer?.cancel()
    await this.#applying
  }

  // ---- facilitator -------------------------------------------------------------------------------------

  /** Starts facilitating round `state.round + 1` when the election picked this validator; the inputs are the children's runs. */
  #enterRound(): void {
    const state = this.#state
    const round = state.round + 1
    if (!state.committee.facilitators.includes(this.self)) {
      this.#driver.enter(round)
      return
    }
    this.#stats.roundsFacilitated++
    const { crypto, keyPair, rules } = this.#options
    this.#driver.enter(round, startRound({ crypto, keyPair, rules, seed: state, inputs: this.#kind }), () => {
      // Requests first: the children's runs complete the collection and set off the proposal.
      for (const request of this.#requests.values()) this.#driver.drive({ type: 'checkpoint', block: { kind: 'request', request } })
      for (const followed of this.#followed.values()) if (followed.child !== undefined) this.#offerRun(followed)
    })
  }

  /**
   * A node's signed join or leave: held (newest per key and kind, within a bound) and proposed when this validator
   * facilitates; or one the group certified that this validator lacked. True when it was new here.
   */
  #onMembershipRequest(data: Uint8Array, fromNode: boolean): boolean {
    const request = decodeMembershipRequest(data)
    if (this.#takeMissing(request)) return true
    const why = checkMembershipRequest(this.crypto, request)
    if (why !== undefined) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `membership request: ${why}`)
    const id = toHex(request.publicKey)
    const last = this.#state.lastCheckpoints.get(id)
    if (last !== undefined && request.nonce <= last.entry.sequenceNumber)
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'its nonce is not above the last certified request of its key')
    const key = `${request.kind}:${id}`
    const held = this.#requests.get(key)
    if (held !== undefined && held.nonce >= request.nonce) return false
    if (held === undefined && this.#requests.size >= MAX_HELD_REQUESTS)
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'too many membership requests waiting')
    this.#requests.set(key, request)
    if (fromNode) this.#stats.requestsTaken++
    if (this.#driver.round?.phase === 'collecting') this.#driver.drive({ type: 'checkpoint', block: { kind: 'request', request } })
    return true
  }

  /** The certified requests asked for by digest, those this validator holds. */
  #onCertifiedRequestsQuery(data: Uint8Array): Uint8Array {
    const found: Uint8Array[] = []
    for (const digest of decodeRequestDigests(data)) {
      const request = this.#certifiedRequests.get(toHex(digest))
      if (request !== undefined) found.push(encodeMembershipRequest(request))
    }
    return encodeMembershipRequestsAnswer(found)
  }

  /** The requests of the agreed proposals whose digests the folded result certifies (signatures checked). */
  #noteAgreed(entries: readonly CheckpointEntry[], agreed: ReadonlyMap<string, Uint8Array>, kind: LevelInputKind): void {
    const certified = new Set(entries.filter((entry) => !this.#childKeys.has(toHex(entry.publicKey))).map((entry) => toHex(entry.hash)))
    if (certified.size === 0) return
    for (const proposal of agreed.values()) {
      for (const request of kind.requestsIn(proposal)) {
        const digest = toHex(membershipRequestDigest(this.crypto, request))
        if (!certified.has(digest) || this.#agreedRequests.has(digest) || this.#certifiedRequests.has(digest)) continue
        if (checkMembershipRequest(this.crypto, request) === undefined) this.#agreedRequests.set(digest, request)
      }
    }
  }

  /**
   * Keeps the requests the group's result certified (its entries name them by key, nonce and digest): those held,
   * those of the proposals this validator folded; the others it asks the other validators for.
   */
  #keepCertified(certificate: CheckpointCertificate): void {
    const known = new Map(this.#agreedRequests)
    // Folded for this round (the next round's fold comes after this apply): what the result did not certify goes.
    this.#agreedRequests.clear()
    for (const request of this.#requests.values()) known.set(toHex(membershipRequestDigest(this.crypto, request)), request)
    for (const entry of certificate.result.body.checkpoints) {
      if (this.#childKeys.has(toHex(entry.publicKey))) continue
      const digest = toHex(entry.hash)
      if (this.#certifiedRequests.has(digest)) continue
      const request = known.get(digest)
      if (request !== undefined) this.#certifiedRequests.set(digest, request)
      else if (this.#missingRequests.size < MAX_HELD_REQUESTS) this.#missingRequests.add(digest)
    }
    void this.#fetchMissing()
  }

  /** A certified request this validator lacked: kept when its digest is one missing and its signature checks. */
  #takeMissing(request: MembershipRequest): boolean {
    if (this.#missingRequests.size === 0) return false
    const digest = toHex(membershipRequestDigest(this.crypto, request))
    if (!this.#missingRequests.has(digest) || checkMembershipRequest(this.crypto, request) !== undefined) return false
    this.#missingRequests.delete(digest)
    this.#certifiedRequests.set(digest, request)
    return true
  }

  /** Asks the next validator for certified requests this validator lacks (again at each certificate and watchdog). */
  async #fetchMissing(): Promise<void> {
    if (this.#fetchingRequests || this.#missingRequests.size === 0 || !this.#running) return
    const peer = this.#nextValidator()
    if (peer === undefined) return
    this.#fetchingRequests = true
    try {
      const digests = [...this.#missingRequests].slice(0, MAX_REQUESTS_PER_QUERY).map((digest) => fromHex(digest))
      const answer = await this.#options.network.request(peer, this.#protocols.membershipRequests, encodeRequestDigests(digests), {
        timeout: this.#timing.requestTimeoutMs,
      })
      for (const bytes of decodeMembershipRequestsAnswer(answer)) this.#takeMissing(decodeMembershipRequest(bytes))
    } catch {
      // Unreachable, withholding or malformed: another validator is asked next time.
    } finally {
      this.#fetchingRequests = false
    }
  }

  /** Drops the requests the group's last result certified or made stale. */
  #pruneRequests(): void {
    for (const [key, request] of this.#requests) {
      const last = this.#state.lastCheckpoints.get(toHex(request.publicKey))
      if (last !== undefined && request.nonce <= last.entry.sequenceNumber) this.#requests.delete(key)
    }
  }

  /** Hands the child's newest run to the round while it still collects. */
  #offerRun(followed: Followed): void {
    const round = this.#driver.round
    if (round === undefined || round.phase !== 'collecting' || followed.child === undefined) return
    const share = childRunBytes(this.#options.rules.maxProposalBytes, this.#childKeys.size)
    const run = childRun(round.config.seed, followed.child, followed.history, this.#maxPerInput, Number.POSITIVE_INFINITY, share)
    if (run !== undefined) this.#driver.drive({ type: 'checkpoint', block: run })
  }

  // ---- following certificates ---------------------------------------------------------------------------

  /** A certificate of a followed group: checked against the committee its predecessor named, then forwarded. */
  async #onCertificateGossip(followed: Followed, data: Uint8Array, from: string): Promise<Verdict> {
    const round = followed.history.round
    const announced = readAnnouncement(data, followed.genesis, round)
    if (announced.kind === 'stale' && followed === this.#own)
      void this.#driver.observeGossip(data, (r) => followed.history.committeeFor(r), this.crypto, this.#options.verifier)
    if (announced.kind === 'malformed') this.#stats.certificatesRejected++
    // The gossiping neighbour need not keep history: ask a validator of this group.
    if (announced.kind === 'ahead') void this.#catchUp(followed, this.#validators.includes(from) ? from : this.#nextValidator(), announced.round)
    if (announced.kind !== 'next') return announced.kind === 'malformed' ? 'reject' : 'ignore'
    const committee = followed.history.committeeFor(round + 1)
    if (committee === undefined) return 'ignore'
    const verdict = await judgeNext(
      this.crypto,
      announced.certificate,
      committee,
      () => followed.history.round === round,
      this.#options.verifier,
      this.#options.onError,
    )
    if (verdict === 'reject') this.#stats.certificatesRejected++
    if (verdict === 'accept') {
      if (followed === this.#own) this.#driver.heardCertificate(announced.certificate.result.body.round)
      this.#enqueueApply(followed, [announced.certificate], true)
    }
    return verdict
  }

  #enqueueApply(followed: Followed, certificates: readonly CheckpointCertificate[], trusted: boolean): void {
    this.#applying = applyInTurn(this.#applying, certificates, (certificate) => this.#apply(followed, certificate, trusted), this.#options.onError)
  }

  async #apply(followed: Followed, certificate: CheckpointCertificate, trusted: boolean): Promise<void> {
    if (!this.#running) return
    const { body } = certificate.result
    const { history } = followed
    if (body.round !== history.round + 1) return
    if (!trusted) {
      const committee = history.committeeFor(body.round)
      if (committee === undefined) return
      const invalid = await checkCertificate(this.crypto, certificate, committee, this.#options.verifier)
      if (invalid !== undefined) {
        this.#stats.certificatesRejected++
        return
      }
      // The check awaited: the node may have stopped meanwhile, and a stopped node applies nothing.
      if (!this.#running || body.round !== history.round + 1) return
    }
    if (followed === this.#own) {
      let next: SolarSystemState
      try {
        next = applyResult(this.#options.rules, this.#state, certificate.result, resultHash(this.crypto, body))
      } catch (error) {
        this.#stats.certificatesRejected++
        this.#options.onError?.(error)
        return
      }
      this.index.append(certificate)
      this.#state = next
      if (this.#options.membership === true) this.#keepCertified(certificate)
      this.#pruneRequests()
      this.#stats.roundsCertified++
      this.#enterRound()
      this.#armStallTimer()
      this.#catchUpCommitted(body.checkpoints)
      notifyListeners(this.#listeners, certificate, next, this.#options.onError)
      return
    }
    try {
      this.index.append(certificate)
    } catch (error) {
      // Signed by the right committee yet not extending the history: two certificates for one round.
      this.#stats.certificatesRejected++
      this.#options.onError?.(error)
      return
    }
    this.#stats.childCertificates++
    this.#offerRun(followed)
  }

  /**
   * A certified result of this group committed children's runs up to some round: a child this validator holds less
   * of (it missed the gossip, and the child has gone quiet since, so no newer announcement will reveal the gap) is
   * fetched now. The own group's progress keeps the watchdog from firing, so it would not catch up otherwise; and
   * followers deriving epochs fetch exactly those runs from the validators.
   */
  #catchUpCommitted(entries: readonly CheckpointEntry[]): void {
    for (const followed of this.#followed.values()) {
      const key = followed.child?.keyHex
      if (key === undefined) continue
      const entry = entries.find((e) => toHex(e.publicKey) === key)
      if (entry !== undefined && entry.sequenceNumber > followed.history.round) void this.#catchUp(followed, this.#nextValidator(), entry.sequenceNumber)
    }
  }

  /** The other validators in turn: where a validator that fell behind fetches what it missed. */
  #nextValidator(): string | undefined {
    return validatorInTurn(this.#options.network, this.#validators, this.#stallProbes++)
  }

  /**
   * Progress watchdog: with no certificate of its own group for `stallTimeoutMs`, ask the next validator for newer
   * certificates of every group followed. This is also how a validator that starts late syncs its history.
   */
  #armStallTimer(): void {
    this.#stallTimer?.cancel()
    if (!this.#running) return
    this.#stallTimer = this.#options.clock.setTimer(this.#timing.stallTimeoutMs, () => {
      const peer = this.#nextValidator()
      if (peer !== undefined) for (const followed of this.#followed.values()) void this.#catchUp(followed, peer, Number.POSITIVE_INFINITY)
      void this.#fetchMissing()
      this.#armStallTimer()
    })
  }

  /** Fetches the group's certificates after the last one held up to `target` (inclusive) from `peer`, applying each. */
  async #catchUp(followed: Followed, peer: string | undefined, target: number): Promise<void> {
    if (peer === undefined || followed.catchingUp) return
    followed.catchingUp = true
    const { level, group } = followed.genesis
    this.#stats.certificatesFetched += await catchUpFrom(
      {
        network: this.#options.network,
        protocol: this.#protocols.certificates,
        level,
        group,
        timeoutMs: this.#timing.requestTimeoutMs,
        held: () => followed.history.round,
        running: () => this.#running,
        apply: (certificates) => {
          this.#enqueueApply(followed, certificates, false)
          return this.#applying
        },
      },
      peer,
      target,
    )
    followed.catchingUp = false
  }

  // ---- serving syncing nodes ---------------------------------------------------------------------------

  #onRangeRequest(data: Uint8Array): Uint8Array {
    const request = decodeCertificateRangeRequest(data)
    this.#stats.rangesServed++
    return serveCertificateRange(this.#followed.get(`${request.level}/${request.group}`)?.history, request, this.#options.network.limits.maxMessageBytes)
  }

  #onFinalityPathRequest(data: Uint8Array): Uint8Array {
    const request = decodeFinalityPathRequest(data)
    if (!this.#followed.has(`${request.level}/${request.group}`)) return encodeFinalityPathAnswer(undefined)
    const path = this.index.finalityPath(request.level, request.group, request.round)
    this.#stats.pathsServed++
    const bytes = path === undefined ? undefined : encodeFinalityPath(path)
    // A path too large for one message is not served (it cannot be: the requester would refuse it).
    return encodeFinalityPathAnswer(bytes !== undefined && bytes.length + 64 <= this.#options.network.limits.maxMessageBytes ? bytes : undefined)
  }
}

export function createLevelNode(options: LevelNodeOptions): LevelNode {
  return new LevelNode(options)
}
