/**
 * Finality up to the root of the hierarchy: a path of certificates and Merkle proofs from a certificate at any
 * level to a certificate of the root group that commits to it.
 *
 * Each step is a parent certificate and the Merkle proof that the previous certificate's digest is one of its
 * children's leaves; the parent's facilitators checked the child certificate's signatures before committing to it,
 * so only the last certificate's signatures need checking — against the root committee the verifier trusts (from
 * the root's genesis and `verifyCertificateChain`). `HierarchyIndex` keeps the certified histories of the groups a
 * validator follows and builds such paths; `checkRootedAgreementProof` proves a transaction final up to the root.
 */
import { type Crypto, encodeCanonical, equalBytes, toHex } from '@constellation/crypto'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { type AgreementProof, checkAgreementProof, type CommitteeLookup } from '../finality/agreement-proof.js'
import { CertificateHistory } from '../finality/certificate-history.js'
import { closedRecord, decodeWith, deepFreeze, listUpTo } from '../codec/fields.js'
import {
  type BatchVerifier,
  type CheckpointCertificate,
  CheckpointCertificateCodec,
  checkCertificate,
  MAX_CERTIFICATE_BYTES,
  withoutLeaves,
} from '../round/certificate.js'
import { certificateDigest } from '../round/checkpoint-result.js'
import { createCommittee } from '../round/committee.js'
import type { SolarSystemGenesis } from '../round/solar-system.js'
import { type ChildGroup, childGroups } from './level-inputs.js'
import { type MerkleProof, MerkleProofCodec, merkleProof, verifyMerkleProof } from './merkle.js'

export interface FinalityStep {
  /** A certificate one level up that commits to the previous one. */
  readonly certificate: CheckpointCertificate
  readonly proof: MerkleProof
}

export interface FinalityPath {
  /** The certificate proven committed (a solar system's, say). */
  readonly certificate: CheckpointCertificate
  /** Up to a certificate of the root; empty when `certificate` is the root's own. */
  readonly steps: readonly FinalityStep[]
}

/** Levels a path climbs at most (results carry levels 0 to 16). */
const MAX_PATH_STEPS = 16

/** Largest encoded finality path accepted from the network or disk. */
export const MAX_FINALITY_PATH_BYTES = (MAX_PATH_STEPS + 1) * MAX_CERTIFICATE_BYTES

export const FinalityPathCodec = closedRecord('FinalityPath', {
  certificate: CheckpointCertificateCodec,
  steps: listUpTo(closedRecord('FinalityStep', { certificate: CheckpointCertificateCodec, proof: MerkleProofCodec }), MAX_PATH_STEPS, 'FinalitySteps'),
})

/**
 * The path without the certificates' finalised leaves: a path proves where a certificate is committed, which its
 * digest says alone (the leaves are for building agreement proofs, and can be most of a busy round's bytes).
 */
export function pathWithoutLeaves(path: FinalityPath): FinalityPath {
  return { certificate: withoutLeaves(path.certificate), steps: path.steps.map((step) => ({ ...step, certificate: withoutLeaves(step.certificate) })) }
}

export function encodeFinalityPath(path: FinalityPath): Uint8Array {
  return encodeCanonical(FinalityPathCodec.encode({ certificate: path.certificate, steps: [...path.steps] }))
}

/** Decodes a path from bytes (shape and sizes only; `checkFinalityPath` checks what it proves). */
export function decodeFinalityPath(bytes: Uint8Array): FinalityPath {
  return deepFreeze(decodeWith(FinalityPathCodec, bytes, MAX_FINALITY_PATH_BYTES, 'finality path'))
}

/** Why `path` does not prove its certificate committed by the root, or undefined when it does. */
export async function checkFinalityPath(
  crypto: Crypto,
  path: FinalityPath,
  rootCommittee: CommitteeLookup,
  verifier?: BatchVerifier,
): Promise<string | undefined> {
  let digest = certificateDigest(crypto, path.certificate.result)
  let level = path.certificate.result.body.level
  for (const [i, step] of path.steps.entries()) {
    const { body } = step.certificate.result
    if (body.level !== level + 1) return `step ${i + 1} is at level ${body.level}, not ${level + 1}`
    if (!verifyMerkleProof(crypto, digest, step.proof, body.children)) return `step ${i + 1} does not commit to the certificate below it`
    digest = certificateDigest(crypto, step.certificate.result)
    level = body.level
  }
  const top = (path.steps.at(-1)?.certificate ?? path.certificate).result.body
  const committee = rootCommittee(top.group, top.level, top.round)
  if (committee === undefined) return `no trusted committee for round ${top.round} of ${top.group} (level ${top.level})`
  const invalid = await checkCertificate(crypto, path.steps.at(-1)?.certificate ?? path.certificate, committee, verifier)
  return invalid === undefined ? undefined : `the root certificate: ${invalid}`
}

/** A transaction's agreement proof with the path that roots its certificate. */
export interface RootedAgreementProof {
  readonly proof: AgreementProof
  readonly paths: readonly FinalityPath[]
}

/**
 * Why `rooted` does not prove the transaction final up to the root, or undefined when it does: the certificate of
 * the agreement proof is rooted by a path, and the proof holds against it.
 */
export async function checkRootedAgreementProof(
  crypto: Crypto,
  rooted: RootedAgreementProof,
  rootCommittee: CommitteeLookup,
  verifier?: BatchVerifier,
): Promise<string | undefined> {
  const certified = new Map<string, CheckpointCertificate>()
  for (const path of rooted.paths) {
    const why = await checkFinalityPath(crypto, path, rootCommittee, verifier)
    if (why !== undefined) return `a finality path: ${why}`
    const { body } = path.certificate.result
    certified.set(`${body.level}/${body.group}/${body.round}`, path.certificate)
  }
  // Rooted results were checked by the level above, so their certificates' own signers stand in for their
  // committees. Two valid certificates of one result may carry different quorums of signatures (each facilitator
  // assembles its own), so the proof's copy need not be the path's: the signers of every copy the proof holds count.
  const signers = new Map<string, Set<string>>()
  for (const certificate of [rooted.proof.certificate]) {
    const { body } = certificate.result
    const key = `${body.level}/${body.group}/${body.round}`
    const rootedOne = certified.get(key)
    if (rootedOne === undefined || !equalBytes(certificateDigest(crypto, rootedOne.result), certificateDigest(crypto, certificate.result))) {
      return `the certificate of round ${body.round} of ${body.group} is not rooted`
    }
    const held = signers.get(key) ?? new Set<string>()
    for (const signature of certificate.signatures) held.add(signature.signer)
    signers.set(key, held)
  }
  const committees: CommitteeLookup = (group, level, round) => {
    const held = signers.get(`${level}/${group}/${round}`)
    return held === undefined ? undefined : createCommittee([...held])
  }
  return checkAgreementProof(crypto, rooted.proof, committees, verifier)
}

interface IndexedGroup {
  readonly history: CertificateHistory
  /** The group one level up that certifies this one, once followed. */
  parent: string | undefined
  /** For a parent: its children by group, and by key. */
  readonly children: ReadonlyMap<string, ChildGroup>
  readonly childByKey: ReadonlyMap<string, ChildGroup>
  /** For a parent: the child round each child was last certified up to. */
  readonly recorded: Map<string, number>
  /** For a parent, per own round: the (child, round) leaves its result committed, in leaf order. */
  readonly leaves: { group: string; round: number }[][]
  /** For a child: (round) -> [parent round, leaf index]. */
  readonly committedIn: Map<number, readonly [number, number]>
}

/**
 * The certified histories of groups at several levels and which parent certificate committed which child
 * certificate. Certificates are appended already verified (a node verifies them as it follows each group).
 */
export class HierarchyIndex {
  readonly #crypto: Crypto
  readonly #groups = new Map<string, IndexedGroup>()

  constructor(crypto: Crypto) {
    this.#crypto = crypto
  }

  /** Follows a group; its children (the groups one level down it certifies) must be added before or after. */
  addGroup(genesis: SolarSystemGenesis, children: readonly SolarSystemGenesis[] = []): void {
    const key = HierarchyIndex.#key(genesis.level, genesis.group)
    if (this.#groups.has(key)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `group ${genesis.group} is followed already`)
    const byGroup = childGroups(this.#crypto, genesis.level, children)
    const added: IndexedGroup = {
      history: new CertificateHistory(this.#crypto, genesis),
      parent: undefined,
      children: byGroup,
      childByKey: new Map([...byGroup.values()].map((child) => [child.keyHex, child])),
      recorded: new Map(),
      leaves: [],
      committedIn: new Map(),
    }
    this.#groups.set(key, added)
    for (const child of byGroup.values()) {
      const held = this.#groups.get(HierarchyIndex.#key(child.genesis.level, child.genesis.group))
      if (held !== undefined) held.parent = genesis.group
    }
    for (const other of this.#groups.values()) {
      if (other.history.genesis.level === genesis.level + 1 && other.children.has(genesis.group)) added.parent = other.history.genesis.group
    }
  }

  history(level: number, group: string): CertificateHistory | undefined {
    return this.#groups.get(HierarchyIndex.#key(level, group))?.history
  }

  /** Appends the next certificate of a group (verified by the caller) and indexes what it commits below. */
  append(certificate: CheckpointCertificate): void {
    const { body } = certificate.result
    const group = this.#require(body.level, body.group)
    group.history.append(this.#crypto, certificate)
    if (group.children.size === 0) return
    const leaves: { group: string; round: number }[] = []
    // Entries are in key order, and so are the leaves: the fold lays them out child by child, round by round.
    for (const entry of body.checkpoints) {
      const child = group.childByKey.get(toHex(entry.publicKey))
      if (child === undefined) continue
      const from = (group.recorded.get(child.genesis.group) ?? 0) + 1
      for (let round = from; round <= entry.sequenceNumber; round++) leaves.push({ group: child.genesis.group, round })
      group.recorded.set(child.genesis.group, entry.sequenceNumber)
    }
    group.leaves.push(leaves)
    for (const [index, leaf] of leaves.entries()) {
      this.#groups.get(HierarchyIndex.#key(body.level - 1, leaf.group))?.committedIn.set(leaf.round, [body.round, index])
    }
  }

  /** The child certificates (group, round) that round `round` of a parent group committed, in leaf order. */
  committedBy(level: number, group: string, round: number): readonly { readonly group: string; readonly round: number }[] {
    return this.#require(level, group).leaves[round - 1] ?? []
  }

  /**
   * The path from round `round` of a group up to the root, or undefined while some level has not committed it yet
   * (or a child certificate the path needs is not held here).
   */
  finalityPath(level: number, group: string, round: number): FinalityPath | undefined {
    const start = this.#groups.get(HierarchyIndex.#key(level, group))?.history.certificate(round)
    if (start === undefined) return undefined
    const steps: FinalityStep[] = []
    let current = { level, group, round }
    for (;;) {
      const indexed = this.#require(current.level, current.group)
      if (indexed.parent === undefined) return { certificate: start, steps }
      const committed = indexed.committedIn.get(current.round)
      if (committed === undefined) return undefined
      const [parentRound, index] = committed
      const parent = this.#require(current.level + 1, indexed.parent)
      const digests: Uint8Array[] = []
      for (const leaf of parent.leaves[parentRound - 1] ?? []) {
        const certificate = this.#groups.get(HierarchyIndex.#key(current.level, leaf.group))?.history.certificate(leaf.round)
        if (certificate === undefined) return undefined
        digests.push(certificateDigest(this.#crypto, certificate.result))
      }
      steps.push({ certificate: parent.history.certificate(parentRound) as CheckpointCertificate, proof: merkleProof(this.#crypto, digests, index) })
      current = { level: current.level + 1, group: indexed.parent, round: parentRound }
    }
  }

  #require(level: number, group: string): IndexedGroup {
    const held = this.#groups.get(HierarchyIndex.#key(level, group))
    if (held === undefined) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `group ${group} at level ${level} is not followed here`)
    return held
  }

  static #key(level: number, group: string): string {
    return `${level}/${group}`
  }
}
