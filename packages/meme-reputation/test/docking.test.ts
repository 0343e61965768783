import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createMeme,
  decodeMemeState,
  defineDockingPolicy,
  defineElectionConfig,
  dockMeme,
  encodeMemeState,
  type Meme,
  runElection,
  observeMeme,
  scoreMeme,
  updateMemes,
} from '../src/index.js'
import { docking, propertyOptions, qualitySchema, qualityScorer, roundHash } from './helpers.js'

describe('docking never halts elections or saving', () => {
  const config = defineElectionConfig({ seats: 3, bracketShares: [1, 1], newcomerShare: 0, newcomerAgeRounds: 2 })

  it('elects and saves after any number of faults, whatever the policy’s penalty', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1 - Number.EPSILON, noNaN: true }), fc.integer({ min: 1, max: 400 }), (penalty, faults) => {
        const policy = defineDockingPolicy({ penalty, recoveryHalfLife: 5 })
        let faulty: Meme = createMeme(qualitySchema, 'faulty', 0)
        for (let f = 0; f < faults; f++) faulty = dockMeme(policy, faulty)
        expect(faulty.penalty).toBeGreaterThanOrEqual(0)
        expect(faulty.penalty).toBeLessThanOrEqual(1)
        const memes = [faulty, createMeme(qualitySchema, 'a', 0), createMeme(qualitySchema, 'b', 0)]
        // One more fault reported in the round itself, on top of the stored ones.
        const { memes: after, election } = runElection({
          scorer: qualityScorer,
          docking: policy,
          config,
          round: 5,
          memes,
          faults: [{ memeId: 'faulty', kind: 'equivocation' }],
          resultHash: roundHash('dock', 5),
          previousHash: roundHash('dock', 4),
        })
        expect(election.elected).toHaveLength(3)
        const saved = decodeMemeState(qualitySchema, JSON.parse(JSON.stringify(encodeMemeState(qualitySchema, after, 5))))
        expect(saved.memes).toEqual(after)
      }),
      propertyOptions(100),
    )
  })

  it('reaches a penalty of exactly 1 (score 0) and can still heal from it', () => {
    const policy = defineDockingPolicy({ penalty: 0.9, recoveryHalfLife: 5 })
    let meme: Meme = createMeme(qualitySchema, 'm', 0)
    for (let f = 0; f < 17; f++) meme = dockMeme(policy, meme)
    expect(meme.penalty).toBe(1)
    expect(scoreMeme(qualityScorer, meme, 0)).toBe(0)
    expect(encodeMemeState(qualitySchema, [meme], 0).memes[0]!.penalty).toBe(1)
    const healed = observeMeme(qualitySchema, docking, meme, { memeId: 'm', values: { quality: 1 }, outcome: 'good' }, 1)
    expect(healed.penalty).toBeLessThan(1)
    expect(scoreMeme(qualityScorer, healed, 1)).toBeGreaterThan(0)
  })

  it('heals at most once per round, however many good observations the round holds', () => {
    const docked = updateMemes({
      schema: qualitySchema,
      docking,
      memes: [createMeme(qualitySchema, 'm', 0)],
      round: 1,
      faults: [{ memeId: 'm', kind: 'double-sign' }],
    }).memes
    expect(docked[0]!.penalty).toBeCloseTo(0.9, 12)
    const oneRound = docked[0]!.penalty * docking.healFactor
    const good = { memeId: 'm', outcome: 'good' as const }
    for (const flood of [[good], Array.from({ length: 30 }, () => good), Array.from({ length: 30 }, (_, k) => ({ ...good, values: { quality: k / 30 } }))]) {
      const [healed] = updateMemes({ schema: qualitySchema, docking, memes: docked, round: 2, observations: flood }).memes
      expect(healed!.penalty).toBe(oneRound)
      expect(healed!.history.goodObservations).toBe(flood.length)
      // A second batch for the same round, or observeMeme at that round, does not heal again.
      const [again] = updateMemes({ schema: qualitySchema, docking, memes: [healed!], round: 2, observations: flood }).memes
      expect(again!.penalty).toBe(oneRound)
      expect(observeMeme(qualitySchema, docking, healed!, good, 2).penalty).toBe(oneRound)
    }
    // The next round heals again.
    const [next] = updateMemes({ schema: qualitySchema, docking, memes: docked, round: 2, observations: [good] }).memes
    expect(updateMemes({ schema: qualitySchema, docking, memes: [next!], round: 3, observations: [good] }).memes[0]!.penalty).toBe(
      oneRound * docking.healFactor,
    )
  })
})
