/**
 * Transfers across solar systems on the simulator, with the real shells at both levels: two solar systems of four
 * `SolarSystemNode`s and a star cluster of four `LevelNode` validators as the root. Every member follows the other
 * system (`SolarSystemFollower`) and the root (its `EpochFollower`). A transfer from a member of sol-0 to a member of
 * sol-1 is agreed over the anchored exchange (the counterparty checks the proposer against sol-0's anchors), final in
 * sol-0 on the counterparty's signed agreement, and credited in sol-1 on sol-0's rooted agreement proof; the value
 * received is spendable there, and a third party checks every proof from the geneses alone.
 */
import { toHex } from '@constellation/crypto'
import type { TransferOutcome } from '@constellation/trustchain'
import { afterEach, describe, expect, it } from 'vitest'
import {
  checkAgreementProof,
  checkRootedAgreementProof,
  committeesOf,
  type EpochRules,
  fetchCertifiedHistory,
  fetchRootedAgreementProof,
} from '../../src/index.js'
import { ledgerDigest } from '../../src/ledger/transfer-ledger.js'
import { type ClusterSim, type ClusterSimOptions, createClusterSim } from '../support/cluster-sim.js'
import { SHELL_MEMBERSHIP } from '../support/membership-rules.js'
import { SIM_BALANCE, type SimMember } from '../support/solar-system-sim.js'

const RULES: EpochRules = { membership: SHELL_MEMBERSHIP, delay: 4 }

let sim: ClusterSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

type Agreed = Extract<TransferOutcome, { status: 'agreed' }>

/** Two solar systems of four, a four-validator cluster as root, every member settling across systems. */
const twoSystems = (seed: string, crossSystem: 'rooted' | 'followed' = 'rooted'): ClusterSimOptions => ({
  seed,
  systems: 2,
  membersPerSystem: 4,
  facilitators: 4,
  validators: 4,
  balance: SIM_BALANCE,
  epochs: () => RULES,
  crossSystem,
})

describe('transfers across solar systems', () => {
  it.each(['rooted', 'followed'] as const)(
    'are final in the proposer’s system on the counterparty’s agreement, credited in the counterparty’s on its proof (%s), and spendable there',
    async (mode) => {
      sim = await createClusterSim(twoSystems(`cross-system-${mode}`, mode))
      const s = sim
      const [alice] = s.systems[0]!.members as [SimMember]
      const [bob, carol] = s.systems[1]!.members as [SimMember, SimMember]
      // Each member's ledger digest after each round it applies.
      const ledgers = new Map<string, Map<number, string>>()
      for (const system of s.systems) {
        for (const member of system.members) {
          const mine = new Map<number, string>()
          ledgers.set(member.id, mine)
          member.consensus.onCertificate((_, state) => mine.set(state.round, toHex(ledgerDigest(s.crypto, state.ledger))))
        }
      }
      await s.runUntilClusterRound(2)

      const [outcome] = await s.net.runUntil(alice.chain.transfer([{ to: bob.chain.publicKey, amount: 25 }]))
      expect(outcome?.status).toBe('agreed')
      const { proposal, agreement } = outcome as Agreed
      const tx = { proposal, agreement }
      // Final in sol-0 once its facilitators hold Bob's agreement; credited in sol-1 once sol-0's proof is rooted.
      const finalIn = (member: SimMember) =>
        new Promise<number>((resolve) => {
          const check = () => {
            const round = member.consensus.finalisedIn(tx)
            if (round === undefined) return
            off()
            resolve(round)
          }
          const off = member.consensus.onFinalised(check)
          check()
        })
      const [proposerRound, creditRound] = await s.net.runUntil(Promise.all([finalIn(alice), finalIn(bob)]), 120_000)
      expect(proposerRound).toBeGreaterThan(0)
      expect(creditRound).toBeGreaterThan(0)

      // Each system's ledger moved the value once and holds nothing under way for it.
      const sol0 = alice.consensus.state.ledger
      const sol1 = bob.consensus.state.ledger
      expect(sol0.spendable.get(alice.id)).toBe(SIM_BALANCE - 25)
      expect(sol1.spendable.get(bob.id)).toBe(SIM_BALANCE + 25)
      expect(sol0.spendable.has(bob.id)).toBe(false)
      expect([...sol0.open.values(), ...sol1.awaiting.values()].filter((entry) => entry.proposer === alice.id)).toEqual([])

      // Either system's agreement proof checks against that system's history; the proposer's rooted one from the
      // cluster's history, which a third party rebuilds from a validator.
      const proposerProof = alice.consensus.agreementProof(tx)
      const creditProof = bob.consensus.agreementProof(tx)
      expect(await checkAgreementProof(s.crypto, proposerProof, committeesOf(alice.consensus.history))).toBeUndefined()
      expect(await checkAgreementProof(s.crypto, creditProof, committeesOf(bob.consensus.history))).toBeUndefined()
      expect(proposerProof.certificate.result.body.group).toBe('sol-0')
      expect(creditProof.certificate.result.body.group).toBe('sol-1')
      const third = s.systems[1]!.members[3]!
      const clusterHistory = await s.net.runUntil(fetchCertifiedHistory(s.crypto, third.sim, s.validators[1]!.member.id, s.cluster, { level: 1 }))
      let rooted = await s.net.runUntil(fetchRootedAgreementProof(s.crypto, third.sim, s.validators[2]!.member.id, proposerProof, { level: 1 }))
      expect(rooted).toBeDefined()
      expect(await checkRootedAgreementProof(s.crypto, rooted!, committeesOf(clusterHistory))).toBeUndefined()
      rooted = undefined

      // What Bob received is his to spend: more than his opening balance, to a member of his own system.
      const [onward] = await s.net.runUntil(bob.chain.transfer([{ to: carol.chain.publicKey, amount: SIM_BALANCE + 10 }]))
      expect(onward?.status).toBe('agreed')
      const next = { proposal: (onward as Agreed).proposal, agreement: (onward as Agreed).agreement }
      await s.net.runUntil(
        new Promise<void>((resolve) => {
          const check = () => {
            if (bob.consensus.finalisedIn(next) === undefined) return
            off()
            resolve()
          }
          const off = bob.consensus.onFinalised(check)
          check()
        }),
      )
      expect(bob.consensus.state.ledger.spendable.get(carol.id)).toBe(SIM_BALANCE + SIM_BALANCE + 10)
      // Every member of each system held the same ledger after every round they all applied.
      for (const system of s.systems) {
        const byRound = new Map<number, Set<string>>()
        for (const member of system.members)
          for (const [round, digest] of ledgers.get(member.id) ?? []) byRound.set(round, (byRound.get(round) ?? new Set()).add(digest))
        expect(byRound.size, system.genesis.group).toBeGreaterThan(3)
        for (const [round, digests] of byRound) expect(digests.size, `${system.genesis.group} round ${round}`).toBe(1)
      }
      expect(toHex(proposal.linkPublicKey)).toBe(bob.id)
      expect(s.errors).toEqual([])
    },
  )

  it('a refused one is voided in the proposer’s system: the amount comes back there and nothing is credited in the other', async () => {
    sim = await createClusterSim({
      ...twoSystems('cross-system-refused'),
      // sol-1's member 1 countersigns nothing.
      chain: (system, member) => (system === 1 && member === 1 ? { shouldSign: () => false } : undefined),
    })
    const s = sim
    const [alice] = s.systems[0]!.members as [SimMember]
    const [, dave] = s.systems[1]!.members as [SimMember, SimMember]
    await s.runUntilClusterRound(2)
    const [outcome] = await s.net.runUntil(alice.chain.transfer([{ to: dave.chain.publicKey, amount: 40 }]))
    expect(outcome?.status).toBe('refused')
    const voidAt = (outcome as Extract<TransferOutcome, { status: 'refused' }>).void.sequenceNumber
    // The void comes back through sol-0's ledger once its round certifies it.
    await s.net.runUntil(
      new Promise<void>((resolve) => {
        const check = () => {
          const ledger = alice.consensus.state.ledger
          if (
            ledger.spendable.get(alice.id) === SIM_BALANCE &&
            ledger.open.size === 0 &&
            alice.consensus.state.lastCheckpoints.get(alice.id)!.entry.sequenceNumber > voidAt
          ) {
            off()
            resolve()
          }
        }
        const off = alice.consensus.onCertificate(check)
        check()
      }),
    )
    await s.runUntilClusterRound(s.validators[0]!.level.history.round + 2)
    expect(dave.consensus.state.ledger.spendable.get(dave.id)).toBe(SIM_BALANCE)
    expect(dave.consensus.state.ledger.awaiting.size).toBe(0)
    expect(s.errors).toEqual([])
  })
})
