/**
 * A solar system's certified history: its certificates from the genesis on, each checked against the committee
 * the previous one handed over, and an index of every member checkpoint they certify.
 *
 * Anyone holding the genesis can rebuild it from certificates alone (`verifyCertificateChain`): the genesis names
 * round 1's facilitators, and each certificate's signed `nextFacilitators` names the next round's. Finality checks
 * ask it which certified checkpoints enclose a position of a chain.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { type BatchVerifier, type CheckpointCertificate, verifyCertificate, withoutLeaves } from '../round/certificate.js'
import { type CheckpointEntry, resultHash } from '../round/checkpoint-result.js'
import { type Committee, createCommittee } from '../round/committee.js'
import { genesisHashOf, type SolarSystemGenesis } from '../round/solar-system.js'

export interface CertifiedCheckpointRef {
  readonly entry: CheckpointEntry
  /** The round whose certificate includes it. */
  readonly round: number
}

export interface EnclosingCheckpoints {
  readonly opening: CertifiedCheckpointRef
  readonly closing: CertifiedCheckpointRef
}

export class CertificateHistory {
  readonly genesis: SolarSystemGenesis
  readonly genesisHash: Uint8Array
  readonly #certificates: CheckpointCertificate[] = []
  readonly #hashes: Uint8Array[] = []
  /** Per member (hex): certified checkpoints in ascending sequence order. */
  readonly #byMember = new Map<string, CertifiedCheckpointRef[]>()

  constructor(crypto: Crypto, genesis: SolarSystemGenesis) {
    this.genesis = genesis
    this.genesisHash = genesisHashOf(crypto, genesis)
  }

  /** The last certified round (0 before the first). */
  get round(): number {
    return this.#certificates.length
  }

  certificate(round: number): CheckpointCertificate | undefined {
    return this.#certificates[round - 1]
  }

  latest(): CheckpointCertificate | undefined {
    return this.#certificates.at(-1)
  }

  /** `h_round` (the genesis hash for round 0). */
  resultHashOf(round: number): Uint8Array | undefined {
    return round === 0 ? this.genesisHash : this.#hashes[round - 1]
  }

  /** The facilitators that sign round `round`'s certificate. */
  committeeFor(round: number): Committee | undefined {
    if (round === 1) return createCommittee(this.genesis.facilitators)
    const previous = this.certificate(round - 1)
    return previous === undefined ? undefined : createCommittee(previous.result.nextFacilitators)
  }

  /**
   * Appends the next round's certificate. The caller has verified it against `committeeFor(round)` (see
   * `verifyCertificateChain` for a history built from untrusted certificates).
   */
  append(crypto: Crypto, certificate: CheckpointCertificate): void {
    const { body } = certificate.result
    if (body.round !== this.round + 1 || body.group !== this.genesis.group || body.level !== this.genesis.level) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_INPUT,
        `expected round ${this.round + 1} of ${this.genesis.group}, got round ${body.round} of ${body.group}`,
      )
    }
    const previous = this.resultHashOf(this.round) as Uint8Array
    if (toHex(body.previousResultHash) !== toHex(previous)) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_CERTIFICATE, `round ${body.round} does not extend round ${this.round}`)
    }
    // The finalised leaves are not kept: the result commits to them, and a history lives as long as its node.
    this.#certificates.push(withoutLeaves(certificate))
    this.#hashes.push(resultHash(crypto, body))
    for (const entry of body.checkpoints) {
      const member = toHex(entry.publicKey)
      const list = this.#byMember.get(member)
      const ref = { entry, round: body.round }
      if (list === undefined) this.#byMember.set(member, [ref])
      else list.push(ref) // a member's certified checkpoints only move forward (the fold refuses older ones)
    }
  }

  /** The member's certified checkpoints, ascending. */
  checkpointsOf(member: string): readonly CertifiedCheckpointRef[] {
    return this.#byMember.get(member) ?? []
  }

  /** The nearest certified checkpoints before and after `sequenceNumber` in `member`'s chain, if both exist. */
  enclosing(member: string, sequenceNumber: number): EnclosingCheckpoints | undefined {
    const list = this.#byMember.get(member)
    if (list === undefined) return undefined
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((list[mid] as CertifiedCheckpointRef).entry.sequenceNumber < sequenceNumber) lo = mid + 1
      else hi = mid
    }
    const opening = list[lo - 1]
    const closing = list[lo]?.entry.sequenceNumber === sequenceNumber ? list[lo + 1] : list[lo]
    return opening === undefined || closing === undefined ? undefined : { opening, closing }
  }
}

/** Rebuilds a history from untrusted certificates, checking each against the committee the chain hands over. */
export async function verifyCertificateChain(
  crypto: Crypto,
  genesis: SolarSystemGenesis,
  certificates: readonly CheckpointCertificate[],
  verifier?: BatchVerifier,
): Promise<CertificateHistory> {
  const history = new CertificateHistory(crypto, genesis)
  for (const certificate of certificates) {
    const committee = history.committeeFor(history.round + 1) as Committee
    await verifyCertificate(crypto, certificate, committee, verifier)
    history.append(crypto, certificate)
  }
  return history
}
