/**
 * A busy child keeps being committed. One solar system of a star cluster finalises ~1,000 transfers a round, so each
 * of its certificates carries ~200 KB of ledger entries as its parent proposes it (the bytes the anchored flow
 * measured per transfer, modeled by `HierarchySim`); the cluster's validators sleep for two seconds, and the busy
 * child's backlog grows past what one 900 KiB proposal holds. A run bounded only by count (16 certificates) never fit
 * again: the child was skipped in every later round and stayed at its round 3. Bounded by bytes (`childRun`, a share of
 * the proposal per child, the first certificate always in), it is committed a certificate at a time.
 */
import type { Crypto } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { ASSUMED_TRANSFER_CHARGES, HierarchySim } from '../support/hierarchy-sim.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const BUSY = 1
const AWAY_FROM = 1_000
const AWAY_UNTIL = 3_000

describe('a busy child under a star cluster', () => {
  it('is committed again after its backlog outgrew a proposal, and every child keeps advancing', () => {
    let away = new Set<string>()
    const sim = new HierarchySim({
      crypto,
      seed: 'busy-child',
      systems: 4,
      membersPerSystem: 8,
      facilitators: 4,
      fanOut: 4,
      validatorsPerGroup: 4,
      upperFacilitators: 4,
      // 4 pairs × 250 transfers a round in the busy solar system, one per pair elsewhere.
      transactionsPerRound: (system) => (system === BUSY ? 250 : 1),
      proposalTimeoutMs: 300,
      upperProposalTimeoutMs: 200,
      // Only the bytes matter here: the ledger entries a transfer adds to its certificate, as measured on the flow.
      cost: { transfer: { ...ASSUMED_TRANSFER_CHARGES, certificateBytesPerTransfer: 274, childCertificateBytesPerTransfer: 208 } },
      offline: (id, time) => away.has(id) && time >= AWAY_FROM && time < AWAY_UNTIL,
    })
    const cluster = sim.root
    expect(cluster.level).toBe(1)
    // Two of the cluster's four validators (n = 4, t = 1) sleep: the cluster stops; each solar system loses at most one
    // of its facilitators and keeps certifying.
    away = new Set(cluster.members.slice(0, 2).map((node) => node.id))
    const committed = () => sim.systems.map((system) => cluster.state.lastCheckpoints.get(system.key)?.entry.sequenceNumber ?? 0)
    sim.start()
    sim.run(AWAY_UNTIL)
    const busy = sim.systems[BUSY]!
    // The backlog the cluster finds on waking: more of the busy child's certificates than one proposal holds.
    const certifiedAtWake = busy.state.round
    const backlog = certifiedAtWake - committed()[BUSY]!
    expect(backlog * 1_000 * 208).toBeGreaterThan(cluster.rules.maxProposalBytes)

    // Every second after the cluster is back, every child's committed round has moved on.
    let before = committed()
    for (let time = AWAY_UNTIL + 1_000; time <= AWAY_UNTIL + 5_000; time += 1_000) {
      sim.run(time)
      const now = committed()
      for (const [i, system] of sim.systems.entries()) expect(now[i], `${system.genesis.group} at ${time} ms`).toBeGreaterThan(before[i]!)
      before = now
    }
    expect(sim.errors).toEqual([])
    // Past everything that waited when the cluster woke.
    expect(before[BUSY]).toBeGreaterThan(certifiedAtWake)
  }, 60_000)
})
