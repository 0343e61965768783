/**
 * What a solar-system node keeps of the transfers its applied rounds finalised: the recent rounds' certificates with
 * their finalised leaves and which round finalised each leaf, within a window of rounds. From them it answers
 * whether a transfer is final, builds its agreement proof, and serves catching-up members the leaves.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { type AgreementProof, buildAgreementProof, type TransactionHalves, transactionLeaf } from '../finality/agreement-proof.js'
import type { CheckpointCertificate } from '../round/certificate.js'
import type { FinalisedRound } from './shell-types.js'

export class FinalisedRounds {
  readonly #crypto: Crypto
  readonly #windowRounds: number
  readonly #onError: ((error: unknown) => void) | undefined
  /** The recent rounds' certificates with their finalised leaves, and which round finalised each leaf (hex). */
  readonly #recent = new Map<number, FinalisedRound>()
  readonly #finalisedIn = new Map<string, number>()
  readonly #listeners = new Set<(finalised: FinalisedRound) => void>()

  constructor(crypto: Crypto, windowRounds: number, onError?: (error: unknown) => void) {
    this.#crypto = crypto
    this.#windowRounds = windowRounds
    this.#onError = onError
  }

  /** Calls `listener` with each round's finalised transfers as the node applies it (see `notify`). */
  onFinalised(listener: (finalised: FinalisedRound) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The round that finalised the transaction, when it is within the recent rounds kept. */
  finalisedIn(transaction: TransactionHalves): number | undefined {
    return this.#finalisedIn.get(toHex(transactionLeaf(this.#crypto, transaction)))
  }

  /** A recent round's certificate with its finalised leaves, if still kept. */
  round(round: number): FinalisedRound | undefined {
    return this.#recent.get(round)
  }

  /** See `SolarSystemNode.agreementProof`. */
  agreementProof(
    transaction: TransactionHalves,
    from?: { readonly certificate: CheckpointCertificate; readonly leaves: readonly Uint8Array[] },
  ): AgreementProof {
    if (from !== undefined) return buildAgreementProof(this.#crypto, transaction, from.certificate, from.leaves)
    const round = this.finalisedIn(transaction)
    const held = round === undefined ? undefined : this.#recent.get(round)
    if (held === undefined) throw new ConsensusError(ConsensusErrorCode.NOT_FINAL, 'the transaction is not among the transfers this node saw finalised', {})
    return buildAgreementProof(this.#crypto, transaction, held.certificate, held.leaves)
  }

  /** Keeps an applied round's finalised leaves, and forgets the round that fell out of the window. */
  keep(certificate: CheckpointCertificate): FinalisedRound {
    const { round } = certificate.result.body
    const leaves = certificate.finalised ?? []
    const finalised: FinalisedRound = { round, certificate, leaves }
    this.#recent.set(round, finalised)
    for (const leaf of leaves) this.#finalisedIn.set(toHex(leaf), round)
    const old = this.#recent.get(round - this.#windowRounds)
    if (old !== undefined) {
      this.#recent.delete(round - this.#windowRounds)
      for (const leaf of old.leaves) {
        const key = toHex(leaf)
        if (this.#finalisedIn.get(key) === round - this.#windowRounds) this.#finalisedIn.delete(key)
      }
    }
    return finalised
  }

  /** Tells the listeners of a kept round; one that throws is reported and the rest still hear. */
  notify(finalised: FinalisedRound): void {
    for (const listener of this.#listeners) {
      try {
        listener(finalised)
      } catch (error) {
        this.#onError?.(error)
      }
    }
  }
}
