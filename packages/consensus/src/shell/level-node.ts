/**
 * The imperative shell of a validator in a group above level 0 — a star cluster, a galaxy, the universe. It runs
 * the one round machine with `levelInputs` over a gossip `Network` and a `Clock`, as `SolarSystemNode` does at
 * level 0, and shares its wire formats, peer links, certificate following and range serving.
 *
 * A validator follows its children — the groups one level down — by subscribing to their certificate topics, and
 * checks each certificate against the committee the one before it named (the child's genesis for round 1). When the
 * election of its own group picks it, it facilitates: each child's run of certificates since the last one the
 * group certified is an input, the facilitators agree on them over coalescing reliable links, and the certificate
 * they sign commits to every child certificate by a Merkle root. It gossips that certificate, follows its own
 * group's certificates (refusing any whose signers or election do not check out), and keeps everything in a
 * `HierarchyIndex`, from which it serves syncing nodes: certificate ranges of every group it follows, and finality
 * paths from a child certificate up to its own level. A validator that falls behind — or starts late — fetches the
 * certificates it lacks from the other validators of its group. A root validator also takes membership requests
 * (membership-requests.ts).
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { CertificateHistory } from '../finality/certificate-history.js'
import { childRun, childRunBytes } from '../hierarchy/child-run.js'
import { encodeFinalityPath, HierarchyIndex, pathWithoutLeaves } from '../hierarchy/finality-path.js'
import { type ChildGroup, childGroups, DEFAULT_MAX_CERTIFICATES_PER_INPUT, type LevelInput, levelInputs } from '../hierarchy/level-inputs.js'
import type { CheckpointCertificate } from '../round/certificate.js'
import { type CheckpointEntry, resultHash } from '../round/checkpoint-result.js'
import { type FacilitatorRoundState, startRound } from '../round/facilitator-round.js'
import type { RoundInputKind } from '../round/round-inputs.js'
import { applyResult, genesisState, type SolarSystemGenesis, type SolarSystemState } from '../round/solar-system.js'
import { ApplyQueue, CertificateFollower } from './certificate-follower.js'
import { notifyListeners, validatorInTurn } from './certificate-following.js'
import { serveCertificateRange } from './certificate-range.js'
import { MembershipRequests } from './membership-requests.js'
import { RoundDriver } from './round-driver.js'
import { DEFAULT_LEVEL_TIMING, type LevelTiming } from './shell-timing.js'
import type { CertificateListener, LevelNodeOptions, LevelStats } from './shell-types.js'
import {
  certificateTopic,
  decodeCertificateRangeRequest,
  decodeFinalityPathRequest,
  encodeFinalityPathAnswer,
  levelProtocols,
  membershipTopic,
} from './wire.js'

/** A group whose certificates this validator follows: a child, or its own group. */
interface Followed {
  readonly genesis: SolarSystemGenesis
  readonly history: CertificateHistory
  /** Set for a child: its key in this group's results. */
  readonly child?: ChildGroup
  readonly follower: CertificateFollower<unknown>
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
  /** Certificates are applied one at a time, in order per group, on one queue for every group followed. */
  readonly #queue: ApplyQueue
  readonly #own: Followed
  /** Followed groups by `level/group`. */
  readonly #followed = new Map<string, Followed>()
  readonly #validators: readonly string[]
  readonly #listeners = new Set<CertificateListener>()
  readonly #unsubscribe: (() => void)[] = []
  readonly #driver: RoundDriver<LevelInput>
  readonly #requests: MembershipRequests
  #state: SolarSystemState
  #stallProbes = 0
  #running = false
  /** The children's keys in the group's results (hex): every other entry is a membership request. */
  readonly #childKeys: ReadonlySet<string>
  #stats = { roundsCertified: 0, roundsFacilitated: 0, childCertificates: 0, rangesServed: 0, pathsServed: 0 }

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
              this.#requests.noteAgreed(outcome.body.checkpoints, agreed, kind)
              return outcome
            },
          }
        : kind
    this.index = new HierarchyIndex(options.crypto)
    this.#queue = new ApplyQueue(options.onError)
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
      onCertified: (certificate) => void this.#own.follower.enqueue([certificate], true),
      onAhead: (peer, round) => void this.#own.follower.catchUp(peer, round),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    })
    this.#requests = new MembershipRequests({
      crypto: options.crypto,
      network: options.network,
      protocol: this.#protocols.membershipRequests,
      requestTimeoutMs: this.#timing.requestTimeoutMs,
      childKeys: this.#childKeys,
      running: () => this.#running,
      state: () => this.#state,
      nextValidator: () => this.#nextValidator(),
      propose: (request) => {
        if (this.#driver.round?.phase === 'collecting') this.#driver.drive({ type: 'checkpoint', block: { kind: 'request', request } })
      },
    })
  }

  /** Follows a child's certificates (appended to the index), or the own group's (applied to the state). */
  #follow(genesis: SolarSystemGenesis, child: ChildGroup | undefined): Followed {
    const { crypto, network, clock, verifier, onError } = this.#options
    const history = this.index.history(genesis.level, genesis.group) as CertificateHistory
    const own = child === undefined
    const common = {
      crypto,
      network,
      clock,
      group: genesis,
      protocol: this.#protocols.certificates,
      timing: this.#timing,
      verifier,
      onError,
      queue: this.#queue,
      running: () => this.#running,
      held: () => history.round,
      committee: () => history.committeeFor(history.round + 1),
      // The gossiping neighbour need not keep history: ask a validator of this group.
      peerFor: (from: string) => (this.#validators.includes(from) ? from : this.#nextValidator()),
    }
    const follower: CertificateFollower<unknown> = own
      ? new CertificateFollower<SolarSystemState>({
          ...common,
          advance: (certificate) => applyResult(this.#options.rules, this.#state, certificate.result, resultHash(crypto, certificate.result.body)),
          applied: (certificate, next) => this.#applied(certificate, next),
          stale: (data) => void this.#driver.observeGossip(data, (round) => history.committeeFor(round), crypto, verifier),
          heard: (round) => this.#driver.heardCertificate(round),
          onStall: () => this.#onStall(),
        })
      : new CertificateFollower<void>({
          ...common,
          // Signed by the right committee yet not extending the history: two certificates for one round.
          advance: (certificate) => this.index.append(certificate),
          applied: () => {
            this.#stats.childCertificates++
            this.#offerRun(followed)
          },
        })
    const followed: Followed = child === undefined ? { genesis, history, follower } : { genesis, history, child, follower }
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
    let certificatesRejected = 0
    let certificatesFetched = 0
    for (const { follower } of this.#followed.values()) {
      certificatesRejected += follower.stats.certificatesRejected
      certificatesFetched += follower.stats.certificatesFetched
    }
    return { ...this.#stats, certificatesRejected, certificatesFetched, requestsTaken: this.#requests.requestsTaken, ...this.#driver.stats }
  }

  /** Called with each certificate of the own group, once applied. */
  onCertificate(listener: CertificateListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    this.#driver.start()
    const { network } = this.#options
    for (const { genesis, follower } of this.#followed.values()) {
      this.#unsubscribe.push(network.subscribe(certificateTopic(genesis.level, genesis.group), (message) => follower.onGossip(message.data, message.from)))
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
          const taken = this.#requests.take(request.data, true)
          // Passed on to the other validators, so whichever facilitates proposes it and all can serve it once certified.
          if (taken) network.publish(membershipTopic(level, group), request.data).catch((error: unknown) => this.#options.onError?.(error))
          return new Uint8Array(0)
        }),
        network.subscribe(membershipTopic(level, group), (message) => {
          try {
            return this.#requests.take(message.data, false) ? 'accept' : 'ignore'
          } catch {
            return 'ignore'
          }
        }),
        network.handle(this.#protocols.membershipRequests, (request) => this.#requests.serve(request.data)),
      )
    }
    this.#enterRound()
    this.#own.follower.armStallTimer()
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    for (const off of this.#unsubscribe.splice(0)) off()
    this.#driver.stop()
    for (const { follower } of this.#followed.values()) follower.stop()
    await this.#queue.settled()
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
      for (const request of this.#requests.waiting()) this.#driver.drive({ type: 'checkpoint', block: { kind: 'request', request } })
      for (const followed of this.#followed.values()) if (followed.child !== undefined) this.#offerRun(followed)
    })
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

  /** A certificate of the own group, checked and applied (see `CertificateFollower`): what follows from it. */
  #applied(certificate: CheckpointCertificate, next: SolarSystemState): void {
    this.index.append(certificate)
    this.#state = next
    if (this.#options.membership === true) this.#requests.keepCertified(certificate)
    this.#requests.prune()
    this.#stats.roundsCertified++
    this.#enterRound()
    this.#own.follower.armStallTimer()
    this.#catchUpCommitted(certificate.result.body.checkpoints)
    notifyListeners(this.#listeners, certificate, next, this.#options.onError)
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
      if (entry !== undefined && entry.sequenceNumber > followed.history.round) void followed.follower.catchUp(this.#nextValidator(), entry.sequenceNumber)
    }
  }

  /** The other validators in turn: where a validator that fell behind fetches what it missed. */
  #nextValidator(): string | undefined {
    return validatorInTurn(this.#options.network, this.#validators, this.#stallProbes++)
  }

  /**
   * The watchdog fired (no certificate of its own group for `stallTimeoutMs`): ask the next validator for newer
   * certificates of every group followed. This is also how a validator that starts late syncs its history.
   */
  #onStall(): void {
    const peer = this.#nextValidator()
    if (peer !== undefined) for (const { follower } of this.#followed.values()) void follower.catchUp(peer, Number.POSITIVE_INFINITY)
    void this.#requests.fetchMissing()
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
    const bytes = path === undefined ? undefined : encodeFinalityPath(pathWithoutLeaves(path))
    // A path too large for one message is not served (it cannot be: the requester would refuse it).
    return encodeFinalityPathAnswer(bytes !== undefined && bytes.length + 64 <= this.#options.network.limits.maxMessageBytes ? bytes : undefined)
  }
}

export function createLevelNode(options: LevelNodeOptions): LevelNode {
  return new LevelNode(options)
}
