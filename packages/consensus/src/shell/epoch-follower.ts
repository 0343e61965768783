/**
 * A solar-system member's view of the root: it follows the root group's certificates over the network (gossip on
 * the root's certificate topic, certificate ranges from the root's validators to catch up) and derives its solar
 * system's epochs from them (`deriveEpoch`), so the member switches member sets at the same round as every honest
 * member, with nobody handing out a schedule. It is the `MemberSchedule` a `SolarSystemNode` takes as `epochs`.
 *
 * A root certificate records only digests of the membership requests and of the child certificates it committed:
 * the follower fetches both from the root's validators (requests by digest, child certificates by range) and
 * `deriveEpoch` checks them against the certificate, so a validator can withhold (the follower asks the next one)
 * but not lie. Until the derivation has reached far enough, `untilSettled` holds the solar-system node back.
 * The root must be one level above the solar systems (a star cluster as root, the hierarchy's two-level form).
 */
import { type Crypto, toHex } from '@constellation/crypto'
import type { Clock, TimerHandle, Verdict } from '@constellation/gossip'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { CertificateHistory } from '../finality/certificate-history.js'
import { childGroups } from '../hierarchy/level-inputs.js'
import { deriveEpoch, type EpochDerivation, type EpochRules, settledThrough, startEpochDerivation } from '../membership/epoch-derivation.js'
import type { MemberSchedule } from '../membership/member-schedule.js'
import { decodeMembershipRequest, type MembershipRequest } from '../membership/membership-request.js'
import { type BatchVerifier, type CheckpointCertificate, checkCertificate } from '../round/certificate.js'
import type { SolarSystemGenesis } from '../round/solar-system.js'
import { requestCertificateRange } from './certificate-range.js'
import { applyInTurn, catchUpFrom, judgeNext, readAnnouncement, validatorInTurn } from './certificate-following.js'
import type { ConsensusNetwork } from './shell-timing.js'
import {
  certificateTopic,
  decodeMembershipRequestsAnswer,
  encodeRequestDigests,
  levelProtocols,
  MAX_CERTIFICATES_PER_RESPONSE,
  MAX_REQUESTS_PER_QUERY,
} from './wire.js'

export interface EpochFollowerOptions {
  readonly crypto: Crypto
  readonly network: ConsensusNetwork
  readonly clock: Clock
  /** The root group's genesis (level 1); its members are the validators asked. */
  readonly root: SolarSystemGenesis
  /** The root's children: every solar system, in the order the assignment opened them. */
  readonly systems: readonly SolarSystemGenesis[]
  /** The solar system whose epochs to derive. */
  readonly group: string
  readonly rules: EpochRules
  readonly verifier?: BatchVerifier
  /** Timeout of one request (default 5,000 ms), and how long without progress before asking a validator (default 5,000 ms). */
  readonly timing?: { readonly requestTimeoutMs?: number; readonly stallTimeoutMs?: number }
  readonly onError?: (error: unknown) => void
}

export interface EpochFollowerStats {
  readonly rootCertificates: number
  readonly certificatesRejected: number
  /** Fetches of a root result's requests or child runs that failed or came back short (then another validator is asked). */
  readonly fetchesFailed: number
}

export class EpochFollower implements MemberSchedule {
  /** The root's certified history as this follower checked it. */
  readonly history: CertificateHistory
  readonly #options: EpochFollowerOptions
  readonly #protocols: ReturnType<typeof levelProtocols>
  readonly #validators: readonly string[]
  readonly #requestTimeoutMs: number
  readonly #stallTimeoutMs: number
  readonly #epochs = new Map<number, readonly string[]>()
  #derivation: EpochDerivation
  #waiters: { readonly round: number; readonly resolve: () => void }[] = []
  #unsubscribe: (() => void)[] = []
  #applying: Promise<void> = Promise.resolve()
  #deriving = false
  #catchingUp = false
  #probes = 0
  #deriveProbes = 0
  #timer: TimerHandle | undefined
  #running = false
  #stats = { rootCertificates: 0, certificatesRejected: 0, fetchesFailed: 0 }

  constructor(options: EpochFollowerOptions) {
    this.#options = options
    if (options.root.level !== 1) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'epochs are derived from a root one level above the solar systems')
    childGroups(options.crypto, options.root.level, options.systems)
    this.history = new CertificateHistory(options.crypto, options.root)
    this.#derivation = startEpochDerivation(options.systems, options.group)
    settledThrough(options.rules, this.#derivation) // checks the rules
    this.#protocols = levelProtocols(options.root.level)
    const self = options.network.peerId
    this.#validators = [...options.root.members].filter((id) => id !== self).sort()
    this.#requestTimeoutMs = options.timing?.requestTimeoutMs ?? 5_000
    this.#stallTimeoutMs = options.timing?.stallTimeoutMs ?? 5_000
  }

  get derivation(): EpochDerivation {
    return this.#derivation
  }

  get stats(): EpochFollowerStats {
    return { ...this.#stats }
  }

  membersFrom(round: number): readonly string[] | undefined {
    return this.#epochs.get(round)
  }

  untilSettled(round: number): Promise<void> | undefined {
    if (round <= settledThrough(this.#options.rules, this.#derivation)) return undefined
    return new Promise((resolve) => this.#waiters.push({ round, resolve }))
  }

  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    const { level, group } = this.#options.root
    this.#unsubscribe.push(this.#options.network.subscribe(certificateTopic(level, group), (message) => this.#onGossip(message.data, message.from)))
    this.#arm()
    void this.#catchUp(this.#nextValidator(), Number.POSITIVE_INFINITY)
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    for (const off of this.#unsubscribe.splice(0)) off()
    this.#timer?.cancel()
    await this.#applying
  }

  async #onGossip(data: Uint8Array, from: string): Promise<Verdict> {
    const round = this.history.round
    const announced = readAnnouncement(data, this.#options.root, round)
    if (announced.kind === 'malformed') this.#stats.certificatesRejected++
    if (announced.kind === 'ahead') void this.#catchUp(this.#validators.includes(from) ? from : this.#nextValidator(), announced.round)
    if (announced.kind !== 'next') return announced.kind === 'malformed' ? 'reject' : 'ignore'
    const committee = this.history.committeeFor(round + 1)
    if (committee === undefined) return 'ignore'
    const { verifier, onError } = this.#options
    const verdict = await judgeNext(this.#options.crypto, announced.certificate, committee, () => this.history.round === round, verifier, onError)
    if (verdict === 'reject') this.#stats.certificatesRejected++
    if (verdict === 'accept') this.#enqueue([announced.certificate])
    return verdict
  }

  #enqueue(certificates: readonly CheckpointCertificate[]): void {
    this.#applying = applyInTurn(this.#applying, certificates, (certificate) => this.#append(certificate), this.#options.onError)
  }

  /** Checks the certificate against the committee the history names, appends it and derives on. */
  async #append(certificate: CheckpointCertificate): Promise<void> {
    const { body } = certificate.result
    if (!this.#running || body.round !== this.history.round + 1) return
    const committee = this.history.committeeFor(body.round)
    if (committee === undefined) return
    if ((await checkCertificate(this.#options.crypto, certificate, committee, this.#options.verifier)) !== undefined) {
      this.#stats.certificatesRejected++
      return
    }
    if (!this.#running || body.round !== this.history.round + 1) return
    this.history.append(this.#options.crypto, certificate)
    this.#stats.rootCertificates++
    this.#arm()
    void this.#derive()
  }

  /** Derives over the root results held and not derived yet, in order; a result whose inputs cannot be fetched waits. */
  async #derive(): Promise<void> {
    if (this.#deriving) return
    this.#deriving = true
    try {
      while (this.#running && this.#derivation.assignment.round < this.history.round) {
        const certificate = this.history.certificate(this.#derivation.assignment.round + 1) as CheckpointCertificate
        // The validator that served the last result serves the next one too; a failure moves on to another. (A turn
        // of its own: the watchdog's catch-ups also take turns, and sharing one counter could skip half the validators.)
        const validator = validatorInTurn(this.#options.network, this.#validators, this.#deriveProbes)
        if (validator === undefined) break
        let derived: ReturnType<typeof deriveEpoch>
        try {
          const [requests, runs] = await Promise.all([this.#fetchRequests(validator, certificate), this.#fetchRuns(validator, certificate)])
          derived = deriveEpoch(this.#options.crypto, this.#options.rules, this.#options.systems, this.#derivation, { certificate, requests, runs })
        } catch {
          // Withheld, short or unreachable: the watchdog tries the next validator.
          this.#stats.fetchesFailed++
          this.#deriveProbes++
          break
        }
        this.#derivation = derived.derivation
        if (derived.epoch !== undefined) this.#epochs.set(derived.epoch.fromRound, derived.epoch.members)
        this.#wake()
      }
    } finally {
      this.#deriving = false
    }
  }

  #wake(): void {
    const settled = settledThrough(this.#options.rules, this.#derivation)
    const ready = this.#waiters.filter((waiter) => waiter.round <= settled)
    this.#waiters = this.#waiters.filter((waiter) => waiter.round > settled)
    for (const waiter of ready) waiter.resolve()
  }

  /** The membership requests the root result certified, by digest, from `validator`. */
  async #fetchRequests(validator: string, certificate: CheckpointCertificate): Promise<MembershipRequest[]> {
    const childKeys = new Set([...childGroups(this.#options.crypto, 1, this.#options.systems).values()].map((child) => child.keyHex))
    const digests = certificate.result.body.checkpoints.filter((entry) => !childKeys.has(toHex(entry.publicKey))).map((entry) => entry.hash)
    const out: MembershipRequest[] = []
    for (let i = 0; i < digests.length; i += MAX_REQUESTS_PER_QUERY) {
      const answer = await this.#options.network.request(
        validator,
        this.#protocols.membershipRequests,
        encodeRequestDigests(digests.slice(i, i + MAX_REQUESTS_PER_QUERY)),
        { timeout: this.#requestTimeoutMs },
      )
      out.push(...decodeMembershipRequestsAnswer(answer).map((bytes) => decodeMembershipRequest(bytes)))
    }
    return out
  }

  /** The child certificates the root result committed, per child, from `validator` (checked by `deriveEpoch`). */
  async #fetchRuns(validator: string, certificate: CheckpointCertificate): Promise<Map<string, CheckpointCertificate[]>> {
    const runs = new Map<string, CheckpointCertificate[]>()
    const children = childGroups(this.#options.crypto, 1, this.#options.systems)
    for (const child of children.values()) {
      const entry = certificate.result.body.checkpoints.find((e) => toHex(e.publicKey) === child.keyHex)
      if (entry === undefined) continue
      const group = child.genesis.group
      const run: CheckpointCertificate[] = []
      let from = (this.#derivation.committed.get(group) ?? 0) + 1
      while (from <= entry.sequenceNumber) {
        const count = Math.min(MAX_CERTIFICATES_PER_RESPONSE, entry.sequenceNumber - from + 1)
        const got = await requestCertificateRange(
          this.#options.network,
          validator,
          this.#protocols.certificates,
          { level: 0, group, from, count },
          this.#requestTimeoutMs,
        )
        if (got.length === 0) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `the validator sent no certificates of ${group}`)
        run.push(...got)
        from += got.length
      }
      runs.set(group, run)
    }
    return runs
  }

  #nextValidator(): string | undefined {
    return validatorInTurn(this.#options.network, this.#validators, this.#probes++)
  }

  /** Watchdog: with no root certificate for a while, ask the next validator for newer ones and derive again. */
  #arm(): void {
    this.#timer?.cancel()
    if (!this.#running) return
    this.#timer = this.#options.clock.setTimer(this.#stallTimeoutMs, () => {
      void this.#catchUp(this.#nextValidator(), Number.POSITIVE_INFINITY)
      void this.#derive()
      this.#arm()
    })
  }

  async #catchUp(peer: string | undefined, target: number): Promise<void> {
    if (peer === undefined || this.#catchingUp) return
    this.#catchingUp = true
    await catchUpFrom(
      {
        network: this.#options.network,
        protocol: this.#protocols.certificates,
        level: this.#options.root.level,
        group: this.#options.root.group,
        timeoutMs: this.#requestTimeoutMs,
        held: () => this.history.round,
        running: () => this.#running,
        apply: (certificates) => {
          this.#enqueue(certificates)
          return this.#applying
        },
      },
      peer,
      target,
    )
    this.#catchingUp = false
  }
}

export function createEpochFollower(options: EpochFollowerOptions): EpochFollower {
  return new EpochFollower(options)
}
