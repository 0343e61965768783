import { sha256 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { naiveElection } from '../bench/naive-election.js'
import { compareBytes } from '../src/hash.js'
import { prefixesOf } from '../src/sort-keys.js'
import { defineElectionConfig, electCommittee, type ElectionConfig, MemeReputationErrorCode, prepareSortKeys, sortKeyOf } from '../src/index.js'
import { codeOf, propertyOptions, roundHash } from './helpers.js'
import { referenceSortKey } from './vectors/reference.js'

interface Pool {
  readonly config: ElectionConfig
  readonly ids: string[]
  readonly scores: Float64Array
  readonly newcomers: Uint8Array
}

// Scores drawn from a mix of anywhere-in-[0,1] and exact bracket boundaries, so boundary ties are exercised.
const poolArbitrary = fc
  .record({
    brackets: fc.integer({ min: 1, max: 6 }),
    seats: fc.integer({ min: 1, max: 20 }),
    newcomerShare: fc.constantFrom(0, 0.1, 0.25, 0.5),
    shares: fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 6, maxLength: 6 }),
    memes: fc.array(
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 12 }),
        score: fc.oneof(
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.integer({ min: 0, max: 12 }).map((k) => k / 12),
        ),
        newcomer: fc.boolean(),
      }),
      { maxLength: 120 },
    ),
  })
  .map(({ brackets, seats, newcomerShare, shares, memes }): Pool => {
    const unique = [...new Map(memes.map((m) => [m.id, m])).values()]
    const bracketShares = shares.slice(0, brackets).map((s, b) => (b === brackets - 1 ? s + 1 : s))
    return {
      config: defineElectionConfig({ seats, bracketShares, newcomerShare, newcomerAgeRounds: 2 }),
      ids: unique.map((m) => m.id),
      scores: Float64Array.from(unique, (m) => m.score),
      newcomers: Uint8Array.from(unique, (m) => (m.newcomer ? 1 : 0)),
    }
  })

const hashes = fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }))

function elect(pool: Pool, resultHash: Uint8Array, previousHash: Uint8Array, prepared = false) {
  return electCommittee({
    config: pool.config,
    round: 7,
    ids: pool.ids,
    scores: pool.scores,
    newcomers: pool.newcomers,
    resultHash,
    previousHash,
    ...(prepared ? { sortKeys: prepareSortKeys(previousHash, pool.ids) } : {}),
  })
}

describe('electCommittee', () => {
  it('agrees with the literal definition (every pool fully sorted by full SHA-256 keys)', () => {
    fc.assert(
      fc.property(poolArbitrary, hashes, (pool, [resultHash, previousHash]) => {
        // Full keys from the independent node:crypto reference, not from src/hash.ts.
        const keys = pool.ids.map((id) => referenceSortKey(previousHash, id))
        const reference = naiveElection(pool.config, pool.ids, pool.scores, pool.newcomers, resultHash, (a, b) => Buffer.compare(keys[a]!, keys[b]!))
        const election = elect(pool, resultHash, previousHash)
        expect(election.seats.map(({ memeId, bracket, rank }) => ({ memeId, bracket, rank }))).toEqual(reference)
        expect(election.elected.length).toBe(Math.min(pool.config.seats, pool.ids.length))
      }),
      propertyOptions(300),
    )
  })

  it('gives the same committee with prepared keys, with keys for a prefix, and without keys', () => {
    fc.assert(
      fc.property(poolArbitrary, hashes, fc.nat(), (pool, [resultHash, previousHash], cut) => {
        const cold = elect(pool, resultHash, previousHash)
        expect(elect(pool, resultHash, previousHash, true)).toEqual(cold)
        const prefix = pool.ids.slice(0, pool.ids.length === 0 ? 0 : cut % pool.ids.length)
        const partial = electCommittee({
          config: pool.config,
          round: 7,
          ids: pool.ids,
          scores: pool.scores,
          newcomers: pool.newcomers,
          resultHash,
          previousHash,
          sortKeys: prepareSortKeys(previousHash, prefix),
        })
        expect(partial).toEqual(cold)
      }),
      propertyOptions(150),
    )
  })

  it('orders by the full keys, then ids, when 64-bit key prefixes are equal', () => {
    // Real prefix collisions are too rare to meet in a test; zeroing a prepared table's prefixes forces every
    // comparison through the full-key path, which must reproduce the same committee.
    fc.assert(
      fc.property(poolArbitrary, hashes, (pool, [resultHash, previousHash]) => {
        const keys = prepareSortKeys(previousHash, pool.ids)
        // Package-internal access: the public table exposes no key prefixes to change.
        const { high, low } = prefixesOf(keys)
        high.fill(0)
        low.fill(0)
        const collided = electCommittee({
          config: pool.config,
          round: 7,
          ids: pool.ids,
          scores: pool.scores,
          newcomers: pool.newcomers,
          resultHash,
          previousHash,
          sortKeys: keys,
        })
        expect(collided).toEqual(elect(pool, resultHash, previousHash))
      }),
      propertyOptions(100),
    )
  })

  it('is invariant under any permutation of the input', () => {
    fc.assert(
      fc.property(poolArbitrary, hashes, fc.array(fc.nat()), (pool, [resultHash, previousHash], noise) => {
        const order = pool.ids
          .map((_, i) => i)
          .sort((a, b) => (noise[a % Math.max(1, noise.length)] ?? 0) - (noise[b % Math.max(1, noise.length)] ?? 0) || b - a)
        const permuted: Pool = {
          config: pool.config,
          ids: order.map((i) => pool.ids[i]!),
          scores: Float64Array.from(order, (i) => pool.scores[i]!),
          newcomers: Uint8Array.from(order, (i) => pool.newcomers[i]!),
        }
        expect(elect(permuted, resultHash, previousHash)).toEqual(elect(pool, resultHash, previousHash))
      }),
      propertyOptions(200),
    )
  })

  it('records why each meme was elected, in a form anyone can re-check', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `meme-${i}`)
    const scores = Float64Array.from(ids, (_, i) => (i % 10) / 10 + 0.05)
    const config = defineElectionConfig({ seats: 8, bracketShares: [1, 1, 2], newcomerShare: 0.25, newcomerAgeRounds: 3 })
    const newcomers = Uint8Array.from(ids, (_, i) => (i % 8 === 0 ? 1 : 0))
    const resultHash = roundHash('r', 5)
    const previousHash = roundHash('r', 4)
    const election = electCommittee({ config, round: 5, ids, scores, newcomers, resultHash, previousHash })
    expect(election.servesRound).toBe(6)
    expect(election.elected).toHaveLength(8)
    expect(JSON.parse(JSON.stringify(election))).toEqual(election)
    const newcomerSeats = election.seats.filter((s) => s.bracket === 'newcomers')
    expect(newcomerSeats).toHaveLength(2)
    for (const seat of election.seats) {
      expect(seat.sortKey).toBe(Buffer.from(sortKeyOf(previousHash, seat.memeId)).toString('hex'))
      const i = ids.indexOf(seat.memeId)
      expect(seat.score).toBe(scores[i])
      if (seat.bracket !== 'newcomers') {
        const pool = election.pools[seat.bracket]!
        expect(seat.score).toBeGreaterThanOrEqual(pool.lowerScore!)
        expect(seat.score).toBeLessThan(pool.upperScore!)
        expect(newcomers[i]).toBe(0)
      } else expect(newcomers[i]).toBe(1)
    }
    // Ranks are the positions by sort key among the whole pool: recompute them from the record alone.
    for (const pool of election.pools) {
      const members = ids.filter((_id, i) =>
        pool.bracket === 'newcomers' ? newcomers[i] === 1 : newcomers[i] === 0 && scores[i]! >= pool.lowerScore! && scores[i]! < pool.upperScore!,
      )
      expect(members).toHaveLength(pool.population)
      const byKey = [...members].sort((a, b) => compareBytes(sortKeyOf(previousHash, a), sortKeyOf(previousHash, b)))
      const seated = election.seats.filter((s) => s.bracket === pool.bracket)
      expect(seated.map((s) => s.memeId)).toEqual(byKey.slice(0, pool.filledSeats))
      expect(seated.map((s) => s.rank)).toEqual(seated.map((_, k) => k))
    }
  })

  it('moves seats a bracket cannot fill to the highest brackets with memes, then to newcomers', () => {
    const config = defineElectionConfig({ seats: 10, bracketShares: [0, 0, 1], newcomerShare: 0.1, newcomerAgeRounds: 2 })
    // Top bracket: 2 memes; middle: 5; bottom: 5; newcomers: 4.
    const scores = [0.9, 0.95, 0.4, 0.4, 0.4, 0.4, 0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5, 0.5, 0.5, 0.5]
    const ids = scores.map((_, i) => `m${i}`)
    const newcomers = Uint8Array.from(ids, (_, i) => (i >= 12 ? 1 : 0))
    const election = electCommittee({
      config,
      round: 1,
      ids,
      scores: Float64Array.from(scores),
      newcomers,
      resultHash: roundHash('x', 1),
      previousHash: roundHash('x', 0),
    })
    expect(election.pools.map((p) => [p.allocatedSeats, p.filledSeats])).toEqual([
      [0, 2],
      [0, 5],
      [9, 2],
      [1, 1],
    ])
    // Only when established memes run out do newcomers fill the remaining seats.
    const few = electCommittee({
      config,
      round: 1,
      ids: ids.slice(0, 3).concat(ids.slice(12)),
      scores: Float64Array.from([...scores.slice(0, 3), ...scores.slice(12)]),
      newcomers: Uint8Array.from([0, 0, 0, 1, 1, 1, 1]),
      resultHash: roundHash('x', 1),
      previousHash: roundHash('x', 0),
    })
    expect(few.elected).toHaveLength(7)
    expect(few.pools.at(-1)!.filledSeats).toBe(4)
  })

  it('breaks a score exactly on a bracket boundary with h_r, and puts 1 in the top bracket', () => {
    const config = defineElectionConfig({ seats: 60, bracketShares: [1, 1], newcomerShare: 0, newcomerAgeRounds: 2 })
    const ids = Array.from({ length: 60 }, (_, i) => `tie-${i}`)
    const pools = (round: number) =>
      electCommittee({
        config,
        round,
        ids,
        scores: new Float64Array(60).fill(0.5),
        newcomers: new Uint8Array(60),
        resultHash: roundHash('tie', round),
        previousHash: roundHash('tie', round - 1),
      }).pools.map((p) => p.population)
    const a = pools(1)
    const b = pools(2)
    expect(a[0]! + a[1]!).toBe(60)
    expect(a[0]).toBeGreaterThan(15) // about half each way
    expect(a[1]).toBeGreaterThan(15)
    expect(a).not.toEqual(b) // another h_r, another split
    const top = electCommittee({
      config,
      round: 1,
      ids: ['one'],
      scores: Float64Array.of(1),
      newcomers: new Uint8Array(1),
      resultHash: roundHash('tie', 1),
      previousHash: roundHash('tie', 0),
    })
    expect(top.seats[0]!.bracket).toBe(1)
  })

  it('refuses inconsistent input with precise codes', () => {
    const config = defineElectionConfig({ seats: 2, bracketShares: [1], newcomerShare: 0, newcomerAgeRounds: 2 })
    const h = roundHash('e', 1)
    const base = { config, round: 1, ids: ['a', 'b'], scores: Float64Array.of(0.1, 0.2), newcomers: new Uint8Array(2), resultHash: h, previousHash: h }
    expect(codeOf(() => electCommittee(base))).toBeUndefined()
    expect(codeOf(() => electCommittee({ ...base, ids: ['a', 'a'] }))).toBe(MemeReputationErrorCode.DUPLICATE_MEME)
    expect(codeOf(() => electCommittee({ ...base, ids: ['a', ''] }))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => electCommittee({ ...base, ids: ['a', 'b\ud800'] }))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => electCommittee({ ...base, scores: Float64Array.of(0.1, Number.NaN) }))).toBe(MemeReputationErrorCode.SCORE_OUT_OF_RANGE)
    expect(codeOf(() => electCommittee({ ...base, scores: Float64Array.of(0.1, 1.5) }))).toBe(MemeReputationErrorCode.SCORE_OUT_OF_RANGE)
    expect(codeOf(() => electCommittee({ ...base, scores: Float64Array.of(0.1) }))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => electCommittee({ ...base, resultHash: new Uint8Array(31) }))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => electCommittee({ ...base, config: { ...config } }))).toBe(MemeReputationErrorCode.INVALID_ELECTION_CONFIG)
    const other = sha256(new Uint8Array(1))
    expect(codeOf(() => electCommittee({ ...base, sortKeys: prepareSortKeys(other, base.ids) }))).toBe(MemeReputationErrorCode.SORT_KEYS_MISMATCH)
    expect(codeOf(() => electCommittee({ ...base, sortKeys: prepareSortKeys(h, ['b', 'a']) }))).toBe(MemeReputationErrorCode.SORT_KEYS_MISMATCH)
    expect(codeOf(() => electCommittee({ ...base, sortKeys: prepareSortKeys(h, ['a', 'b', 'c']) }))).toBe(MemeReputationErrorCode.SORT_KEYS_MISMATCH)
    const forged = { ...prepareSortKeys(h, base.ids) }
    expect(codeOf(() => electCommittee({ ...base, sortKeys: forged }))).toBe(MemeReputationErrorCode.SORT_KEYS_MISMATCH)
    // A prepared prefix plus an uncovered id that duplicates it.
    expect(codeOf(() => electCommittee({ ...base, ids: ['a', 'a'], sortKeys: prepareSortKeys(h, ['a']) }))).toBe(MemeReputationErrorCode.DUPLICATE_MEME)
    expect(codeOf(() => prepareSortKeys(h, ['x', 'x']))).toBe(MemeReputationErrorCode.DUPLICATE_MEME)
    // The table keeps its own copy: changing the caller's array afterwards cannot pair ids with wrong keys.
    const ids = ['a', 'b']
    const keys = prepareSortKeys(h, ids)
    ids.push('c')
    ids[0] = 'z'
    expect(keys.ids).toEqual(['a', 'b'])
    expect(Object.isFrozen(keys.ids)).toBe(true)
    expect(codeOf(() => electCommittee({ ...base, ids, scores: Float64Array.of(0.1, 0.2, 0.3), newcomers: new Uint8Array(3), sortKeys: keys }))).toBe(
      MemeReputationErrorCode.SORT_KEYS_MISMATCH,
    )
  })

  it('checks election configs', () => {
    const ok = { seats: 4, bracketShares: [1, 2], newcomerShare: 0.25, newcomerAgeRounds: 2 }
    expect(defineElectionConfig(ok)).toMatchObject({ newcomerSeats: 1, bracketSeats: 3, bracketShares: [1 / 3, 2 / 3] })
    // Decimal shares whose double is a hair above the decimal: the floor is the written share, not one seat more.
    const floors: [number, number, number][] = [
      [0.07, 100, 7],
      [0.14, 50, 7],
      [0.29, 100, 29],
      [0.57, 100, 57],
      [0.1, 30, 3],
      [0.07, 99, 7],
      [0.0625, 32, 2],
      [0.3, 7, 3],
    ]
    for (const [share, seats, expected] of floors) {
      expect({ share, seats, newcomerSeats: defineElectionConfig({ ...ok, seats, newcomerShare: share }).newcomerSeats }).toEqual({
        share,
        seats,
        newcomerSeats: expected,
      })
    }
    const bad = [
      { ...ok, seats: 0 },
      { ...ok, seats: 2.5 },
      { ...ok, bracketShares: [] },
      { ...ok, bracketShares: [0, 0] },
      { ...ok, bracketShares: [1, -1] },
      { ...ok, bracketShares: [1, Number.POSITIVE_INFINITY] },
      { ...ok, newcomerShare: 1 },
      { ...ok, newcomerShare: -0.1 },
      { ...ok, newcomerAgeRounds: 1 },
    ]
    for (const spec of bad) expect(codeOf(() => defineElectionConfig(spec))).toBe(MemeReputationErrorCode.INVALID_ELECTION_CONFIG)
  })
})

describe('prepared sort keys cannot be edited by their holder', () => {
  it('exposes no key prefixes, and its hash is a string', () => {
    const previousHash = roundHash('frozen', 3)
    const keys = prepareSortKeys(previousHash, ['a', 'b', 'c'])
    expect(Object.keys(keys).sort()).toEqual(['ids', 'previousHash'])
    expect(typeof keys.previousHash).toBe('string')
    expect(Object.isFrozen(keys) && Object.isFrozen(keys.ids)).toBe(true)
    previousHash.fill(0) // the caller's buffer changing later changes nothing
    expect(prefixesOf(keys).previousHash).toEqual(roundHash('frozen', 3))
  })
})
