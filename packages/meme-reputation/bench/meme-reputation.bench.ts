/**
 * Throughput of @constellation/meme-reputation on this machine, at the scale:
 *   - scoring 1,000,000 memes (memes/s);
 *   - electing a 32-seat committee from 1,000,000 memes (ms per election; target < 200 ms), against the naive
 *     election measured in the same run (every seat-holding bracket fully sorted by key) as the baseline;
 *   - preparing the 1,000,000 sort keys `H(h_{r-1} || id)` (done while round r runs) and, for completeness, an
 *     election without prepared keys, which hashes every meme of a seat-holding pool;
 *   - a whole round with runElection (1% of memes observed, score, elect), scanning the pool for the observed
 *     ids and with a caller-kept id index.
 * Scoring, both fast elections, the naive election and the whole rounds are medians of ROUNDS interleaved
 * repetitions (three fast elections of each kind per repetition), so slow drift of the machine hits all sides;
 * the election without prepared keys is the median of 3 runs, and preparing the keys is timed once.
 *
 * Run: pnpm bench (in packages/meme-reputation). BENCH_MEMES and BENCH_ROUNDS shrink or grow it.
 */
import { cpus, totalmem } from 'node:os'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  consensusFeatureSchema,
  defineDockingPolicy,
  defineElectionConfig,
  electCommittee,
  type Meme,
  type Observation,
  prepareSortKeys,
  runElection,
  scoreMemes,
  weightedLinearScorer,
} from '../src/index.js'
import { prefixesOf } from '../src/sort-keys.js'
import { naiveElection } from './naive-election.js'

const N = Number(process.env.BENCH_MEMES ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const ROUND = 1000

// A seeded xorshift for the synthetic pool: the bench is reproducible and the core never sees it.
let state = 0x9e3779b9
const random = () => {
  state ^= state << 13
  state ^= state >>> 17
  state ^= state << 5
  return (state >>> 0) / 2 ** 32
}

const schema = consensusFeatureSchema()
const scorer = weightedLinearScorer(schema, { roundsServed: 3, roundsFaulty: 2, provenFrauds: 4, latencyMs: 1, uptime: 1, slaMet: 1 })
const docking = defineDockingPolicy({ penalty: 0.5, recoveryHalfLife: 10 })
const config = defineElectionConfig({
  seats: 32,
  bracketShares: [1, 1, 2, 2, 3, 3, 4, 5, 6, 8],
  newcomerShare: 0.0625,
  newcomerAgeRounds: 3,
})

console.log(
  `@constellation/meme-reputation benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
)
console.log(`${N.toLocaleString('en-US')} memes, ${config.seats} seats, ${config.bracketShares.length} brackets; median of ${ROUNDS} interleaved repetitions\n`)

let t0 = performance.now()
const memes: Meme[] = new Array<Meme>(N)
for (let i = 0; i < N; i++) {
  const served = Math.floor(random() * 1200)
  const features = Float64Array.of(
    served,
    Math.floor(random() * random() * 30),
    random() < 0.002 ? 1 : 0,
    random() * 400_000,
    10 + random() * 900,
    0.5 + random() / 2,
    random(),
  )
  const firstSeenRound = i % 500 === 0 ? ROUND - 1 : Math.floor(random() * (ROUND - 10))
  memes[i] = {
    id: `node-${i.toString(16).padStart(6, '0')}`,
    features,
    firstSeenRound,
    // A meme cannot have been updated before it was first seen (assertMeme refuses it, as stored state does).
    updatedRound: Math.max(firstSeenRound, ROUND - 1 - Math.floor(random() * 20)),
    penalty: random() < 0.001 ? 0.5 : 0,
    history: { observations: served, goodObservations: served, provenFaults: 0 },
  }
}
const ids = memes.map((m) => m.id)
const newcomers = Uint8Array.from(memes, (m) => (ROUND - m.firstSeenRound < config.newcomerAgeRounds ? 1 : 0))
console.log(`pool built in ${(performance.now() - t0).toFixed(0)} ms\n`)

const encoder = new TextEncoder()
const hashAt = (r: number) => sha256(encoder.encode(`bench/${r}`))

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const time = (run: () => unknown): number => {
  const start = performance.now()
  run()
  return performance.now() - start
}

// Scores and keys used by the election measurements.
let scores = scoreMemes(scorer, memes, ROUND)
const previousHash = hashAt(ROUND - 1)
t0 = performance.now()
const sortKeys = prepareSortKeys(previousHash, ids)
const prepareMs = performance.now() - t0
const prefixes = prefixesOf(sortKeys)

// The table's own frozen id list is passed as `ids`, which lets the election skip comparing ids one by one.
const fastElection = (r: number) =>
  electCommittee({ config, round: ROUND, ids: sortKeys.ids, scores, newcomers, resultHash: hashAt(r), previousHash, sortKeys })
// What most callers do: their own array of the same ids, which the election checks against the table id by id.
const callerIdsElection = (r: number) => electCommittee({ config, round: ROUND, ids, scores, newcomers, resultHash: hashAt(r), previousHash, sortKeys })
const naive = (r: number) =>
  naiveElection(config, ids, scores, newcomers, hashAt(r), (a, b) => {
    const ha = prefixes.high[a]!
    const hb = prefixes.high[b]!
    return ha !== hb ? ha - hb : prefixes.low[a]! - prefixes.low[b]!
  })

// The two elections must agree before their speeds are compared.
const check = fastElection(ROUND).seats.map((s) => `${s.memeId}/${String(s.bracket)}/${s.rank}`)
const reference = naive(ROUND).map((s) => `${s.memeId}/${String(s.bracket)}/${s.rank}`)
if (check.join() !== reference.join()) throw new Error('fast and naive elections disagree')

const samples: Record<string, number[]> = { score: [], elect: [], electCallerIds: [], naive: [] }
for (let k = 0; k < ROUNDS; k++) {
  samples.score!.push(time(() => (scores = scoreMemes(scorer, memes, ROUND))))
  // Several fast elections per repetition (each with another h_r): they are short.
  for (let j = 0; j < 3; j++) {
    samples.elect!.push(time(() => fastElection(ROUND + 10 * k + j)))
    samples.electCallerIds!.push(time(() => callerIdsElection(ROUND + 10 * k + j)))
  }
  samples.naive!.push(time(() => naive(ROUND + 10 * k)))
}
const scoreMs = median(samples.score!)
const electMs = median(samples.elect!)
const electCallerIdsMs = median(samples.electCallerIds!)
const naiveMs = median(samples.naive!)

const cold: number[] = []
for (let k = 0; k < 3; k++) {
  cold.push(time(() => electCommittee({ config, round: ROUND, ids, scores, newcomers, resultHash: hashAt(k), previousHash })))
}
const coldMs = median(cold)

// A whole round: 1% of the memes observed, every meme scored, the committee elected with prepared keys.
const observations: Observation[] = Array.from({ length: N / 100 }, (_, k) => ({
  memeId: ids[(k * 7919) % N]!,
  values: { roundsServed: 1, latencyMs: 50, uptime: 1, slaMet: 1 },
  outcome: 'good',
}))
const index = new Map(ids.map((id, i) => [id, i]))
const whole: number[] = []
const wholeIndexed: number[] = []
for (let k = 0; k < ROUNDS; k++) {
  whole.push(time(() => runElection({ scorer, docking, config, round: ROUND, memes, observations, resultHash: hashAt(k), previousHash, sortKeys })))
  wholeIndexed.push(
    time(() => runElection({ scorer, docking, config, round: ROUND, memes, observations, resultHash: hashAt(k), previousHash, sortKeys, index })),
  )
}
const wholeMs = median(whole)
const wholeIndexedMs = median(wholeIndexed)

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
console.log(`score ${N.toLocaleString('en-US')} memes          ${fmt(scoreMs)} ms   = ${fmt((N / scoreMs) * 1000, 0)} memes/s`)
console.log(`prepare sort keys (once per round)  ${fmt(prepareMs)} ms   = ${fmt((N / prepareMs) * 1000, 0)} keys/s`)
console.log(`elect 32 seats, prepared keys       ${fmt(electMs)} ms   (target < 200 ms)`)
console.log(`elect, the caller's own ids array   ${fmt(electCallerIdsMs)} ms   (ids compared with the table's)`)
console.log(`naive election (full sort per pool) ${fmt(naiveMs)} ms`)
console.log(`ratio naive / elect                 ${fmt(naiveMs / electMs, 2)}x`)
console.log(`elect 32 seats without prepared keys ${fmt(coldMs)} ms   (hashes every meme of a seat-holding pool)`)
console.log(`whole round (update 1%, score, elect) ${fmt(wholeMs)} ms`)
console.log(`whole round with a kept id index   ${fmt(wholeIndexedMs)} ms`)
console.log(
  `\n${JSON.stringify({
    memes: N,
    scoreMs: Number(scoreMs.toFixed(1)),
    scoreRate: Math.round((N / scoreMs) * 1000),
    prepareSortKeysMs: Math.round(prepareMs),
    electMs: Number(electMs.toFixed(1)),
    electCallerIdsMs: Number(electCallerIdsMs.toFixed(1)),
    naiveElectMs: Number(naiveMs.toFixed(1)),
    naiveOverElect: Number((naiveMs / electMs).toFixed(2)),
    coldElectMs: Math.round(coldMs),
    wholeRoundMs: Number(wholeMs.toFixed(1)),
    wholeRoundIndexedMs: Number(wholeIndexedMs.toFixed(1)),
  })}`,
)
