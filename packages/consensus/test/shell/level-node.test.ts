/**
 * The validators' shell above level 0 on the simulator, with the real shells at both levels: four solar systems of
 * `SolarSystemNode`s and a star cluster of `LevelNode` validators (each also a solar-system member) on one
 * `SimNetwork`. Every level certifies; a transaction final in its solar system gets a rooted agreement proof
 * fetched from a validator over request/response and checked from the cluster's genesis alone; a validator that
 * starts late syncs the history from the others and joins in; a Byzantine validator's forgeries are refused.
 */
import { encodeCanonical, toHex } from '@constellation/crypto'
import { GossipErrorCode, isGossipError, type Random } from '@constellation/gossip'
import type { TransferOutcome } from '@constellation/trustchain'
import { afterEach, describe, expect, it } from 'vitest'
import {
  certificateDigest,
  certificateTopic,
  type CheckpointCertificate,
  checkRootedAgreementProof,
  committeesOf,
  ConsensusErrorCode,
  type ConsensusNetwork,
  decodeCertificate,
  encodeCertificate,
  fetchCertifiedHistory,
  fetchRootedAgreementProof,
  isConsensusError,
  levelProtocols,
  resultHash,
  signMembershipRequest,
  submitMembershipRequest,
} from '../../src/index.js'
import { genesisHashOf, nextResult } from '../../src/round.js'
import { applyMembershipRound, certifiedRequests, emptyAssignment, indexMembershipRequests } from '../../src/hierarchy.js'
import { signResult } from '../../src/round/certificate.js'
import {
  decodeCertificateRange,
  decodeFinalityPathAnswer,
  encodeCertificateAnnouncement,
  encodeCertificateRange,
  encodeFinalityPathRequest,
} from '../../src/shell/wire.js'
import { type ClusterSim, type ClusterValidator, createClusterSim } from '../support/cluster-sim.js'
import { rewriteRoundFrames, SIM_BALANCE } from '../support/solar-system-sim.js'
import { SHELL_MEMBERSHIP } from '../support/membership-rules.js'

let sim: ClusterSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

describe('validators above level 0 (LevelNode)', () => {
  it('certify the solar systems’ certificates, and serve a rooted agreement proof that checks from the root genesis', async () => {
    sim = await createClusterSim({ seed: 'level-node', systems: 4, membersPerSystem: 4, facilitators: 4, validators: 4, balance: SIM_BALANCE })
    const s = sim
    await s.runUntilClusterRound(2)
    const [alice, bob] = s.systems[1]!.members as [(typeof s.systems)[0]['members'][0], (typeof s.systems)[0]['members'][0]]
    const [outcome] = await s.net.runUntil(alice.chain.transfer([{ to: bob.chain.publicKey, amount: 7 }]))
    expect(outcome?.status).toBe('agreed')
    const { proposal, agreement } = outcome as Extract<TransferOutcome, { status: 'agreed' }>
    const tx = { proposal, agreement }
    // Final when a round of the solar system finalises it (both halves certified): its leaf comes with that certificate.
    const finalised = new Promise<void>((resolve) => {
      const check = () => {
        if (alice.consensus.finalisedIn(tx) === undefined) return
        off()
        resolve()
      }
      const off = alice.consensus.onFinalised(check)
      check()
    })
    await s.net.runUntil(finalised)
    const proof = alice.consensus.agreementProof(tx)
    // A client (Bob's node) asks a validator for the path of the proof's certificate until the cluster has committed it.
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

    // What a validator serves is checked on the way in: junk, over-long ranges and unknown fields are refused.
    const protocols = levelProtocols(1)
    const junk = [
      new Uint8Array([0xff]),
      encodeCanonical({ level: 0, group: 'sol-1', from: 1, count: 100_000 }),
      encodeCanonical({ level: 0, group: 'sol-1', round: 1, extra: 1 }),
    ]
    for (const protocol of [protocols.certificates, protocols.finalityPath, protocols.round]) {
      for (const bytes of junk) {
        const answer = bob.sim.request(validator.member.id, protocol, bytes).then(
          () => 'answered',
          (error: unknown) => (isGossipError(error) && error.code === GossipErrorCode.REMOTE_ERROR ? 'refused' : String(error)),
        )
        expect(await s.net.runUntil(answer)).toBe('refused')
      }
    }
    // A group it does not follow gets no path and no certificates, not an error.
    const elsewhere = await s.net.runUntil(
      bob.sim.request(validator.member.id, protocols.finalityPath, encodeFinalityPathRequest({ level: 0, group: 'sol-9', round: 1 })),
    )
    expect(decodeFinalityPathAnswer(elsewhere, 1 << 20)).toBeUndefined()
    expect(s.errors).toEqual([])
  })

  it('a validator that starts late syncs the cluster’s and its children’s histories from another validator, then takes part', async () => {
    sim = await createClusterSim({ seed: 'level-late', systems: 4, membersPerSystem: 4, facilitators: 4, validators: 5, late: [4] })
    const s = sim
    await s.runUntilClusterRound(4)
    const late = s.validators[4]!
    expect(late.level.history.round).toBe(0)
    await s.startValidator(4)
    await s.runUntilClusterRound(8)
    const hashes = (v: ClusterValidator, upTo: number) => Array.from({ length: upTo }, (_, i) => toHex(v.level.history.resultHashOf(i + 1)!))
    expect(hashes(late, 8)).toEqual(hashes(s.validators[0]!, 8))
    expect(late.level.stats.certificatesFetched).toBeGreaterThanOrEqual(4)
    // It fetched the solar systems' early certificates too: it can serve them and root them.
    for (const system of s.systems) expect(late.level.index.history(0, system.genesis.group)!.certificate(1)).toBeDefined()
    expect(late.level.index.finalityPath(0, 'sol-0', 1)).toBeDefined()
    // Caught up, it facilitates: its frames reach the others and they answer (in a round after the one it caught up
    // at, which may be the last one run so far).
    await s.runUntilClusterRound(late.level.history.round + 1)
    expect(late.level.stats.roundsFacilitated).toBeGreaterThan(0)
    expect(late.level.stats.framesSent).toBeGreaterThan(0)
    expect(late.level.stats.framesReceived).toBeGreaterThan(0)
    expect(s.errors).toEqual([])
  })

  it('root validators take signed join and leave requests over the network and certify them; the assignment follows', async () => {
    sim = await createClusterSim({ seed: 'level-membership', systems: 2, membersPerSystem: 4, facilitators: 4, validators: 4, membership: true })
    const s = sim
    await s.runUntilClusterRound(1)
    const client = s.systems[0]!.members[3]!
    const [first, second] = s.validators as [ClusterValidator, ClusterValidator]
    const newcomer = s.crypto.keyPairFromSeed(new Uint8Array(32).fill(42))
    const join = signMembershipRequest(s.crypto, newcomer, { kind: 'join', nonce: 1 })
    const leave = signMembershipRequest(s.crypto, client.keyPair, { kind: 'leave', nonce: 1 })
    await s.net.runUntil(submitMembershipRequest(client.sim, first.member.id, join, { level: 1 }))
    await s.net.runUntil(submitMembershipRequest(client.sim, second.member.id, leave, { level: 1 }))
    // A forged request (another key's signature) is refused at the door.
    const forged = { ...signMembershipRequest(s.crypto, newcomer, { kind: 'leave', nonce: 7 }), signature: leave.signature }
    const refused = submitMembershipRequest(client.sim, first.member.id, forged, { level: 1 }).then(
      () => 'answered',
      (error: unknown) => (isGossipError(error) && error.code === GossipErrorCode.REMOTE_ERROR ? 'refused' : String(error)),
    )
    expect(await s.net.runUntil(refused)).toBe('refused')
    const certified = (id: string) => first.level.state.lastCheckpoints.get(id) !== undefined
    for (let round = first.level.history.round + 1; !(certified(toHex(newcomer.publicKey)) && certified(client.id)) && round < 20; round++)
      await s.runUntilClusterRound(round)
    // Every node derives the assignment from the cluster's certified results and the requests it holds.
    const held = indexMembershipRequests(s.crypto, [join, leave, forged])
    const childKeys = new Set(s.systems.map((system) => toHex(genesisHashOf(s.crypto, system.genesis))))
    let assignment = emptyAssignment()
    const history = second.level.history
    for (let round = 1; round <= history.round; round++) {
      const { requests, missing } = certifiedRequests(history.certificate(round)!.result.body, held, childKeys)
      expect(missing).toBe(0)
      assignment = applyMembershipRound(s.crypto, SHELL_MEMBERSHIP, assignment, {
        round: assignment.round + 1,
        resultHash: history.resultHashOf(round)!,
        requests,
        seen: new Set(assignment.members.keys()),
      })
    }
    expect(assignment.members.has(toHex(newcomer.publicKey))).toBe(true)
    expect(assignment.nonces.get(client.id)).toBe(1)
    expect(first.level.stats.requestsTaken + second.level.stats.requestsTaken).toBe(2)
    expect(s.errors).toEqual([])
  })

  it('a Byzantine validator’s forged certificates and history are refused; the cluster keeps certifying', async () => {
    sim = await createClusterSim({
      seed: 'level-byzantine',
      systems: 4,
      membersPerSystem: 4,
      facilitators: 4,
      validators: 4,
      corrupt: new Map([[3, byzantineValidator]]),
    })
    const s = sim
    await s.runUntilClusterRound(3)
    const [honest, , , liar] = s.validators as [ClusterValidator, ClusterValidator, ClusterValidator, ClusterValidator]
    const rejectedBefore = honest.level.stats.certificatesRejected
    // A forged next result that follows the history (right round, previous hash and election), under the last real
    // certificate's signatures (which do not verify on it), and the same result signed by the liar alone.
    const latest = honest.level.history.latest()!
    const round = honest.level.history.round + 1
    const body = { ...latest.result.body, round, previousResultHash: resultHash(s.crypto, latest.result.body) }
    const { result } = nextResult(s.clusterRules, honest.level.state, body, resultHash(s.crypto, body))
    const forged: CheckpointCertificate = { result, signatures: latest.signatures }
    const alone: CheckpointCertificate = { result: forged.result, signatures: [signResult(s.crypto, liar.member.keyPair, forged.result)] }
    for (const certificate of [forged, alone]) {
      await s.net.runUntil(
        liar.network.publish(certificateTopic(1, 'cluster-0'), encodeCertificateAnnouncement({ round, certificate: encodeCertificate(certificate) })),
      )
    }
    await s.runUntilClusterRound(round + 3)
    expect(honest.level.stats.certificatesRejected).toBeGreaterThanOrEqual(rejectedBefore + 2)
    const top = Math.min(...s.validators.map((v) => v.level.history.round))
    const hashes = (v: ClusterValidator) => Array.from({ length: top }, (_, i) => toHex(v.level.history.resultHashOf(i + 1)!))
    for (const v of s.validators) expect(hashes(v)).toEqual(hashes(honest))
    expect(toHex(certificateDigest(s.crypto, honest.level.history.certificate(round)!.result))).not.toBe(toHex(certificateDigest(s.crypto, forged.result)))
    // A syncing node that asks the liar for the history gets forgeries and refuses them; an honest validator's checks out.
    const client = s.systems[0]!.members[3]!.sim
    const lied = await s.net.runUntil(fetchCertifiedHistory(s.crypto, client, liar.member.id, s.cluster, { level: 1 }).catch((error: unknown) => error))
    expect(isConsensusError(lied, ConsensusErrorCode.INVALID_CERTIFICATE)).toBe(true)
    const told = await s.net.runUntil(fetchCertifiedHistory(s.crypto, client, honest.member.id, s.cluster, { level: 1 }))
    expect(told.round).toBeGreaterThanOrEqual(round)
  })
})

/**
 * A validator whose round frames an adversary rewrites (messages withheld, votes and digests equivocated, shares
 * forged) and whose certificate ranges come back with a signature flipped in each certificate.
 */
function byzantineValidator(network: ConsensusNetwork, random: Random): ConsensusNetwork {
  const protocols = levelProtocols(1)
  const rewritten = rewriteRoundFrames(network, random, protocols.round)
  return {
    ...rewritten,
    handle: (protocol, handler) => {
      if (protocol !== protocols.certificates) return network.handle(protocol, handler)
      return network.handle(protocol, async (request) => {
        const answer = decodeCertificateRange(await handler(request), network.limits.maxMessageBytes)
        return encodeCertificateRange(
          answer.map((bytes) => {
            const certificate = decodeCertificate(bytes)
            const [first, ...rest] = certificate.signatures
            if (first === undefined) return bytes
            const signature = Uint8Array.from(first.signature)
            signature[0] = (signature[0] as number) ^ 1
            return encodeCertificate({ ...certificate, signatures: [{ ...first, signature }, ...rest] })
          }),
        )
      })
    },
  }
}
