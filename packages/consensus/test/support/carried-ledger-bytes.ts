/**
 * The bytes the counted transfers' ledger entries add to a level-0 certificate as a parent carries it. `HierarchySim`
 * counts transfers without building them, so its certificates do not hold these entries; they are modeled here, once
 * per certified round, and read wherever the real bytes would count: in a star cluster's proposals (each child run's
 * anchor result and certificates, against the proposal bound) and in the byte bound of the runs themselves
 * (`childRun`'s `certificateBytes`) — so the simulated cluster proposes and selects what `LevelNode` would with
 * certificates of that size.
 */
import { type CheckpointCertificate, encodeCertificate } from '../../src/index.js'
import type { ChildCertificates } from '../../src/hierarchy/level-inputs.js'

export class CarriedLedgerBytes {
  /** By `group/round`. */
  readonly #bytes = new Map<string, number>()

  /** Records what the counted transfers add to the certificate of `group`'s `round`. */
  record(group: string, round: number, bytes: number): void {
    if (!(Number.isFinite(bytes) && bytes >= 0)) throw new RangeError(`ledger bytes of ${group}/${round} must be a finite count >= 0, got ${bytes}`)
    this.#bytes.set(`${group}/${round}`, bytes)
  }

  /** What the counted transfers add to the certificate (or result) of `group`'s `round`: 0 when none were counted. */
  of(group: string, round: number): number {
    return this.#bytes.get(`${group}/${round}`) ?? 0
  }

  /** A child certificate's size as its parent carries it: its encoding plus the counted transfers' entries. */
  certificateBytes(certificate: CheckpointCertificate): number {
    const { group, round } = certificate.result.body
    return encodeCertificate(certificate).length + this.of(group, round)
  }

  /** What the counted transfers add to a child run in a proposal: its anchor result's entries and its certificates'. */
  runPadding(run: ChildCertificates): number {
    const anchor = run.anchor === undefined ? 0 : this.of(run.group, run.anchor.body.round)
    return run.certificates.reduce((sum, certificate) => sum + this.of(run.group, certificate.result.body.round), anchor)
  }
}
