import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  consensusFeatureSchema,
  createMeme,
  customScorer,
  explainScore,
  logisticScorer,
  type Meme,
  MemeReputationErrorCode,
  scoreMeme,
  scoreMemes,
  weightedLinearScorer,
} from '../src/index.js'
import { codeOf, propertyOptions } from './helpers.js'

const schema = consensusFeatureSchema()
const linear = weightedLinearScorer(schema, { roundsServed: 3, roundsFaulty: 2, latencyMs: 1, uptime: 2 })
const logistic = logisticScorer(schema, { weights: { roundsServed: 4, latencyMs: 2, provenFrauds: 6 }, bias: -6 })
const custom = customScorer(schema, (g) => Math.min(g[0]!, g[5]!))

const memeArbitrary = fc
  .record({
    features: fc.array(fc.double({ min: -1e5, max: 1e7, noNaN: true }), { minLength: 7, maxLength: 7 }),
    penalty: fc.double({ min: 0, max: 1, noNaN: true }),
    idle: fc.integer({ min: 0, max: 2000 }),
  })
  .map(({ features, penalty, idle }): [Meme, number] => [{ ...createMeme(schema, 'm', 0), features: Float64Array.from(features), penalty }, idle])

describe('scorers', () => {
  it('score every meme in [0, 1], and scoreMemes agrees with explainScore', () => {
    fc.assert(
      fc.property(fc.array(memeArbitrary, { minLength: 1, maxLength: 20 }), (pairs) => {
        const round = Math.max(...pairs.map(([, idle]) => idle))
        const memes = pairs.map(([m, idle]) => ({ ...m, updatedRound: round - idle }))
        for (const scorer of [linear, logistic, custom]) {
          const bulk = scoreMemes(scorer, memes, round)
          memes.forEach((meme, i) => {
            const explained = explainScore(scorer, meme, round)
            expect(bulk[i]).toBe(explained.score)
            expect(explained.score).toBeGreaterThanOrEqual(0)
            expect(explained.score).toBeLessThanOrEqual(1)
            expect(explained.score).toBeCloseTo(explained.undocked * (1 - meme.penalty), 12)
          })
        }
      }),
      propertyOptions(100),
    )
  })

  it('explain a linear score as terms that add up to it, and a logistic one as log-odds', () => {
    const meme = { ...createMeme(schema, 'n', 0), features: Float64Array.of(999, 0, 0, 0, 20, 0.99, 1) }
    const linearScore = explainScore(linear, meme, 0)
    expect(linearScore.unit).toBe('score')
    const sum = linearScore.contributions.reduce((s, c) => s + c.contribution, 0)
    expect(sum).toBeCloseTo(linearScore.undocked, 12)
    expect(linearScore.contributions.find((c) => c.feature === 'roundsServed')!.weight).toBeCloseTo(3 / 8, 12)
    const logisticScore = explainScore(logistic, meme, 0)
    const z = -6 + logisticScore.contributions.reduce((s, c) => s + c.contribution, 0)
    expect(logisticScore.undocked).toBeCloseTo(1 / (1 + Math.exp(-z)), 12)
    // A custom scorer is explained by ablation: only the binding feature of the minimum matters here.
    const customScore = explainScore(custom, meme, 0)
    expect(customScore.unit).toBe('ablation')
    expect(customScore.contributions.filter((c) => c.contribution !== 0).map((c) => c.feature)).toEqual(['roundsServed', 'uptime'])
    expect(scoreMeme(linear, meme, 0)).toBe(linearScore.score)
  })

  it('refuse bad weights and out-of-range custom scores', () => {
    expect(codeOf(() => weightedLinearScorer(schema, { colour: 1 }))).toBe(MemeReputationErrorCode.UNKNOWN_FEATURE)
    expect(codeOf(() => weightedLinearScorer(schema, { uptime: -1 }))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => weightedLinearScorer(schema, {}))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => logisticScorer(schema, { weights: { uptime: 1 }, bias: Number.NaN }))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => customScorer(schema, 'min' as never))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    const meme = createMeme(schema, 'a', 0)
    for (const bad of [Number.NaN, 1.01, -0.1]) {
      expect(
        codeOf(() =>
          scoreMemes(
            customScorer(schema, () => bad),
            [meme],
            0,
          ),
        ),
      ).toBe(MemeReputationErrorCode.SCORE_OUT_OF_RANGE)
    }
    expect(codeOf(() => scoreMemes(linear, [{ ...meme, features: new Float64Array(3) }], 0))).toBe(MemeReputationErrorCode.SCHEMA_MISMATCH)
    expect(codeOf(() => scoreMemes(linear, [{ ...meme, updatedRound: 9 }], 3))).toBe(MemeReputationErrorCode.ROUND_OUT_OF_ORDER)
    expect(codeOf(() => scoreMemes(linear, [{ ...meme, penalty: 1.5 }], 3))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => scoreMemes({ ...linear, kind: 'magic' } as never, [meme], 0))).toBe(MemeReputationErrorCode.INVALID_INPUT)
  })
})
