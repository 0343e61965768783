/**
 * Seeded statistics over many elections: the per-bracket selection frequencies follow the configured
 * distribution, newcomers get their floor, docking lowers a meme's chances until good observations heal it, and
 * neither Sybil floods nor ids ground against `h_{r-1}` get past the newcomer floor. Every hash comes from
 * `roundHash(label, round)`, so each run sees the same numbers and a failure replays exactly.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createMeme,
  defineElectionConfig,
  electCommittee,
  type ElectionConfig,
  type Meme,
  type Observation,
  runElection,
  scoreMemes,
  sortKeyOf,
  updateMemes,
} from '../src/index.js'
import { compareBytes } from '../src/hash.js'
import { chiSquare, docking, propertyOptions, qualitySchema, qualityScorer, roundHash } from './helpers.js'

/** A meme of the quality schema with the given quality, first seen at round 0 and updated at `round`. */
function memeOf(id: string, quality: number, round: number, firstSeenRound = 0): Meme {
  const meme = createMeme(qualitySchema, id, firstSeenRound)
  return { ...meme, features: Float64Array.of(quality), updatedRound: round }
}

function newcomerFlags(memes: readonly Meme[], round: number, config: ElectionConfig): Uint8Array {
  return Uint8Array.from(memes, (m) => (round - m.firstSeenRound < config.newcomerAgeRounds ? 1 : 0))
}

/** Elections over `trials` independent hash pairs with the memes fixed: how often each id is elected. */
function selectionCounts(memes: readonly Meme[], round: number, config: ElectionConfig, trials: number, label: string) {
  const ids = memes.map((m) => m.id)
  const scores = scoreMemes(qualityScorer, memes, round)
  const newcomers = newcomerFlags(memes, round, config)
  const counts = new Map<string, number>()
  const perBracket = new Array<number>(config.bracketShares.length + 1).fill(0)
  for (let t = 0; t < trials; t++) {
    const election = electCommittee({
      config,
      round,
      ids,
      scores,
      newcomers,
      resultHash: roundHash(`${label}/h`, t),
      previousHash: roundHash(`${label}/p`, t),
    })
    for (const seat of election.seats) {
      counts.set(seat.memeId, (counts.get(seat.memeId) ?? 0) + 1)
      perBracket[seat.bracket === 'newcomers' ? config.bracketShares.length : seat.bracket]!++
    }
  }
  return { counts, perBracket }
}

// Chi-square critical value for 3 degrees of freedom at p = 0.001: a correct implementation exceeds it once in
// a thousand seeds, and a wrong distribution over this many rounds exceeds it by far (checked below).
const CHI2_DF3_P001 = 16.266

describe('bracket distribution', () => {
  const shares = [0.1, 0.2, 0.3, 0.4]
  const population = [
    ...[0.125, 0.375, 0.625, 0.875].flatMap((q, b) => Array.from({ length: 30 }, (_, i) => memeOf(`b${b}-${i}`, q, 10))),
    ...Array.from({ length: 10 }, (_, i) => memeOf(`new-${i}`, 0.9, 10, 10)),
  ]
  const rounds = 500
  const frequencies = (configShares: readonly number[]) => {
    const config = defineElectionConfig({ seats: 7, bracketShares: configShares, newcomerShare: 0.1, newcomerAgeRounds: 2 })
    return { config, ...selectionCounts(population, 10, config, rounds, 'chi') }
  }

  it('matches the configured distribution (chi-square over 500 rounds, p = 0.001)', () => {
    const { config, perBracket } = frequencies(shares)
    expect(config.bracketSeats).toBe(6)
    const expected = shares.map((p) => rounds * config.bracketSeats * p)
    const statistic = chiSquare(perBracket.slice(0, 4), expected)
    expect(statistic).toBeLessThan(CHI2_DF3_P001)
    // Newcomer seats are a fixed count, not a draw.
    expect(perBracket[4]).toBe(rounds * config.newcomerSeats)
  })

  it('would reject an implementation that used a wrong distribution', () => {
    // Elect with a deliberately wrong distribution and test the outcome against the configured one.
    const { config, perBracket } = frequencies([0.15, 0.2, 0.3, 0.35])
    const expected = shares.map((p) => rounds * config.bracketSeats * p)
    expect(chiSquare(perBracket.slice(0, 4), expected)).toBeGreaterThan(CHI2_DF3_P001)
  })
})

describe('newcomer floor', () => {
  it('elects each newcomer with at least newcomerSeats / newcomers probability', () => {
    const config = defineElectionConfig({ seats: 10, bracketShares: [1, 1, 1], newcomerShare: 0.2, newcomerAgeRounds: 2 })
    const established = Array.from({ length: 60 }, (_, i) => memeOf(`old-${i}`, (i % 30) / 30, 20))
    const fresh = Array.from({ length: 20 }, (_, i) => memeOf(`fresh-${i}`, 0.2, 20, 19 + (i % 2)))
    const trials = 1000
    const { counts, perBracket } = selectionCounts([...established, ...fresh], 20, config, trials, 'floor')
    expect(perBracket[3]).toBe(trials * config.newcomerSeats)
    const floor = config.newcomerSeats / fresh.length // 0.1
    // Binomial(1000, 0.1): mean 100, sd 9.5; four sd below the floor's mean is 62.
    const lowest = Math.min(...fresh.map((m) => counts.get(m.id) ?? 0))
    expect(lowest).toBeGreaterThanOrEqual(trials * floor - 4 * Math.sqrt(trials * floor * (1 - floor)))
  })
})

describe('docking', () => {
  it('lowers a faulty meme’s selection probability until good observations, not time, heal it', () => {
    const config = defineElectionConfig({ seats: 6, bracketShares: [0.05, 0.15, 0.8], newcomerShare: 0, newcomerAgeRounds: 2 })
    const levels = [0.9, 0.55, 0.2]
    let memes: readonly Meme[] = [...levels.flatMap((q, l) => Array.from({ length: 20 }, (_, i) => memeOf(`peer-${l}-${i}`, q, 0))), memeOf('target', 0.9, 0)]
    // Every peer is observed every round at its own level, so only the target's score moves.
    const peerObservations: Observation[] = levels.flatMap((q, l) =>
      Array.from({ length: 20 }, (_, i) => ({ memeId: `peer-${l}-${i}`, values: { quality: q }, outcome: 'good' as const })),
    )
    const step = (round: number, extra: readonly Observation[] = [], faults = false) => {
      memes = updateMemes({
        schema: qualitySchema,
        docking,
        memes,
        round,
        observations: [...peerObservations, ...extra],
        faults: faults ? [{ memeId: 'target', kind: 'double-sign' }] : [],
      }).memes
    }
    const probability = (round: number) => (selectionCounts(memes, round, config, 300, `dock-${round}`).counts.get('target') ?? 0) / 300
    const target = () => memes.find((m) => m.id === 'target')!
    const good = { memeId: 'target', values: { quality: 0.9 }, outcome: 'good' as const }

    for (let r = 1; r <= 10; r++) step(r, [good])
    const before = probability(10)
    step(11, [], true)
    const docked = probability(11)
    expect(target().penalty).toBeCloseTo(0.9, 12)
    // 200 idle rounds: the penalty is untouched, and the features only fade towards a new meme's.
    for (let r = 12; r <= 211; r++) step(r)
    const idle = probability(211)
    expect(target().penalty).toBeCloseTo(0.9, 12)
    // Good values reported without a good outcome do not heal either.
    for (let r = 212; r <= 231; r++) step(r, [{ ...good, outcome: 'neutral' }])
    const neutral = probability(231)
    expect(target().penalty).toBeCloseTo(0.9, 12)
    // Good observations do: 60 of them with a recovery half-life of 5.
    for (let r = 232; r <= 291; r++) step(r, [good])
    const recovered = probability(291)
    expect(target().penalty).toBeLessThan(0.001)

    expect(before).toBeGreaterThan(0.15) // top bracket: 4.8 seats among 21
    expect(docked).toBeLessThan(0.05) // bottom bracket: 0.3 seats among 21
    expect(idle).toBeLessThan(0.05)
    expect(neutral).toBeLessThan(0.05)
    expect(recovered).toBeGreaterThan(0.15)
  })
})

describe('Sybil floods and id grinding', () => {
  it('fresh ids, however many and however good, take at most the newcomer floor while established memes can fill the rest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(0, 0.1, 0.25, 0.4),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 12, maxLength: 50 }),
        fc.integer({ min: 0, max: 300 }),
        fc.nat(1000),
        (seats, newcomerShare, qualities, sybils, salt) => {
          const config = defineElectionConfig({ seats, bracketShares: [1, 2, 4], newcomerShare, newcomerAgeRounds: 2 })
          const round = 30
          const established = qualities.map((q, i) => memeOf(`honest-${i}`, q, round - 1))
          // Half the flood joined last round, half is admitted by this round's observations with perfect values.
          const earlier = Array.from({ length: sybils >> 1 }, (_, i) => memeOf(`sybil-early-${salt}-${i}`, 1, round - 1, round - 1))
          const observations = Array.from({ length: sybils - (sybils >> 1) }, (_, i) => ({
            memeId: `sybil-late-${salt}-${i}`,
            values: { quality: 1 },
            outcome: 'good' as const,
          }))
          const { election } = runElection({
            scorer: qualityScorer,
            docking,
            config,
            round,
            memes: [...established, ...earlier],
            observations,
            resultHash: roundHash(`sybil-${salt}`, round),
            previousHash: roundHash(`sybil-${salt}`, round - 1),
          })
          const taken = election.elected.filter((id) => id.startsWith('sybil-')).length
          expect(taken).toBeLessThanOrEqual(config.newcomerSeats)
          expect(election.elected).toHaveLength(seats)
        },
      ),
      propertyOptions(60),
    )
  })

  it('an id ground against h_{r-1} wins at most the newcomer seats, and leaves every bracket seat as it was', () => {
    const config = defineElectionConfig({ seats: 8, bracketShares: [1, 1, 2], newcomerShare: 0.25, newcomerAgeRounds: 2 })
    const established = Array.from({ length: 40 }, (_, i) => memeOf(`est-${i}`, (i % 20) / 20, 0))
    const honestNew = Array.from({ length: 30 }, (_, i) => memeOf(`joiner-${i}`, 0.2, 0, 0))
    const tries = 3000
    let grinderRoundsWithAllNewcomerSeats = 0
    const rounds = 40
    for (let r = 2; r < 2 + rounds; r++) {
      const previousHash = roundHash('grind', r - 1)
      const resultHash = roundHash('grind', r)
      // The attacker sees h_{r-1} and keeps the 5 candidate ids with the smallest sort keys.
      const candidates = Array.from({ length: tries }, (_, k) => `attacker-${r}-${k}`)
      const keyed = candidates.map((id) => ({ id, key: sortKeyOf(previousHash, id) }))
      keyed.sort((a, b) => compareBytes(a.key, b.key))
      const ground = keyed.slice(0, 5).map((c) => ({ memeId: c.id, values: { quality: 1 }, outcome: 'good' as const }))
      const joiners = honestNew.map((m) => ({ ...m, firstSeenRound: r - 1, updatedRound: r - 1 }))
      const run = (observations: Observation[]) =>
        runElection({
          scorer: qualityScorer,
          docking,
          config,
          round: r,
          memes: [...established, ...joiners],
          observations,
          resultHash,
          previousHash,
        }).election
      const attacked = run(ground)
      const honest = run([])
      const attackerSeats = attacked.seats.filter((s) => s.memeId.startsWith('attacker-'))
      expect(attackerSeats.length).toBeLessThanOrEqual(config.newcomerSeats)
      expect(attackerSeats.every((s) => s.bracket === 'newcomers')).toBe(true)
      expect(attacked.seats.filter((s) => s.bracket !== 'newcomers')).toEqual(honest.seats.filter((s) => s.bracket !== 'newcomers'))
      if (attackerSeats.length === config.newcomerSeats) grinderRoundsWithAllNewcomerSeats++
    }
    // Within the newcomer pool grinding does pay (that is what a public sort key allows): 3000 tries against 30
    // honest keys win both newcomer seats almost every round.
    expect(grinderRoundsWithAllNewcomerSeats).toBeGreaterThanOrEqual(rounds * 0.9)
  })
})
