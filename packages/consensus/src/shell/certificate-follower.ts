/**
 * Following one group's certified checkpoint certificates: the one code path both shells run for it, for their own
 * group (`SolarSystemNode`, `LevelNode`) and for the children a validator follows (`LevelNode`).
 *
 * A certificate comes gossiped or fetched. Gossiped, the next one is checked against the committee that signs it
 * before the gossip forwards it; one past the next tells the node it fell behind, and it fetches the rounds it lacks
 * from a peer by certificate ranges, checking each against the committee the one before named. Either way the
 * certificates are applied one at a time, in round order, on one queue per node. A watchdog asks peers for newer
 * certificates when none came for a while. What applying does — the group's next state and what the node keeps of
 * it — and whom to ask are the shell's, passed in as callbacks.
 */
import type { Crypto } from '@constellation/crypto'
import type { Clock, TimerHandle, Verdict } from '@constellation/gossip'
import { type BatchVerifier, type CheckpointCertificate, checkCertificate } from '../round/certificate.js'
import type { Committee } from '../round/committee.js'
import { applyInTurn, catchUpFrom, judgeNext, readAnnouncement } from './certificate-following.js'
import type { ConsensusNetwork, SolarSystemTiming } from './shell-timing.js'
import type { FollowingStats } from './shell-types.js'

/** Certificates are applied one at a time, in order: one queue per node, shared by every group it follows. */
export class ApplyQueue {
  readonly #onError: ((error: unknown) => void) | undefined
  #tail: Promise<void> = Promise.resolve()

  constructor(onError?: (error: unknown) => void) {
    this.#onError = onError
  }

  /** Queues `apply` for each of `certificates` in turn; resolves once they (and all queued before) were applied. */
  add(certificates: readonly CheckpointCertificate[], apply: (certificate: CheckpointCertificate) => Promise<void>): Promise<void> {
    this.#tail = applyInTurn(this.#tail, certificates, apply, this.#onError)
    return this.#tail
  }

  /** Resolves once every certificate queued so far was applied (or dropped). */
  settled(): Promise<void> {
    return this.#tail
  }
}

export interface CertificateFollowerOptions<S> {
  readonly crypto: Crypto
  readonly network: Pick<ConsensusNetwork, 'request' | 'limits'>
  readonly clock: Clock
  /** The group followed. */
  readonly group: { readonly level: number; readonly group: string }
  /** The protocol peers serve the group's certificate ranges on. */
  readonly protocol: string
  readonly timing: Pick<SolarSystemTiming, 'requestTimeoutMs' | 'stallTimeoutMs'>
  /** Checks certificate signatures in batches (default: `crypto.verifyMany` in this thread). */
  readonly verifier?: BatchVerifier | undefined
  readonly onError?: ((error: unknown) => void) | undefined
  /** The queue certificates are applied on (default one of its own): a node following several groups shares one. */
  readonly queue?: ApplyQueue
  /** Whether the node runs: a stopped node applies nothing, fetches nothing and arms no watchdog. */
  running(): boolean
  /** The group's last round the node applied. */
  held(): number
  /** The committee that signs the group's next round (undefined: not known, and nothing is taken). */
  committee(): Committee | undefined
  /**
   * Called before a checked certificate is applied: a promise when the node must wait first (it resolves true to go
   * on, false to drop the certificate), undefined to apply at once — without an await, which would reorder the
   * application against `stop()`.
   */
  ready?(certificate: CheckpointCertificate): Promise<boolean> | undefined
  /** What applying a checked certificate leads to (the group's next state); throws when it does not follow. */
  advance(certificate: CheckpointCertificate): S
  /** Keeps an applied certificate and what it led to. */
  applied(certificate: CheckpointCertificate, next: S): void
  /** An announcement of a round the node holds already (another facilitator's copy of a certificate, say). */
  stale?(data: Uint8Array): void
  /** The next certificate, gossiped by another node, checked out: it is applied next. */
  heard?(round: number): void
  /** Whom to fetch from when a gossiping peer is ahead (default that peer; undefined: nobody, this time). */
  peerFor?(from: string): string | undefined
  /** With no certificate for `stallTimeoutMs` after `armStallTimer`: asks peers for newer ones (the watchdog re-arms). */
  onStall?(): void
}

export class CertificateFollower<S> {
  readonly #options: CertificateFollowerOptions<S>
  readonly #queue: ApplyQueue
  #catchingUp = false
  /** Fires when no certificate arrived for a while (see `armStallTimer`). */
  #stallTimer: TimerHandle | undefined
  #stats = { certificatesRejected: 0, certificatesFetched: 0 }

  constructor(options: CertificateFollowerOptions<S>) {
    this.#options = options
    this.#queue = options.queue ?? new ApplyQueue(options.onError)
  }

  get stats(): FollowingStats {
    return { ...this.#stats }
  }

  /**
   * A gossiped announcement of the group's certificate: the next one is forwarded only once verified, so a forged
   * certificate costs its sender a reject and travels no further. One ahead starts a catch-up.
   */
  async onGossip(data: Uint8Array, from: string): Promise<Verdict> {
    const { held, peerFor } = this.#options
    const round = held()
    const announced = readAnnouncement(data, this.#options.group, round)
    if (announced.kind === 'stale') this.#options.stale?.(data)
    if (announced.kind === 'malformed') this.#stats.certificatesRejected++
    if (announced.kind === 'ahead') void this.catchUp(peerFor === undefined ? from : peerFor(from), announced.round)
    if (announced.kind !== 'next') return announced.kind === 'malformed' ? 'reject' : 'ignore'
    const committee = this.#options.committee()
    if (committee === undefined) return 'ignore'
    const { crypto, verifier, onError } = this.#options
    const verdict = await judgeNext(crypto, announced.certificate, committee, () => held() === round, verifier, onError)
    if (verdict === 'reject') this.#stats.certificatesRejected++
    if (verdict === 'accept') {
      this.#options.heard?.(announced.certificate.result.body.round)
      this.enqueue([announced.certificate], true)
    }
    return verdict
  }

  /** Queues certificates to apply in order: `trusted` ones were checked already (or made here), the others are checked first. */
  enqueue(certificates: readonly CheckpointCertificate[], trusted: boolean): Promise<void> {
    return this.#queue.add(certificates, (certificate) => this.#apply(certificate, trusted))
  }

  async #apply(certificate: CheckpointCertificate, trusted: boolean): Promise<void> {
    const { running, held } = this.#options
    if (!running()) return
    const { round } = certificate.result.body
    if (round !== held() + 1) return
    if (!trusted) {
      const committee = this.#options.committee()
      if (committee === undefined) return
      const invalid = await checkCertificate(this.#options.crypto, certificate, committee, this.#options.verifier)
      if (invalid !== undefined) {
        this.#stats.certificatesRejected++
        return
      }
      // The check awaited: the node may have stopped meanwhile, and a stopped node applies nothing.
      if (!running() || round !== held() + 1) return
    }
    const waiting = this.#options.ready?.(certificate)
    if (waiting !== undefined && (!(await waiting) || round !== held() + 1)) return
    let next: S
    try {
      next = this.#options.advance(certificate)
    } catch (error) {
      // Signed by the right committee yet not following the group's history: refused.
      this.#stats.certificatesRejected++
      this.#options.onError?.(error)
      return
    }
    this.#options.applied(certificate, next)
  }

  /**
   * Fetches the group's certificates after the last one held up to `target` (inclusive) from `peer`, applying them in
   * order; one catch-up at a time (the next newer certificate or the watchdog starts another).
   */
  async catchUp(peer: string | undefined, target: number): Promise<void> {
    if (peer === undefined || this.#catchingUp) return
    this.#catchingUp = true
    const { network, protocol, group, timing, held, running } = this.#options
    const fetched = await catchUpFrom(
      {
        network,
        protocol,
        level: group.level,
        group: group.group,
        timeoutMs: timing.requestTimeoutMs,
        held,
        running,
        apply: (certificates) => this.enqueue(certificates, false),
      },
      peer,
      target,
    )
    this.#stats.certificatesFetched += fetched
    this.#catchingUp = false
  }

  /**
   * Progress watchdog, armed again at each applied certificate: when none arrives for `stallTimeoutMs`, `onStall`
   * asks peers for newer ones. A node that missed the gossip of the latest certificate (after a partition, say)
   * learns of it this way; without it a committee with more than t such nodes would wait for a certificate nobody
   * can make.
   */
  armStallTimer(): void {
    this.#stallTimer?.cancel()
    const { onStall } = this.#options
    if (onStall === undefined || !this.#options.running()) return
    this.#stallTimer = this.#options.clock.setTimer(this.#options.timing.stallTimeoutMs, () => {
      onStall()
      this.armStallTimer()
    })
  }

  /** Disarms the watchdog: the node stopped. */
  stop(): void {
    this.#stallTimer?.cancel()
  }

  /** Resolves once every certificate queued so far was applied (or dropped). */
  settled(): Promise<void> {
    return this.#queue.settled()
  }
}
