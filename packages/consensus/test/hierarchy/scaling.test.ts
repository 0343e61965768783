/**
 * Horizontal scaling at a reduced size (bench/scaling.bench.ts runs the full one): 1, 2 and 4 solar systems of 10
 * members under a fixed cost model, star clusters of two children so that 4 solar systems make three levels.
 * Figures are in virtual time under a fixed cost model, so they are exact for a seed — not a timing of this machine.
 * Each is the mean over four seeds: in a window this short one seed's figure moves by tens of percent (as the bench
 * averages its baseline over seeds).
 */
import type { Crypto } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { measureScalingMean, type ScalingConfig, scalingEfficiency } from '../support/hierarchy-scaling.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
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
