/**
 * What a facilitator above level 0 proposes for one child group: the run of the child's certificates after the
 * last one its group certified, anchored at that last result (see `levelInputs`), from the child's certified
 * history as this node followed it. Pure: the same state and history give the same input on every validator.
 */
import type { CertificateHistory } from '../finality/certificate-history.js'
import type { CheckpointCertificate } from '../round/certificate.js'
import type { SolarSystemState } from '../round/solar-system.js'
import type { ChildCertificates, ChildGroup } from './level-inputs.js'

/**
 * The child's certificates from the round after the one `seed` recorded for it up to `upTo` (default: all this
 * history holds), at most `max`; undefined when there is nothing new.
 */
export function childRun(seed: SolarSystemState, child: ChildGroup, history: CertificateHistory, max: number, upTo = Number.POSITIVE_INFINITY): ChildCertificates | undefined {
  const recorded = seed.lastCheckpoints.get(child.keyHex)?.entry.sequenceNumber ?? 0
  const last = Math.min(upTo, history.round, recorded + max)
  if (last <= recorded) return undefined
  const certificates: CheckpointCertificate[] = []
  for (let round = recorded + 1; round <= last; round++) certificates.push(history.certificate(round) as CheckpointCertificate)
  const group = child.genesis.group
  const anchor = recorded === 0 ? undefined : (history.certificate(recorded) as CheckpointCertificate | undefined)?.result
  if (recorded > 0 && anchor === undefined) return undefined
  return anchor === undefined ? { kind: 'child', group, certificates } : { kind: 'child', group, anchor, certificates }
}
