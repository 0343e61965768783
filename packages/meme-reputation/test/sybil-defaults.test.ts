import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { consensusFeatureSchema, createMeme, defineDockingPolicy, defineElectionConfig, explainScore, runElection, weightedLinearScorer } from '../src/index.js'

// The README's Sybil bound states what the preset's defaults give; these are its figures, so it cannot drift.
describe('the preset’s new-meme defaults (README, Sybil bound)', () => {
  const schema = consensusFeatureSchema()
  const scorer = weightedLinearScorer(schema, { roundsServed: 3, roundsFaulty: 2, provenFrauds: 4, latencyMs: 1, uptime: 1 })

  it('score a brand-new meme 0.607 with the README example’s weights', () => {
    expect(explainScore(scorer, createMeme(schema, 'new', 0), 0).score.toFixed(3)).toBe('0.607')
  })

  it('let aged, never-observed ids take more than the newcomer floor', () => {
    const docking = defineDockingPolicy({ penalty: 0.8, recoveryHalfLife: 10 })
    const config = defineElectionConfig({ seats: 32, bracketShares: [1, 1, 2, 2, 3, 3, 4, 5, 6, 8], newcomerShare: 0.0625, newcomerAgeRounds: 3 })
    const honest = Array.from({ length: 200 }, (_, i) => ({
      ...createMeme(schema, `honest-${i}`, 0),
      features: Float64Array.of(20 + i, 2 + (i % 10), 0, 1000, 80, 0.95, 0.9),
      updatedRound: 99,
    }))
    const sybils = Array.from({ length: 400 }, (_, i) => createMeme(schema, `sybil-${i}`, 90))
    const h = (text: string) => createHash('sha256').update(text).digest()
    const { election } = runElection({ scorer, docking, config, round: 100, memes: [...honest, ...sybils], resultHash: h('100'), previousHash: h('99') })
    expect(config.newcomerSeats).toBe(2)
    expect(election.elected.filter((id) => id.startsWith('sybil-'))).toHaveLength(3)
  })
})
