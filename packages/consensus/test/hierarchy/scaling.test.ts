/**
 * Horizontal scaling at a reduced size (bench/scaling.bench.ts runs the full one): 1, 2 and 4 solar systems of 10
 * members, star clusters of two children so that 4 solar systems make three levels, each transfer charged what the
 * anchored flow measured on real nodes costs (`measureTransferCost`, run here first on the seeded simulator).
 * Figures are in virtual time under a fixed CPU and network model, so they are exact for a seed — not a timing of this
 * machine. Each is the mean over four seeds: in a window this short one seed's figure moves by tens of percent (as the
 * bench averages its baseline over seeds).
 */
import type { Crypto } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { measureScalingMean, type ScalingConfig, scalingEfficiency } from '../support/hierarchy-scaling.js'
import { testCrypto } from '../support/solar-system-sim.js'
import { measureTransferCost, type TransferCost } from '../support/transfer-cost.js'

let crypto: Crypto
let transfer: TransferCost
beforeAll(async () => {
  crypto = await testCrypto()
  transfer = await measureTransferCost({ crypto, seed: 'ci', members: 8, facilitators: 4, transactionsPerRound: 10, loadRounds: 3 })
}, 60_000)

describe('transfer cost on the anchored flow', () => {
  it('is what the flow does per transfer: one sign and one check on each side, each facilitator checks each half once', () => {
    expect(transfer.transfers).toBe(4 * 10 * 3)
    expect(transfer.proposer.signs).toBeCloseTo(1, 6)
    expect(transfer.proposer.verifies).toBeCloseTo(1, 6)
    expect(transfer.counterparty.signs).toBeCloseTo(1, 6)
    expect(transfer.counterparty.verifies).toBeCloseTo(1, 6)
    expect(transfer.facilitator.verifiesPerHalf).toBeGreaterThanOrEqual(1)
    expect(transfer.facilitator.verifiesPerHalf).toBeLessThan(1.25)
    // Bytes: a frame and an answer carry at least the halves; a submission at least its half.
    for (const bytes of [transfer.proposer.bytes, transfer.counterparty.bytes, transfer.facilitator.submissionBytesPerHalf]) expect(bytes).toBeGreaterThan(200)
    expect(transfer.summaryBytesPerHalf).toBeGreaterThan(50)
    expect(transfer.certificateBytesPerTransfer).toBeGreaterThan(transfer.childCertificateBytesPerTransfer)
    expect(transfer.childCertificateBytesPerTransfer).toBeGreaterThan(0)
    // The whole network: about ten checks per transfer (1 + 1 on the chains, 2 at each of 4 facilitators, rounds).
    expect(transfer.network.verifies).toBeGreaterThan(10)
    expect(transfer.network.verifies).toBeLessThan(14)
  })
})

describe('horizontal scaling, reduced', () => {
  it('more solar systems finalise proportionally more transfers up to the root', () => {
    const config: ScalingConfig = {
      crypto,
      membersPerSystem: 10,
      facilitators: 4,
      fanOut: 2,
      validatorsPerGroup: 4,
      upperFacilitators: 4,
      transactionsPerRound: 10,
      transfer,
      verifyMs: 0.05,
      signMs: 0.03,
      latencyMinMs: 10,
      latencyMaxMs: 50,
      bytesPerMs: 12_500,
      warmupMs: 1_500,
      windowMs: 4_000,
    }
    const seeds = ['ci/0', 'ci/1', 'ci/2', 'ci/3']
    const [one, two, four] = [1, 2, 4].map((systems) => measureScalingMean(config, systems, seeds))
    expect([one!.levels, two!.levels, four!.levels]).toEqual([1, 2, 3])
    expect(one!.finalPerSecond).toBeGreaterThan(0)
    // Each solar system keeps its pace while levels are added above it...
    for (const point of [two!, four!]) expect(point.roundsPerSecond).toBeGreaterThan(0.8 * one!.roundsPerSecond)
    // ...and throughput final up to the root grows with the solar systems.
    expect(scalingEfficiency(two!, one!)).toBeGreaterThan(0.8)
    expect(scalingEfficiency(four!, one!)).toBeGreaterThan(0.8)
    expect(four!.finalPerSecond).toBeGreaterThan(two!.finalPerSecond)
  }, 60_000)
})
