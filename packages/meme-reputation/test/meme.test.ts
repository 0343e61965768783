import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createMeme,
  decayFactor,
  defineDockingPolicy,
  defineElectionConfig,
  defineFeatureSchema,
  dockMeme,
  featuresAt,
  type Meme,
  memeAge,
  MemeReputationErrorCode,
  observeMeme,
  runElection,
  scoreMemes,
  updateMemes,
  weightedLinearScorer,
} from '../src/index.js'
import { codeOf, docking, propertyOptions, roundHash } from './helpers.js'

const schema = defineFeatureSchema({
  halfLifeRounds: 10,
  features: [
    { name: 'served', direction: 'higher-is-better', normalisation: { kind: 'log', max: 100 }, default: 0, aggregate: 'sum' },
    { name: 'latencyMs', direction: 'lower-is-better', normalisation: { kind: 'log', max: 1000 }, default: 200, aggregate: 'mean', smoothing: 0.5 },
    { name: 'version', direction: 'higher-is-better', normalisation: { kind: 'min-max', min: 0, max: 5 }, default: 1, aggregate: 'last', decays: false },
  ],
})

describe('memes and observations', () => {
  it('starts from the defaults and folds observations by each feature’s rule', () => {
    const meme = createMeme(schema, 'api-1', 3)
    expect(Array.from(meme.features)).toEqual([0, 200, 1])
    expect(memeAge(meme, 7)).toBe(4)
    const a = observeMeme(schema, docking, meme, { memeId: 'api-1', values: { served: 2, latencyMs: 100, version: 3 } }, 3)
    const b = observeMeme(schema, docking, a, { memeId: 'api-1', values: { served: 1, latencyMs: 50 } }, 3)
    expect(Array.from(b.features)).toEqual([3, 100, 3])
    expect(b.history).toEqual({ observations: 2, goodObservations: 0, provenFaults: 0 })
    expect(Array.from(meme.features)).toEqual([0, 200, 1]) // memes are values: the original is untouched
  })

  it('decays an idle meme towards the defaults with the schema’s half-life, except non-decaying features', () => {
    const meme = { ...createMeme(schema, 'x', 0), features: Float64Array.of(64, 1000, 4) }
    expect(Array.from(featuresAt(schema, meme, 10))).toEqual([32, 600, 4])
    expect(Array.from(featuresAt(schema, meme, 20))).toEqual([16, 400, 4])
    expect(decayFactor(schema, 0)).toBe(1)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 500 }), (a, b) => {
        // Decaying a rounds then b rounds equals decaying a + b rounds (up to rounding).
        const twoSteps = observeMeme(schema, docking, meme, { memeId: 'x' }, a)
        expect(featuresAt(schema, twoSteps, a + b)[0]).toBeCloseTo(featuresAt(schema, meme, a + b)[0]!, 9)
      }),
      propertyOptions(200),
    )
  })

  it('docks proven faults and heals only on good outcomes', () => {
    const policy = defineDockingPolicy({ penalty: 0.5, recoveryHalfLife: 2 })
    const once = dockMeme(policy, createMeme(schema, 'x', 0))
    const twice = dockMeme(policy, once)
    expect([once.penalty, twice.penalty]).toEqual([0.5, 0.75])
    expect(twice.history.provenFaults).toBe(2)
    const neutral = observeMeme(schema, policy, twice, { memeId: 'x', outcome: 'neutral', values: { served: 5 } }, 100)
    expect(neutral.penalty).toBe(0.75)
    // One round with a good outcome each (healing is per round: see docking.test.ts).
    const healed = observeMeme(
      schema,
      policy,
      observeMeme(schema, policy, neutral, { memeId: 'x', outcome: 'good' }, 101),
      { memeId: 'x', outcome: 'good' },
      102,
    )
    expect(healed.penalty).toBeCloseTo(0.375, 12)
    expect(healed.history.goodObservations).toBe(2)
    for (const spec of [
      { penalty: 0, recoveryHalfLife: 1 },
      { penalty: 1, recoveryHalfLife: 1 },
      { penalty: 0.5, recoveryHalfLife: 0 },
    ]) {
      expect(codeOf(() => defineDockingPolicy(spec))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    }
  })

  it('updates only the observed memes, admits unknown ids, and docks after observing', () => {
    const pool = [createMeme(schema, 'a', 0), createMeme(schema, 'b', 0)]
    const result = updateMemes({
      schema,
      docking,
      memes: pool,
      round: 5,
      observations: [
        { memeId: 'b', values: { served: 1 }, outcome: 'good' },
        { memeId: 'c', values: { latencyMs: 20 } },
      ],
      faults: [
        { memeId: 'b', kind: 'double-sign' },
        { memeId: 'd', kind: 'equivocation' },
      ],
    })
    expect(result.memes.map((m) => m.id)).toEqual(['a', 'b', 'c', 'd'])
    expect(result.memes[0]).toBe(pool[0]) // untouched memes are the same objects
    expect(result.admitted).toEqual(['c', 'd'])
    expect(result.memes[1]!.penalty).toBeCloseTo(0.9, 12) // the good outcome came first and could not soften the fault
    expect(result.memes[2]!.firstSeenRound).toBe(5)
    expect(Array.from(result.memes[2]!.features)).toEqual([0, 110, 1])
    expect(result.memes[3]!.history.provenFaults).toBe(1)
  })

  it('folds a round’s values of a feature in ascending order: `last` keeps the round’s largest value', () => {
    const meme = createMeme(schema, 'a', 0)
    const observations = [
      { memeId: 'a', values: { served: 2, latencyMs: 100, version: 4 } },
      { memeId: 'a', values: { served: 3, latencyMs: 400, version: 2 } },
    ]
    for (const seen of [observations, [...observations].reverse()]) {
      const [after] = updateMemes({ schema, docking, memes: [meme], round: 1, observations: seen }).memes
      // latency: 200 -> 150 (with 100) -> 275 (with 400), smoothing 0.5
      expect(Array.from(after!.features)).toEqual([5, 275, 4])
    }
  })

  it('gives the same result with a caller-kept index as with a scan, and refuses a stale index', () => {
    const pool = Array.from({ length: 30 }, (_, i) => createMeme(schema, `p${i}`, 0))
    const index = new Map(pool.map((m, i) => [m.id, i]))
    fc.assert(
      fc.property(
        fc.array(fc.record({ who: fc.integer({ min: 0, max: 40 }), served: fc.integer({ min: 0, max: 5 }), good: fc.boolean() }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 3 }),
        (events, faulty) => {
          const observations = events.map((e) => ({
            memeId: `p${e.who}`,
            values: { served: e.served },
            outcome: e.good ? ('good' as const) : ('bad' as const),
          }))
          const faults = faulty.map((who) => ({ memeId: `p${who}`, kind: 'double-sign' }))
          const scanned = updateMemes({ schema, docking, memes: pool, round: 3, observations, faults })
          expect(updateMemes({ schema, docking, memes: pool, round: 3, observations, faults, index })).toEqual(scanned)
        },
      ),
      propertyOptions(100),
    )
    const stale = new Map(index).set('p3', 4)
    expect(codeOf(() => updateMemes({ schema, docking, memes: pool, round: 3, observations: [{ memeId: 'p3' }], index: stale }))).toBe(
      MemeReputationErrorCode.INVALID_INPUT,
    )
  })

  it('refuses bad input with precise codes', () => {
    const meme = createMeme(schema, 'a', 4)
    expect(codeOf(() => createMeme(schema, '', 0))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => createMeme(schema, 'x'.repeat(257), 0))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => createMeme(schema, 'a', -1))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => createMeme({ ...schema }, 'a', 0))).toBe(MemeReputationErrorCode.INVALID_SCHEMA)
    expect(codeOf(() => observeMeme(schema, docking, meme, { memeId: 'a', values: { colour: 1 } }, 4))).toBe(MemeReputationErrorCode.UNKNOWN_FEATURE)
    expect(codeOf(() => observeMeme(schema, docking, meme, { memeId: 'a', values: { served: Number.NaN } }, 4))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => observeMeme(schema, docking, meme, { memeId: 'b' }, 4))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => observeMeme(schema, docking, meme, { memeId: 'a' }, 3))).toBe(MemeReputationErrorCode.ROUND_OUT_OF_ORDER)
    expect(codeOf(() => observeMeme(schema, docking, { ...meme, features: new Float64Array(2) }, { memeId: 'a' }, 4))).toBe(
      MemeReputationErrorCode.SCHEMA_MISMATCH,
    )
    expect(codeOf(() => updateMemes({ schema, docking, memes: [meme, meme], round: 5, observations: [{ memeId: 'a' }] }))).toBe(
      MemeReputationErrorCode.DUPLICATE_MEME,
    )
  })

  it('refuses hand-built memes whose rounds or history the stored-state codec would refuse, on every path', () => {
    const scorer = weightedLinearScorer(schema, { served: 1 })
    const config = defineElectionConfig({ seats: 2, bracketShares: [1, 1, 1], newcomerShare: 0.5, newcomerAgeRounds: 2 })
    const others = Array.from({ length: 10 }, (_, i) => createMeme(schema, `m${i}`, 0))
    const good = { ...createMeme(schema, 'ghost', 9), features: Float64Array.of(100, 0, 5) }
    const { firstSeenRound: _, ...noFirstSeen } = good
    const { history: __, ...noHistory } = good
    // Rounds are what an election reads (firstSeenRound decides who is a newcomer): every path refuses them.
    const badRounds: unknown[] = [
      noFirstSeen, // would count as established: round - undefined < age is false
      { ...good, firstSeenRound: 9.5 },
      { ...good, firstSeenRound: -1 },
      { ...good, firstSeenRound: 10, updatedRound: 9 },
      { ...good, updatedRound: 8.5 },
    ]
    // Histories do not change a score: the bulk scoring path leaves them to the paths that update memes.
    const badHistories: unknown[] = [
      noHistory,
      { ...good, history: { ...good.history, goodObservations: 1 } },
      { ...good, history: { ...good.history, provenFaults: -1 } },
      { ...good, history: { ...good.history, observations: 1.5 } },
    ]
    for (const ghost of [...badRounds, ...badHistories]) {
      const m = ghost as Meme
      expect(codeOf(() => featuresAt(schema, m, 10))).toBe(MemeReputationErrorCode.INVALID_INPUT)
      expect(codeOf(() => observeMeme(schema, docking, m, { memeId: 'ghost' }, 10))).toBe(MemeReputationErrorCode.INVALID_INPUT)
      expect(codeOf(() => updateMemes({ schema, docking, memes: [m], round: 10, observations: [{ memeId: 'ghost' }] }))).toBe(
        MemeReputationErrorCode.INVALID_INPUT,
      )
    }
    for (const ghost of badRounds) {
      const m = ghost as Meme
      expect(codeOf(() => scoreMemes(scorer, [...others, m], 10))).toBe(MemeReputationErrorCode.INVALID_INPUT)
      expect(
        codeOf(() =>
          runElection({ scorer, docking, config, round: 10, memes: [...others, m], resultHash: roundHash('ghost', 10), previousHash: roundHash('ghost', 9) }),
        ),
      ).toBe(MemeReputationErrorCode.INVALID_INPUT)
    }
    // The well-formed meme is accepted everywhere.
    expect(
      codeOf(() =>
        runElection({ scorer, docking, config, round: 10, memes: [...others, good], resultHash: roundHash('ghost', 10), previousHash: roundHash('ghost', 9) }),
      ),
    ).toBe(undefined)
  })
})
