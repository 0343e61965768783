/**
 * Following a group's certificates over the network, the parts every follower shares — `CertificateFollower` (the
 * shells' groups) and `EpochFollower` (the root): reading a gossiped announcement against the history held (stale,
 * the next one, or one ahead that calls for a catch-up), judging the next one against the committee that must have
 * signed it, catching up by certificate ranges from a peer, and applying in turn.
 */
import type { Crypto } from '@constellation/crypto'
import type { Verdict } from '@constellation/gossip'
import { type BatchVerifier, type CheckpointCertificate, checkCertificate, decodeCertificate } from '../round/certificate.js'
import type { Committee } from '../round/committee.js'
import { requestCertificateRange } from './certificate-range.js'
import type { ConsensusNetwork } from './shell-timing.js'
import { decodeCertificateAnnouncement, MAX_CERTIFICATES_PER_RESPONSE } from './wire.js'

export type Announced =
  /** Not an announcement, or a certificate that is not the announced round's: held against the sender. */
  | { readonly kind: 'malformed' }
  /** A round held already, or another group's certificate. */
  | { readonly kind: 'stale' }
  /** A round past the next: the sender holds certificates this node lacks. */
  | { readonly kind: 'ahead'; readonly round: number }
  | { readonly kind: 'next'; readonly certificate: CheckpointCertificate }

/** Reads a gossiped announcement of `group`'s certificate, for a node that holds its rounds up to `held`. */
export function readAnnouncement(data: Uint8Array, group: { readonly level: number; readonly group: string }, held: number): Announced {
  let certificate: CheckpointCertificate
  try {
    const announcement = decodeCertificateAnnouncement(data)
    // Each facilitator publishes its own copy: most are dropped here, after decoding a few bytes.
    if (announcement.round <= held) return { kind: 'stale' }
    certificate = decodeCertificate(announcement.certificate)
    if (certificate.result.body.round !== announcement.round) return { kind: 'malformed' }
  } catch {
    return { kind: 'malformed' }
  }
  const { body } = certificate.result
  if (body.group !== group.group || body.level !== group.level || body.round <= held) return { kind: 'stale' }
  return body.round > held + 1 ? { kind: 'ahead', round: body.round } : { kind: 'next', certificate }
}

/**
 * The verdict on the next certificate: 'accept' when `committee` signed it; 'reject' when it did not and the node
 * still holds the same round (only a certificate checked against the committee it names is held against its
 * sender), 'ignore' otherwise.
 */
export async function judgeNext(
  crypto: Crypto,
  certificate: CheckpointCertificate,
  committee: Committee,
  stillCurrent: () => boolean,
  verifier?: BatchVerifier,
  onError?: (error: unknown) => void,
): Promise<Verdict> {
  const invalid = await checkCertificate(crypto, certificate, committee, verifier).catch((error: unknown) => {
    onError?.(error)
    return 'the verifier failed'
  })
  if (invalid === undefined) return 'accept'
  return stillCurrent() ? 'reject' : 'ignore'
}

export interface CatchUp {
  readonly network: Pick<ConsensusNetwork, 'request' | 'limits'>
  /** The protocol the peer serves certificate ranges on. */
  readonly protocol: string
  readonly level: number
  readonly group: string
  readonly timeoutMs: number
  /** The last round held. */
  held(): number
  running(): boolean
  /** Checks and applies fetched certificates in order; resolves once they were. */
  apply(certificates: readonly CheckpointCertificate[]): Promise<void>
}

/**
 * Fetches the group's certificates after the last one held up to `target` (inclusive) from `peer`, range by range,
 * applying each range before asking for the next. Stops when the peer has nothing more, or sends nothing that
 * follows; a failed request ends the attempt (the next newer certificate or the watchdog starts another).
 * Returns how many certificates came.
 */
export async function catchUpFrom(from: CatchUp, peer: string, target: number): Promise<number> {
  let fetched = 0
  try {
    while (from.running() && from.held() < target) {
      const first = from.held() + 1
      const count = Math.min(MAX_CERTIFICATES_PER_RESPONSE, target - first + 1)
      const certificates = await requestCertificateRange(
        from.network,
        peer,
        from.protocol,
        { level: from.level, group: from.group, from: first, count },
        from.timeoutMs,
      )
      if (certificates.length === 0) break
      fetched += certificates.length
      const before = from.held()
      await from.apply(certificates)
      if (from.held() === before) break // the peer sent nothing that follows
    }
  } catch {
    // The next newer certificate from any peer, or the watchdog, starts another attempt.
  }
  return fetched
}

/**
 * Chains `apply` for each certificate after `queue`, in order: certificates are applied one at a time. One failing
 * certificate must not stop the ones after it, so each link catches (and reports) its own failure.
 */
export function applyInTurn(
  queue: Promise<void>,
  certificates: readonly CheckpointCertificate[],
  apply: (certificate: CheckpointCertificate) => Promise<void>,
  onError?: (error: unknown) => void,
): Promise<void> {
  return queue.then(async () => {
    for (const certificate of certificates) {
      try {
        await apply(certificate)
      } catch (error) {
        onError?.(error)
      }
    }
  })
}

/** Tells every listener of an applied certificate; a listener that throws is reported and the rest still hear. */
export function notifyListeners<S>(
  listeners: Iterable<(certificate: CheckpointCertificate, state: S) => void>,
  certificate: CheckpointCertificate,
  state: S,
  onError?: (error: unknown) => void,
): void {
  for (const listener of listeners) {
    try {
      listener(certificate, state)
    } catch (error) {
      onError?.(error)
    }
  }
}

/**
 * The `probe`-th validator in turn, among those connected (all of them when none is): whom a node that fell behind
 * asks next, so a validator that withholds is passed over on the next attempt.
 */
export function validatorInTurn(network: Pick<ConsensusNetwork, 'peers'>, validators: readonly string[], probe: number): string | undefined {
  const connected = new Set(network.peers())
  const candidates = validators.filter((id) => connected.has(id))
  const pool = candidates.length > 0 ? candidates : validators
  return pool[probe % Math.max(1, pool.length)]
}
