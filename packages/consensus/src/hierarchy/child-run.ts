/**
 * What a facilitator above level 0 proposes for one child group: the run of the child's certificates after the
 * last one its group certified, anchored at that last result (see `levelInputs`), from the child's certified
 * history as this node followed it. Pure: the same state and history give the same input on every validator.
 */
import type { CertificateHistory } from '../finality/certificate-history.js'
import { type CheckpointCertificate, encodeCertificate } from '../round/certificate.js'
import type { SolarSystemState } from '../round/solar-system.js'
import type { ChildCertificates, ChildGroup } from './level-inputs.js'

/**
 * The bytes of a parent's proposal one child's run may take: three quarters of the proposal bound shared by the
 * children (the anchor results' slack, the framing and membership requests take the rest).
 */
export function childRunBytes(maxProposalBytes: number, children: number): number {
  return Math.floor((maxProposalBytes * 3) / (4 * Math.max(1, children)))
}

/** A certificate's size as a run counts it: its encoding. */
const encodedBytes = (certificate: CheckpointCertificate): number => encodeCertificate(certificate).length

/**
 * The child's certificates from the round after the one `seed` recorded for it up to `upTo` (default: all this
 * history holds), at most `max` of them and at most `maxBytes` of certificates (but always the first: a run that
 * could never fit would never be committed, and the child's run would only grow); undefined when there is nothing
 * new. The byte bound keeps a busy child — whose certificates carry its rounds' ledgers — committed a few rounds at a
 * time instead of falling out of every proposal once its backlog outgrew one. `certificateBytes` measures a
 * certificate (default: its encoding; a simulator that charges bytes its certificates do not hold passes its model).
 */
export function childRun(
  seed: SolarSystemState,
  child: ChildGroup,
  history: CertificateHistory,
  max: number,
  upTo = Number.POSITIVE_INFINITY,
  maxBytes = Number.POSITIVE_INFINITY,
  certificateBytes: (certificate: CheckpointCertificate) => number = encodedBytes,
): ChildCertificates | undefined {
  const recorded = seed.lastCheckpoints.get(child.keyHex)?.entry.sequenceNumber ?? 0
  const last = Math.min(upTo, history.round, recorded + max)
  if (last <= recorded) return undefined
  const certificates: CheckpointCertificate[] = []
  // The anchor result travels with the run: counted by its certificate's size, an upper bound.
  const anchorCertificate = recorded === 0 ? undefined : history.certificate(recorded)
  let bytes = anchorCertificate === undefined ? 0 : certificateBytes(anchorCertificate)
  for (let round = recorded + 1; round <= last; round++) {
    const certificate = history.certificate(round) as CheckpointCertificate
    bytes += certificateBytes(certificate)
    if (certificates.length > 0 && bytes > maxBytes) break
    certificates.push(certificate)
  }
  const group = child.genesis.group
  const anchor = anchorCertificate?.result
  if (recorded > 0 && anchor === undefined) return undefined
  return anchor === undefined ? { kind: 'child', group, certificates } : { kind: 'child', group, anchor, certificates }
}
