import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { consensusFeatureSchema, createMeme, decodeMemeState, encodeMemeState, type Meme, MemeReputationErrorCode } from '../src/index.js'
import { codeOf, propertyOptions } from './helpers.js'

const schema = consensusFeatureSchema()

const memeArbitrary = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/\p{Cs}/u.test(s)),
    features: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 7, maxLength: 7 }),
    firstSeenRound: fc.integer({ min: 0, max: 100 }),
    age: fc.integer({ min: 0, max: 100 }),
    penalty: fc.double({ min: 0, max: 1, noNaN: true }),
    good: fc.nat(50),
    extra: fc.nat(50),
    faults: fc.nat(5),
  })
  .map(
    (r): Meme => ({
      ...createMeme(schema, r.id, r.firstSeenRound),
      features: Float64Array.from(r.features),
      updatedRound: r.firstSeenRound + r.age,
      penalty: r.penalty,
      history: { observations: r.good + r.extra, goodObservations: r.good, provenFaults: r.faults },
    }),
  )

describe('stored state', () => {
  it('round-trips through JSON exactly', () => {
    fc.assert(
      fc.property(fc.uniqueArray(memeArbitrary, { selector: (m) => m.id, maxLength: 20 }), (memes) => {
        const stored = JSON.stringify(encodeMemeState(schema, memes, 200))
        const decoded = decodeMemeState(schema, JSON.parse(stored))
        expect(decoded.round).toBe(200)
        // -0 is stored as 0 (JSON has no -0); every score treats them alike.
        expect(decoded.memes).toEqual(memes.map((m) => ({ ...m, features: m.features.map((v) => v || 0) })))
      }),
      propertyOptions(200),
    )
  })

  it('refuses anything else with INVALID_STATE', () => {
    const good = encodeMemeState(schema, [createMeme(schema, 'a', 1)], 3)
    const record = good.memes[0]!
    const bad: unknown[] = [
      null,
      {},
      { ...good, version: 2 },
      { ...good, round: -1 },
      { ...good, features: ['x'] },
      { ...good, memes: [{ ...record, features: [1, 2] }] },
      { ...good, memes: [{ ...record, features: [...record.features.slice(1), 'NaN'] }] },
      { ...good, memes: [{ ...record, penalty: 1.5 }] },
      { ...good, memes: [{ ...record, id: '' }] },
      { ...good, memes: [{ ...record, updatedRound: 9 }] },
      { ...good, memes: [{ ...record, firstSeenRound: 2, updatedRound: 1 }] },
      { ...good, memes: [{ ...record, goodObservations: 1 }] },
      { ...good, memes: [record, record] },
    ]
    for (const input of bad) expect(codeOf(() => decodeMemeState(schema, input))).toBe(MemeReputationErrorCode.INVALID_STATE)
    expect(codeOf(() => decodeMemeState(schema, JSON.parse(JSON.stringify(good))))).toBeUndefined()
    // Unknown keys from a newer writer are dropped, not fatal.
    expect(decodeMemeState(schema, { ...good, note: 'x', memes: [{ ...record, extra: true }] }).memes[0]).not.toHaveProperty('extra')
  })
})
