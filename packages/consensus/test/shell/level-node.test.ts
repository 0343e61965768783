/**
 * The validators' shell above level 0 on the simulator, with the real shells at both levels: four solar systems of
 * `SolarSystemNode`s and a star cluster of `LevelNode` validators (each also a solar-system member) on one
 * `SimNetwork`. Every level certifies; a transaction final in its solar system gets a rooted agreement proof
 * fetched from a validator over request/response and checked from the cluster's genesis alone.
 */
import { toHex } from '@constellation/crypto'
import type { Transaction } from '@constellation/trustchain'
import { afterEach, describe, expect, it } from 'vitest'
import { checkRootedAgreementProof, committeesOf, fetchCertifiedHistory, fetchRootedAgreementProof } from '../../src/index.js'
import { type ClusterSim, createClusterSim } from '../support/cluster-sim.js'

let sim: ClusterSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

describe('validators above level 0 (LevelNode)', () => {
  it('certify the solar systems’ certificates, and serve a rooted agreement proof that checks from the root genesis', async () => {
    sim = await createClusterSim({ seed: 'level-node', systems: 4, membersPerSystem: 4, facilitators: 4, validators: 4 })
    const s = sim
    await s.runUntilClusterRound(2)
    const [alice, bob] = s.systems[1]!.members as [(typeof s.systems)[0]['members'][0], (typeof s.systems)[0]['members'][0]]
    const tx: Transaction = await s.net.runUntil(alice.chain.propose(bob.chain.publicKey, { transfer: 7 }))
    const proof = await s.net.runUntil(alice.consensus.waitForFinality(tx))
    // A client (Bob's node) asks a validator for the paths of the proof's certificates until the cluster has committed them.
    const validator = s.validators[2]!
    let rooted = await s.net.runUntil(fetchRootedAgreementProof(s.crypto, bob.sim, validator.member.id, proof, { level: 1 }))
    for (let round = validator.level.history.round + 1; rooted === undefined && round < 30; round++) {
      await s.runUntilClusterRound(round)
      rooted = await s.net.runUntil(fetchRootedAgreementProof(s.crypto, bob.sim, validator.member.id, proof, { level: 1 }))
    }
    expect(rooted).toBeDefined()
    // The client trusts only the cluster's genesis: it rebuilds the cluster's history from another validator.
    const clusterHistory = await s.net.runUntil(fetchCertifiedHistory(s.crypto, bob.sim, s.validators[0]!.member.id, s.cluster, { level: 1 }))
    expect(await checkRootedAgreementProof(s.crypto, rooted!, committeesOf(clusterHistory))).toBeUndefined()

    // Every validator holds the same history of the cluster and of each solar system.
    const top = Math.min(...s.validators.map((v) => v.level.history.round))
    expect(top).toBeGreaterThanOrEqual(2)
    const hashes = (v: (typeof s.validators)[0]) => Array.from({ length: top }, (_, i) => toHex(v.level.history.resultHashOf(i + 1)!))
    for (const v of s.validators) expect(hashes(v)).toEqual(hashes(s.validators[0]!))
    // Each cluster certificate committed solar-system certificates, and every system was certified by the cluster.
    const committed = new Set<string>()
    for (let round = 1; round <= top; round++) for (const leaf of validator.level.index.committedBy(1, 'cluster-0', round)) committed.add(leaf.group)
    expect([...committed].sort()).toEqual(['sol-0', 'sol-1', 'sol-2', 'sol-3'])
    expect(validator.level.stats.pathsServed).toBeGreaterThan(0)
    expect(s.errors).toEqual([])
  })
})
