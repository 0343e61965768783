/**
 * Following another solar system: a node that is not a member keeps that system's certified state from its
 * certificates alone — gossiped on the system's certificate topic, checked against the committee each previous one
 * named (the genesis's for round 1), gaps fetched as certificate ranges from its members — without taking part in
 * its rounds, checkpointing or serving anything.
 *
 * What it is for: transfers across solar systems. A counterparty checks a proposer from another system against that
 * system's certified anchors (`anchors()`, as its own system's), and once the proposer's system finalised the
 * transfer it builds the agreement proof from the certificate and leaves it keeps (`agreementProof`), which a root
 * validator's finality path then roots (see `CrossSystemOptions.rootedProofOf`). It costs one certificate check per
 * round of the followed system: no stretch, no round message.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import type { Clock } from '@constellation/gossip'
import type { CertifiedAnchors } from '@constellation/trustchain'
import type { AgreementProof, TransactionHalves } from '../finality/agreement-proof.js'
import { CertificateHistory } from '../finality/certificate-history.js'
import type { MemberSchedule } from '../membership/member-schedule.js'
import type { BatchVerifier, CheckpointCertificate } from '../round/certificate.js'
import { resultHash } from '../round/checkpoint-result.js'
import {
  anchorOf,
  applyResult,
  genesisState,
  scheduleMembers,
  type SolarSystemGenesis,
  type SolarSystemRules,
  type SolarSystemState,
} from '../round/solar-system.js'
import { CertificateFollower } from './certificate-follower.js'
import { FinalisedRounds } from './finalised-rounds.js'
import { DEFAULT_TIMING, type ConsensusNetwork, type SolarSystemTiming } from './shell-timing.js'
import type { CertificateListener, FinalisedRound } from './shell-types.js'
import { CERTIFICATES_PROTOCOL, certificateTopic, levelProtocols } from './wire.js'

export interface SolarSystemFollowerOptions {
  readonly crypto: Crypto
  readonly network: ConsensusNetwork
  readonly clock: Clock
  /**
   * The followed group's genesis and rules: a solar system, or a group above (a node follows the root this way to
   * check rooted proofs; its validators serve its ranges on `levelProtocols(level).certificates`).
   */
  readonly genesis: SolarSystemGenesis
  readonly rules: SolarSystemRules
  readonly verifier?: BatchVerifier
  readonly timing?: Partial<Pick<SolarSystemTiming, 'requestTimeoutMs' | 'stallTimeoutMs'>>
  /** Rounds whose finalised leaves are kept for agreement proofs (default 256). */
  readonly finalityWindowRounds?: number
  /** The followed system's epoch changes, when its membership changes (as `SolarSystemNodeOptions.epochs`). */
  readonly epochs?: MemberSchedule
  readonly onError?: (error: unknown) => void
}

export class SolarSystemFollower {
  readonly history: CertificateHistory
  readonly #options: SolarSystemFollowerOptions
  readonly #follower: CertificateFollower<SolarSystemState>
  readonly #finalised: FinalisedRounds
  readonly #listeners = new Set<CertificateListener>()
  #state: SolarSystemState
  #running = false
  #unsubscribe: (() => void) | undefined
  #probes = 0

  constructor(options: SolarSystemFollowerOptions) {
    this.#options = options
    const { crypto, network, clock, genesis, rules, verifier, onError } = options
    this.history = new CertificateHistory(crypto, genesis)
    this.#state = this.#scheduled(genesisState(crypto, genesis, rules))
    this.#finalised = new FinalisedRounds(crypto, options.finalityWindowRounds ?? 256, onError)
    const timing = { ...DEFAULT_TIMING, ...options.timing }
    this.#follower = new CertificateFollower<SolarSystemState>({
      crypto,
      network,
      clock,
      group: genesis,
      protocol: genesis.level === 0 ? CERTIFICATES_PROTOCOL : levelProtocols(genesis.level).certificates,
      timing,
      verifier,
      onError,
      running: () => this.#running,
      held: () => this.#state.round,
      committee: () => this.#state.committee,
      ready: (certificate) => {
        const waiting = options.epochs?.untilSettled?.(certificate.result.body.round + 2)
        return waiting === undefined ? undefined : waiting.then(() => this.#running)
      },
      advance: (certificate) => applyResult(rules, this.#state, certificate.result, resultHash(crypto, certificate.result.body)),
      applied: (certificate, next) => this.#applied(certificate, next),
      // Its members in turn: they serve their system's certificate ranges.
      onStall: () => {
        const members = [...this.#state.members].sort()
        const peer = members[this.#probes++ % Math.max(1, members.length)]
        if (peer !== undefined) void this.#follower.catchUp(peer, Number.POSITIVE_INFINITY)
      },
    })
  }

  /** The followed group's genesis. */
  get genesis(): SolarSystemGenesis {
    return this.#options.genesis
  }

  /** The followed system's state after the last round applied. */
  get state(): SolarSystemState {
    return this.#state
  }

  /** Its members' certified anchors (a counterparty checks a proposer from this system against them). */
  anchors(): CertifiedAnchors {
    return { round: () => this.#state.round, anchorOf: (publicKey) => anchorOf(this.#state, toHex(publicKey)) }
  }

  /** The round of this system that finalised the transaction, within the rounds kept. */
  finalisedIn(transaction: TransactionHalves): number | undefined {
    return this.#finalised.finalisedIn(transaction)
  }

  /** The transaction's agreement proof from this system's certificate and leaves (NOT_FINAL until it finalised it). */
  agreementProof(transaction: TransactionHalves): AgreementProof {
    return this.#finalised.agreementProof(transaction)
  }

  /** A recent round's certificate with its finalised leaves, if still kept. */
  finalisedRound(round: number): FinalisedRound | undefined {
    return this.#finalised.round(round)
  }

  onCertificate(listener: CertificateListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    const { network, genesis } = this.#options
    this.#unsubscribe = network.subscribe(certificateTopic(genesis.level, genesis.group), (message) => this.#follower.onGossip(message.data, message.from))
    this.#follower.armStallTimer()
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#unsubscribe?.()
    this.#follower.stop()
    await this.#follower.settled()
  }

  #applied(certificate: CheckpointCertificate, next: SolarSystemState): void {
    this.history.append(this.#options.crypto, certificate)
    this.#state = this.#scheduled(next)
    this.#finalised.notify(this.#finalised.keep(certificate))
    this.#follower.armStallTimer()
    for (const listener of this.#listeners) {
      try {
        listener(certificate, this.#state)
      } catch (error) {
        this.#options.onError?.(error)
      }
    }
  }

  #scheduled(state: SolarSystemState): SolarSystemState {
    const members = this.#options.epochs?.membersFrom(state.round + 2)
    return members === undefined ? state : scheduleMembers(state, members)
  }
}

export function createSolarSystemFollower(options: SolarSystemFollowerOptions): SolarSystemFollower {
  return new SolarSystemFollower(options)
}
