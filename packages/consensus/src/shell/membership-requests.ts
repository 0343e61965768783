/**
 * The membership requests of a root validator (a `LevelNode` whose group certifies them): nodes' signed joins and
 * leaves held until the group certifies them, proposed when the validator facilitates, and — once certified, as
 * digests in the group's results — kept, so the validator serves them to the nodes that derive the assignment.
 * A certified request this validator never held it asks the other validators for.
 */
import { type Crypto, fromHex, toHex } from '@constellation/crypto'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { LevelInputKind } from '../hierarchy/level-inputs.js'
import {
  checkMembershipRequest,
  decodeMembershipRequest,
  encodeMembershipRequest,
  type MembershipRequest,
  membershipRequestDigest,
} from '../membership/membership-request.js'
import type { CheckpointCertificate } from '../round/certificate.js'
import type { CheckpointEntry } from '../round/checkpoint-result.js'
import type { SolarSystemState } from '../round/solar-system.js'
import type { ConsensusNetwork } from './shell-timing.js'
import { decodeMembershipRequestsAnswer, decodeRequestDigests, encodeMembershipRequestsAnswer, encodeRequestDigests, MAX_REQUESTS_PER_QUERY } from './wire.js'

/** Membership requests a root validator holds at most: past it, new keys are refused until some are certified. */
const MAX_HELD_REQUESTS = 4_096

export interface MembershipRequestsOptions {
  readonly crypto: Crypto
  readonly network: Pick<ConsensusNetwork, 'request'>
  /** The protocol validators serve certified requests on (`levelProtocols(level).membershipRequests`). */
  readonly protocol: string
  readonly requestTimeoutMs: number
  /** The children's keys in the group's results (hex): every other entry is a membership request. */
  readonly childKeys: ReadonlySet<string>
  running(): boolean
  /** The group's state after the last round the validator applied. */
  state(): SolarSystemState
  /** The other validator to ask next. */
  nextValidator(): string | undefined
  /** A request new here: proposed in the round this validator facilitates, if it still collects. */
  propose(request: MembershipRequest): void
}

export class MembershipRequests {
  readonly #options: MembershipRequestsOptions
  /** Membership requests waiting to be certified: per key the newest join and the newest leave. */
  readonly #requests = new Map<string, MembershipRequest>()
  /** The requests the group certified, by digest (hex): served to nodes that derive the assignment. */
  readonly #certifiedRequests = new Map<string, MembershipRequest>()
  /** Requests in the proposals this validator folded whose digests the result certifies, by digest (hex): kept once it is certified. */
  readonly #agreedRequests = new Map<string, MembershipRequest>()
  /** Digests (hex) of requests the group certified that this validator lacks: asked of the other validators. */
  readonly #missingRequests = new Set<string>()
  #fetching = false
  #requestsTaken = 0

  constructor(options: MembershipRequestsOptions) {
    this.#options = options
  }

  /** Membership requests taken from nodes (see `LevelStats.requestsTaken`). */
  get requestsTaken(): number {
    return this.#requestsTaken
  }

  /** The requests waiting to be certified, to propose in a round this validator facilitates. */
  waiting(): Iterable<MembershipRequest> {
    return this.#requests.values()
  }

  /**
   * A node's signed join or leave: held (newest per key and kind, within a bound) and proposed when this validator
   * facilitates; or one the group certified that this validator lacked. True when it was new here.
   */
  take(data: Uint8Array, fromNode: boolean): boolean {
    const { crypto } = this.#options
    const request = decodeMembershipRequest(data)
    if (this.#takeMissing(request)) return true
    const why = checkMembershipRequest(crypto, request)
    if (why !== undefined) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `membership request: ${why}`)
    const id = toHex(request.publicKey)
    const last = this.#options.state().lastCheckpoints.get(id)
    if (last !== undefined && request.nonce <= last.entry.sequenceNumber)
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'its nonce is not above the last certified request of its key')
    const key = `${request.kind}:${id}`
    const held = this.#requests.get(key)
    if (held !== undefined && held.nonce >= request.nonce) return false
    if (held === undefined && this.#requests.size >= MAX_HELD_REQUESTS)
      throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'too many membership requests waiting')
    this.#requests.set(key, request)
    if (fromNode) this.#requestsTaken++
    this.#options.propose(request)
    return true
  }

  /** The certified requests asked for by digest, those this validator holds. */
  serve(data: Uint8Array): Uint8Array {
    const found: Uint8Array[] = []
    for (const digest of decodeRequestDigests(data)) {
      const request = this.#certifiedRequests.get(toHex(digest))
      if (request !== undefined) found.push(encodeMembershipRequest(request))
    }
    return encodeMembershipRequestsAnswer(found)
  }

  /** The requests of the agreed proposals whose digests the folded result certifies (signatures checked). */
  noteAgreed(entries: readonly CheckpointEntry[], agreed: ReadonlyMap<string, Uint8Array>, kind: LevelInputKind): void {
    const { crypto, childKeys } = this.#options
    const certified = new Set(entries.filter((entry) => !childKeys.has(toHex(entry.publicKey))).map((entry) => toHex(entry.hash)))
    if (certified.size === 0) return
    for (const proposal of agreed.values()) {
      for (const request of kind.requestsIn(proposal)) {
        const digest = toHex(membershipRequestDigest(crypto, request))
        if (!certified.has(digest) || this.#agreedRequests.has(digest) || this.#certifiedRequests.has(digest)) continue
        if (checkMembershipRequest(crypto, request) === undefined) this.#agreedRequests.set(digest, request)
      }
    }
  }

  /**
   * Keeps the requests the group's result certified (its entries name them by key, nonce and digest): those held,
   * those of the proposals this validator folded; the others it asks the other validators for.
   */
  keepCertified(certificate: CheckpointCertificate): void {
    const { crypto, childKeys } = this.#options
    const known = new Map(this.#agreedRequests)
    // Folded for this round (the next round's fold comes after this apply): what the result did not certify goes.
    this.#agreedRequests.clear()
    for (const request of this.#requests.values()) known.set(toHex(membershipRequestDigest(crypto, request)), request)
    for (const entry of certificate.result.body.checkpoints) {
      if (childKeys.has(toHex(entry.publicKey))) continue
      const digest = toHex(entry.hash)
      if (this.#certifiedRequests.has(digest)) continue
      const request = known.get(digest)
      if (request !== undefined) this.#certifiedRequests.set(digest, request)
      else if (this.#missingRequests.size < MAX_HELD_REQUESTS) this.#missingRequests.add(digest)
    }
    void this.fetchMissing()
  }

  /** A certified request this validator lacked: kept when its digest is one missing and its signature checks. */
  #takeMissing(request: MembershipRequest): boolean {
    if (this.#missingRequests.size === 0) return false
    const { crypto } = this.#options
    const digest = toHex(membershipRequestDigest(crypto, request))
    if (!this.#missingRequests.has(digest) || checkMembershipRequest(crypto, request) !== undefined) return false
    this.#missingRequests.delete(digest)
    this.#certifiedRequests.set(digest, request)
    return true
  }

  /** Asks the next validator for certified requests this validator lacks (again at each certificate and watchdog). */
  async fetchMissing(): Promise<void> {
    if (this.#fetching || this.#missingRequests.size === 0 || !this.#options.running()) return
    const peer = this.#options.nextValidator()
    if (peer === undefined) return
    this.#fetching = true
    try {
      const digests = [...this.#missingRequests].slice(0, MAX_REQUESTS_PER_QUERY).map((digest) => fromHex(digest))
      const answer = await this.#options.network.request(peer, this.#options.protocol, encodeRequestDigests(digests), {
        timeout: this.#options.requestTimeoutMs,
      })
      for (const bytes of decodeMembershipRequestsAnswer(answer)) this.#takeMissing(decodeMembershipRequest(bytes))
    } catch {
      // Unreachable, withholding or malformed: another validator is asked next time.
    } finally {
      this.#fetching = false
    }
  }

  /** Drops the requests the group's last result certified or made stale. */
  prune(): void {
    const state = this.#options.state()
    for (const [key, request] of this.#requests) {
      const last = state.lastCheckpoints.get(toHex(request.publicKey))
      if (last !== undefined && request.nonce <= last.entry.sequenceNumber) this.#requests.delete(key)
    }
  }
}
