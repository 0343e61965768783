/**
 * How a checkpoint certificate appears in the API's JSON: the round it certifies, its result hash (`h_r`, what
 * members record in their next checkpoint and the next election is drawn from), who signed it, the checkpoints and
 * faults it commits to, the facilitators it hands the next round to, and its canonical encoding in hex so that a
 * client can verify the signatures against the previous round's committee itself.
 */
import { type CheckpointCertificate, encodeCertificate, resultHash } from '@constellation/consensus'
import { type Crypto, toHex } from '@constellation/crypto'

export interface CertificateView {
  readonly round: number
  readonly level: number
  readonly group: string
  readonly resultHash: string
  readonly previousResultHash: string
  readonly signers: readonly string[]
  readonly checkpoints: readonly { readonly publicKey: string; readonly sequenceNumber: number; readonly hash: string }[]
  readonly faults: readonly { readonly memeId: string; readonly kind: string }[]
  /** Facilitators elected for round `round + 1`. */
  readonly nextFacilitators: readonly string[]
  readonly hex: string
}

export function certificateView(crypto: Crypto, certificate: CheckpointCertificate): CertificateView {
  const { body, nextFacilitators } = certificate.result
  return {
    round: body.round,
    level: body.level,
    group: body.group,
    resultHash: toHex(resultHash(crypto, body)),
    previousResultHash: toHex(body.previousResultHash),
    signers: certificate.signatures.map((share) => share.signer),
    checkpoints: body.checkpoints.map((entry) => ({ publicKey: toHex(entry.publicKey), sequenceNumber: entry.sequenceNumber, hash: toHex(entry.hash) })),
    faults: body.faults.map((fault) => ({ memeId: fault.memeId, kind: fault.kind })),
    nextFacilitators: [...nextFacilitators],
    hex: toHex(encodeCertificate(certificate)),
  }
}
