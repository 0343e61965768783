/**
 * The self-similar hierarchy on the seeded simulator: solar systems, star clusters and a root running the one round
 * machine, each level certifying the certificates of the level below. Every level keeps certifying, every parent
 * commits to exactly the child certificates that exist, and real transfers become final up to the root with a path
 * of certificates and Merkle proofs that a third party checks from the root's genesis alone.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { certificateDigest, committeesOf, verifyCertificateChain } from '../../src/index.js'
import { checkFinalityPath, checkRootedAgreementProof, decodeFinalityPath, encodeFinalityPath } from '../../src/hierarchy/finality-path.js'
import { HierarchySim } from '../support/hierarchy-sim.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

describe('a hierarchy of three levels on the simulator', () => {
  it('certifies at every level; parents commit to their children; transfers prove final up to the root', async () => {
    const sim = new HierarchySim({
      crypto,
      seed: 'levels',
      systems: 4,
      membersPerSystem: 8,
      facilitators: 4,
      fanOut: 2,
      validatorsPerGroup: 4,
      upperFacilitators: 4,
      realTransfers: true,
      proposalTimeoutMs: 300,
      upperProposalTimeoutMs: 200,
    })
    expect(sim.groups.map((g) => `${g.level}:${g.genesis.group}`)).toEqual(['0:sol-0', '0:sol-1', '0:sol-2', '0:sol-3', '1:L1-0', '1:L1-1', '2:L2-0'])
    sim.start()
    // Until every group has certified 6 rounds: the root certifies on its timer too, so its round 6 alone does not
    // mean every group below got there.
    sim.run(60_000, () => sim.groups.every((group) => group.state.round >= 6))
    expect(sim.errors).toEqual([])
    expect(sim.root.state.round).toBeGreaterThanOrEqual(6)
    for (const group of sim.groups) expect(group.state.round, group.genesis.group).toBeGreaterThanOrEqual(6)

    // Each parent's results commit, child by child, to consecutive certificates that the child's history holds.
    for (const parent of sim.groups.filter((g) => g.level > 0)) {
      const seen = new Map<string, number>()
      for (let round = 1; round <= parent.state.round; round++) {
        for (const leaf of sim.index.committedBy(parent.level, parent.genesis.group, round)) {
          expect(leaf.round).toBe((seen.get(leaf.group) ?? 0) + 1)
          seen.set(leaf.group, leaf.round)
        }
      }
      for (const child of parent.children) expect(seen.get(child.genesis.group) ?? 0, child.genesis.group).toBeGreaterThanOrEqual(3)
    }

    // A third party holding only the root's genesis rebuilds the root's history and checks finality from it.
    const root = sim.index.history(sim.root.level, sim.root.genesis.group)!
    const trusted = await verifyCertificateChain(
      crypto,
      sim.root.genesis,
      Array.from({ length: root.round }, (_, i) => root.certificate(i + 1)!),
    )
    let final = 0
    for (const transfer of sim.transfers) {
      const rooted = sim.rootedProof(transfer)
      if (rooted === undefined) continue
      expect(await checkRootedAgreementProof(crypto, rooted, committeesOf(trusted))).toBeUndefined()
      final++
    }
    expect(final).toBeGreaterThanOrEqual(32)

    // A path must fail when any link is wrong: another leaf, a forged parent, or an untrusted root.
    const path = sim.index.finalityPath(0, 'sol-1', 2)!
    expect(path.steps.map((step) => step.certificate.result.body.level)).toEqual([1, 2])
    expect(await checkFinalityPath(crypto, path, committeesOf(trusted))).toBeUndefined()
    // It travels: the decoded copy proves the same, and a flipped byte in its Merkle proof does not.
    const bytes = encodeFinalityPath(path)
    expect(await checkFinalityPath(crypto, decodeFinalityPath(bytes), committeesOf(trusted))).toBeUndefined()
    const tampered = decodeFinalityPath(bytes)
    const flipped = {
      ...tampered,
      steps: tampered.steps.map((step, i) =>
        i === 0 && step.proof.siblings.length > 0
          ? {
              ...step,
              proof: { ...step.proof, siblings: [Uint8Array.from(step.proof.siblings[0]!, (x, j) => (j === 0 ? x ^ 1 : x)), ...step.proof.siblings.slice(1)] },
            }
          : step,
      ),
    }
    expect(await checkFinalityPath(crypto, flipped, committeesOf(trusted))).toMatch(/does not commit/)
    const other = sim.index.finalityPath(0, 'sol-0', 2)!
    expect(await checkFinalityPath(crypto, { ...path, certificate: other.certificate }, committeesOf(trusted))).toMatch(/does not commit/)
    const [first, second] = path.steps as [(typeof path.steps)[0], (typeof path.steps)[0]]
    const forgedParent = {
      ...first,
      certificate: { ...first.certificate, result: { ...first.certificate.result, body: { ...first.certificate.result.body, round: 99 } } },
    }
    expect(await checkFinalityPath(crypto, { ...path, steps: [forgedParent, second] }, committeesOf(trusted))).toMatch(/does not commit/)
    expect(await checkFinalityPath(crypto, { ...path, steps: [first] }, committeesOf(trusted))).toMatch(/no trusted committee/)
    expect(toHex(certificateDigest(crypto, path.certificate.result))).toBe(
      toHex(certificateDigest(crypto, sim.index.history(0, 'sol-1')!.certificate(2)!.result)),
    )
  }, 60_000)
})
