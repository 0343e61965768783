import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  consensusFeatureSchema,
  createMeme,
  defineFeatureSchema,
  featureIndex,
  type FeatureSpec,
  goodnessOf,
  MemeReputationErrorCode,
  scoreMemes,
  weightedLinearScorer,
} from '../src/index.js'
import { codeOf, propertyOptions } from './helpers.js'

const feature = (over: Partial<FeatureSpec>): FeatureSpec => ({
  name: 'f',
  direction: 'higher-is-better',
  normalisation: { kind: 'min-max', min: 0, max: 10 },
  default: 0,
  aggregate: 'sum',
  ...over,
})

describe('defineFeatureSchema', () => {
  it('indexes features and keeps the new-meme defaults', () => {
    const schema = consensusFeatureSchema()
    expect(schema.names).toEqual(['roundsServed', 'roundsFaulty', 'provenFrauds', 'checkpointBytes', 'latencyMs', 'uptime', 'slaMet'])
    expect(featureIndex(schema, 'latencyMs')).toBe(4)
    expect(Array.from(schema.defaults)).toEqual([0, 0, 0, 0, 500, 0.5, 0.5])
    expect(codeOf(() => featureIndex(schema, 'colour'))).toBe(MemeReputationErrorCode.UNKNOWN_FEATURE)
  })

  it('refuses malformed schemas with INVALID_SCHEMA', () => {
    const bad: unknown[] = [
      { halfLifeRounds: 10, features: [] },
      { halfLifeRounds: 0, features: [feature({})] },
      { halfLifeRounds: Number.POSITIVE_INFINITY, features: [feature({})] },
      { halfLifeRounds: 10, features: [feature({}), feature({})] },
      { halfLifeRounds: 10, features: [feature({ name: '' })] },
      { halfLifeRounds: 10, features: [feature({ direction: 'up' as never })] },
      { halfLifeRounds: 10, features: [feature({ aggregate: 'max' as never })] },
      { halfLifeRounds: 10, features: [feature({ default: Number.NaN })] },
      { halfLifeRounds: 10, features: [feature({ smoothing: 0 })] },
      { halfLifeRounds: 10, features: [feature({ smoothing: 1.5 })] },
      { halfLifeRounds: 10, features: [feature({ normalisation: { kind: 'min-max', min: 5, max: 5 } })] },
      { halfLifeRounds: 10, features: [feature({ normalisation: { kind: 'log', max: 0 } })] },
      { halfLifeRounds: 10, features: [feature({ normalisation: { kind: 'z-score', mean: 0, std: 0 } })] },
      { halfLifeRounds: 10, features: [feature({ normalisation: { kind: 'clamp', min: 0, max: 2 } })] },
      { halfLifeRounds: 10, features: [feature({ normalisation: { kind: 'rank' } as never })] },
      null,
    ]
    for (const spec of bad) expect(codeOf(() => defineFeatureSchema(spec as never))).toBe(MemeReputationErrorCode.INVALID_SCHEMA)
  })
})

describe('goodnessOf', () => {
  const normalisations = [
    { kind: 'min-max', min: -5, max: 20 },
    { kind: 'log', max: 1000 },
    { kind: 'z-score', mean: 100, std: 15 },
    { kind: 'clamp', min: 0.1, max: 0.9 },
  ] as const

  it('maps every finite value into [0, 1], monotonically in the feature’s direction', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...normalisations),
        fc.constantFrom('higher-is-better' as const, 'lower-is-better' as const),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        (normalisation, direction, a, b) => {
          const spec = defineFeatureSchema({ halfLifeRounds: 5, features: [feature({ normalisation, direction })] }).features[0]!
          const ga = goodnessOf(spec, Math.min(a, b))
          const gb = goodnessOf(spec, Math.max(a, b))
          expect(ga).toBeGreaterThanOrEqual(0)
          expect(ga).toBeLessThanOrEqual(1)
          if (direction === 'higher-is-better') expect(gb).toBeGreaterThanOrEqual(ga)
          else expect(gb).toBeLessThanOrEqual(ga)
        },
      ),
      propertyOptions(500),
    )
  })

  it('is computed identically by the bulk scorer', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...normalisations),
        fc.constantFrom('higher-is-better' as const, 'lower-is-better' as const),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 10 }),
        (normalisation, direction, values) => {
          const schema = defineFeatureSchema({ halfLifeRounds: 5, features: [feature({ normalisation, direction })] })
          const memes = values.map((v, i) => ({ ...createMeme(schema, `m${i}`, 0), features: Float64Array.of(v) }))
          const bulk = scoreMemes(weightedLinearScorer(schema, { f: 1 }), memes, 0)
          values.forEach((v, i) => expect(bulk[i]).toBe(goodnessOf(schema.features[0]!, v)))
        },
      ),
      propertyOptions(200),
    )
  })

  it('computes each normalisation as documented', () => {
    const spec = (normalisation: FeatureSpec['normalisation'], direction: FeatureSpec['direction'] = 'higher-is-better') =>
      defineFeatureSchema({ halfLifeRounds: 5, features: [feature({ normalisation, direction })] }).features[0]!
    expect(goodnessOf(spec({ kind: 'min-max', min: 0, max: 10 }), 2.5)).toBe(0.25)
    expect(goodnessOf(spec({ kind: 'min-max', min: 0, max: 10 }, 'lower-is-better'), 2.5)).toBe(0.75)
    expect(goodnessOf(spec({ kind: 'min-max', min: 0, max: 10 }), 99)).toBe(1)
    expect(goodnessOf(spec({ kind: 'log', max: 999 }), 99)).toBeCloseTo(Math.log(100) / Math.log(1000), 12)
    expect(goodnessOf(spec({ kind: 'log', max: 999 }), -3)).toBe(0)
    expect(goodnessOf(spec({ kind: 'z-score', mean: 100, std: 15 }), 100)).toBe(0.5)
    expect(goodnessOf(spec({ kind: 'z-score', mean: 100, std: 15 }), 115)).toBeCloseTo(0.8413, 1) // normal CDF at 1
    expect(goodnessOf(spec({ kind: 'clamp' }), 0.97)).toBe(0.97)
    expect(goodnessOf(spec({ kind: 'clamp', min: 0.2, max: 0.8 }), 0.97)).toBe(0.8)
  })
})
