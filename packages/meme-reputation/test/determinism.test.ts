import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createMeme, defineElectionConfig, defineFeatureSchema, type Meme, type Observation, runElection, weightedLinearScorer } from '../src/index.js'
import { runScenario } from './fixtures/scenario.js'
import { docking, propertyOptions, qualitySchema, qualityScorer, roundHash } from './helpers.js'

describe('determinism', () => {
  const here = runScenario()

  it('gives the same committees and state on a second run in the same process', () => {
    expect(runScenario()).toEqual(here)
    expect(here.elections).toHaveLength(6)
    expect(here.elections.at(-1)!.elected).toHaveLength(16)
    // The scenario is not degenerate: committees change from round to round.
    expect(new Set(here.elections.map((e) => e.elected.join())).size).toBe(6)
  })

  it('gives byte-identical output in another process', () => {
    const run = spawnSync('pnpm', ['exec', 'tsx', '--conditions=source', 'test/fixtures/print-scenario.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toBe(JSON.stringify(here))
  })

  it('runElection ignores the order of the stored memes and of observations about different memes', () => {
    const config = defineElectionConfig({ seats: 5, bracketShares: [1, 2, 3], newcomerShare: 0.2, newcomerAgeRounds: 2 })
    const memes: Meme[] = Array.from({ length: 40 }, (_, i) => ({
      ...createMeme(qualitySchema, `m${i}`, i % 7 === 0 ? 9 : 0),
      features: Float64Array.of(((i * 37) % 100) / 100),
      updatedRound: 9,
    }))
    const observations = memes.slice(0, 25).map((m, i) => ({ memeId: m.id, values: { quality: (i % 5) / 4 }, outcome: 'good' as const }))
    const faults = [{ memeId: 'm3', kind: 'equivocation' }]
    const elect = (pool: readonly Meme[], seen: typeof observations) =>
      runElection({
        scorer: qualityScorer,
        docking,
        config,
        round: 10,
        memes: pool,
        observations: seen,
        faults,
        resultHash: roundHash('perm', 10),
        previousHash: roundHash('perm', 9),
      }).election
    const reference = elect(memes, observations)
    fc.assert(
      fc.property(fc.shuffledSubarray(memes, { minLength: 40 }), fc.shuffledSubarray(observations, { minLength: 25 }), (pool, seen) => {
        expect(elect(pool, seen)).toEqual(reference)
      }),
      propertyOptions(50),
    )
  })

  it('runElection ignores the order of observations about the same meme, for every aggregate', () => {
    // One feature per aggregate; several observations per meme and round, as gossip delivers them.
    const schema = defineFeatureSchema({
      halfLifeRounds: 50,
      features: [
        { name: 'served', direction: 'higher-is-better', normalisation: { kind: 'log', max: 100 }, default: 0, aggregate: 'sum' },
        { name: 'quality', direction: 'higher-is-better', normalisation: { kind: 'clamp' }, default: 0.2, aggregate: 'mean', smoothing: 0.5 },
        { name: 'version', direction: 'higher-is-better', normalisation: { kind: 'min-max', min: 0, max: 4 }, default: 1, aggregate: 'last' },
      ],
    })
    const scorer = weightedLinearScorer(schema, { served: 1, quality: 2, version: 1 })
    const config = defineElectionConfig({ seats: 4, bracketShares: [1, 1, 1, 1, 1, 1, 1, 1], newcomerShare: 0.25, newcomerAgeRounds: 2 })
    const memes: Meme[] = Array.from({ length: 12 }, (_, i) => ({ ...createMeme(schema, `m${i}`, 0), updatedRound: 9 }))
    const observations: Observation[] = Array.from({ length: 48 }, (_, k) => ({
      memeId: `m${k % 6}`,
      values: { served: 0.1 * ((k * 7) % 5) + 0.3, quality: ((k * 13) % 9) / 8, version: (k * 5) % 4 },
      outcome: (['good', 'bad', 'neutral'] as const)[k % 3]!,
    }))
    observations.push({ memeId: 'fresh', values: { quality: 1 } }, { memeId: 'fresh', values: { quality: 0 } })
    const run = (seen: readonly Observation[]) => {
      const result = runElection({
        scorer,
        docking,
        config,
        round: 10,
        memes,
        observations: seen,
        resultHash: roundHash('same', 10),
        previousHash: roundHash('same', 9),
      })
      const byId = new Map(result.memes.map((m, i) => [m.id, { meme: m, score: result.scores[i] }]))
      return { election: result.election, memes: [...byId].sort(([a], [b]) => (a < b ? -1 : 1)) }
    }
    const reference = run(observations)
    // The observations matter: the committee is not the one of the unobserved pool.
    expect(reference.election).not.toEqual(run([]).election)
    fc.assert(
      fc.property(fc.shuffledSubarray(observations, { minLength: observations.length }), (seen) => {
        expect(run(seen)).toEqual(reference)
      }),
      propertyOptions(100),
    )
  })
})
