import { describe, expect, it } from 'vitest'
import {
  consensusFeatureSchema,
  createMeme,
  defineDockingPolicy,
  defineElectionConfig,
  defineFeatureSchema,
  encodeMemeState,
  explainScore,
  featuresAt,
  type Meme,
  MemeReputationError,
  MemeReputationErrorCode,
  observeMeme,
  runElection,
  scoreMemes,
  updateMemes,
  weightedLinearScorer,
} from '../src/index.js'
import { codeOf, roundHash } from './helpers.js'

const schema = consensusFeatureSchema()
const scorer = weightedLinearScorer(schema, { roundsServed: 1, latencyMs: 1 })
const docking = defineDockingPolicy({ penalty: 0.5, recoveryHalfLife: 5 })
const config = defineElectionConfig({ seats: 4, bracketShares: [1, 1, 2], newcomerShare: 0.25, newcomerAgeRounds: 2 })
const honest = Array.from({ length: 20 }, (_, i) => createMeme(schema, `h${i}`, 0))
const HUGE = 1.7e308

function elect(memes: readonly Meme[], round: number) {
  return runElection({ scorer, docking, config, round, memes, resultHash: roundHash('overflow', round), previousHash: roundHash('overflow', round - 1) })
}

describe('features stay finite', () => {
  it('refuses an observation whose sum would overflow, naming it, and leaves the memes as they were', () => {
    const observations = [
      { memeId: 'x', values: { roundsServed: HUGE } },
      { memeId: 'x', values: { roundsServed: HUGE } },
    ]
    let error: unknown
    try {
      updateMemes({ schema, docking, memes: honest, round: 1, observations })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(MemeReputationError)
    expect((error as MemeReputationError).code).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect((error as MemeReputationError).detail).toMatchObject({ memeId: 'x', feature: 'roundsServed' })
    // Dropping the refused observation gives a pool that elects and saves.
    const { memes } = updateMemes({ schema, docking, memes: honest, round: 1, observations: observations.slice(0, 1) })
    expect(memes.at(-1)!.features[0]).toBe(HUGE)
    expect(elect(memes, 2).election.elected).toHaveLength(4)
    expect(encodeMemeState(schema, memes, 1).memes).toHaveLength(21)

    const meme = { ...createMeme(schema, 'y', 0), features: Float64Array.of(HUGE, 0, 0, 0, 500, 0.5, 0.5) }
    expect(codeOf(() => observeMeme(schema, docking, meme, { memeId: 'y', values: { roundsServed: HUGE } }, 0))).toBe(MemeReputationErrorCode.INVALID_INPUT)
  })

  it('keeps a mean finite when observations sit at opposite ends of the double range', () => {
    const observations = [HUGE, -HUGE, -HUGE, 5].map((latencyMs) => ({ memeId: 'y', values: { latencyMs } }))
    const { memes } = updateMemes({ schema, docking, memes: honest, round: 1, observations })
    const y = memes.at(-1)!
    expect(Number.isFinite(y.features[4])).toBe(true)
    const pool = [...memes]
    expect(elect(pool, 5).election.elected).toHaveLength(4)
    expect(Number.isFinite(explainScore(scorer, y, 5).score)).toBe(true)
    expect(encodeMemeState(schema, pool, 1).memes).toHaveLength(21)
  })

  it('decays without NaN when the decay factor underflows and the value is far from the default', () => {
    const wide = defineFeatureSchema({
      halfLifeRounds: 1,
      features: [{ name: 'v', direction: 'higher-is-better', normalisation: { kind: 'z-score', mean: 0, std: 1e300 }, default: -1e308, aggregate: 'last' }],
    })
    const wideScorer = weightedLinearScorer(wide, { v: 1 })
    const meme = { ...createMeme(wide, 'far', 0), features: Float64Array.of(HUGE) }
    // 2^-2000 underflows to 0: the value is back at its default.
    expect(Array.from(featuresAt(wide, meme, 2000))).toEqual([-1e308])
    expect(featuresAt(wide, meme, 3)[0]! / (HUGE / 8 - (1e308 / 8) * 7)).toBeCloseTo(1, 12)
    const scores = scoreMemes(wideScorer, [meme], 2000)
    expect(Number.isNaN(scores[0])).toBe(false)
    const observed = observeMeme(wide, docking, meme, { memeId: 'far', outcome: 'neutral' }, 2000)
    expect(Array.from(observed.features)).toEqual([-1e308])
  })

  it('refuses a hand-built meme with a non-finite feature with INVALID_INPUT, on the bulk path too', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const meme = { ...createMeme(schema, 'bad', 0), features: Float64Array.of(0, 0, 0, 0, bad, 0.5, 0.5) }
      expect(codeOf(() => scoreMemes(scorer, [...honest, meme], 1))).toBe(MemeReputationErrorCode.INVALID_INPUT)
      expect(codeOf(() => featuresAt(schema, meme, 1))).toBe(MemeReputationErrorCode.INVALID_INPUT)
      expect(codeOf(() => elect([...honest, meme], 1))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    }
  })
})
