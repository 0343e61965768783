/**
 * Certificate ranges over request/response, both sides: a node that keeps a group's certified history answers a
 * `CertificateRangeRequest` with the certificates it holds from `from` on (within one network message), and a node
 * that fell behind asks a peer for the stretch it missed. Solar-system members serve their own group; validators
 * serve every group they follow (their children and their own level). What comes back is only decoded here, never
 * trusted: the caller checks every certificate against the committee the one before it named.
 */
import type { ConsensusNetwork } from './shell-timing.js'
import type { CertificateHistory } from '../finality/certificate-history.js'
import { type CheckpointCertificate, decodeCertificate, encodeCertificate } from '../round/certificate.js'
import { type CertificateRangeRequest, decodeCertificateRange, encodeCertificateRange, encodeCertificateRangeRequest } from './wire.js'

/** Bytes of a range answer's own framing, and per certificate, generously. */
const RANGE_OVERHEAD_BYTES = 16
const PER_CERTIFICATE_BYTES = 8

/**
 * The answer to `request` from `history` (undefined: a group not kept here, answered with no certificates). `full`
 * gives a round's certificate with its finalised leaves when they are still held (a history keeps none).
 */
export function serveCertificateRange(
  history: CertificateHistory | undefined,
  request: CertificateRangeRequest,
  maxBytes: number,
  full?: (round: number) => CheckpointCertificate | undefined,
): Uint8Array {
  const out: Uint8Array[] = []
  if (history !== undefined && history.genesis.level === request.level && history.genesis.group === request.group) {
    let size = RANGE_OVERHEAD_BYTES
    for (let round = request.from; round < request.from + request.count; round++) {
      const certificate = full?.(round) ?? history.certificate(round)
      if (certificate === undefined) break
      const bytes = encodeCertificate(certificate)
      size += bytes.length + PER_CERTIFICATE_BYTES
      if (size > maxBytes) break
      out.push(bytes)
    }
  }
  return encodeCertificateRange(out)
}

/** Asks `peer` for a range of certificates over `protocol`; decoded (shape and sizes), not verified. */
export async function requestCertificateRange(
  network: Pick<ConsensusNetwork, 'request' | 'limits'>,
  peer: string,
  protocol: string,
  request: CertificateRangeRequest,
  timeoutMs: number,
): Promise<CheckpointCertificate[]> {
  const answer = await network.request(peer, protocol, encodeCertificateRangeRequest(request), { timeout: timeoutMs })
  return decodeCertificateRange(answer, network.limits.maxMessageBytes).map((bytes) => decodeCertificate(bytes))
}
