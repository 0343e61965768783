/**
 * Ranks a pool of HTTP endpoints by what probing them shows, with @constellation/meme-reputation and nothing
 * else from Constellation.
 *
 * The imperative shell (this file) starts five local HTTP servers on 127.0.0.1 with OS-chosen ports, each with
 * its own latency and failure rate, probes every one of them once per round for a fixed number of rounds, and
 * turns each probe into an observation. The functional core (the package) folds observations into memes, scores
 * them with explanations, and picks the endpoints for the next traffic window by a deterministic election seeded
 * from a hash of the probe results. The servers are closed at the end, so the program exits by itself.
 */
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  defineDockingPolicy,
  defineElectionConfig,
  defineFeatureSchema,
  explainScore,
  type Meme,
  type Observation,
  runElection,
  updateMemes,
  weightedLinearScorer,
} from '@constellation/meme-reputation'

interface EndpointSpec {
  readonly id: string
  readonly latencyMs: number
  /** Share of requests answered with HTTP 503. */
  readonly failureRate: number
}

const ENDPOINTS: readonly EndpointSpec[] = [
  { id: 'eu-fast', latencyMs: 5, failureRate: 0 },
  { id: 'eu-steady', latencyMs: 40, failureRate: 0.1 },
  { id: 'us-slow', latencyMs: 150, failureRate: 0 },
  { id: 'ap-flaky', latencyMs: 10, failureRate: 0.4 },
  { id: 'ap-overloaded', latencyMs: 400, failureRate: 0.2 },
]
const ROUNDS = 12
const PROBE_TIMEOUT_MS = 250

/** A server that waits `latencyMs` and fails a fixed, evenly spread share of requests (reproducible runs). */
function startServer(spec: EndpointSpec): Promise<Server> {
  let served = 0
  const server = createServer((_request, response) => {
    const n = served++
    // Request n fails when the running count of failures due rises: exactly `failureRate` of requests, spread out.
    const fails = Math.floor((n + 1) * spec.failureRate) > Math.floor(n * spec.failureRate)
    setTimeout(() => {
      response.writeHead(fails ? 503 : 200, { 'content-type': 'text/plain', connection: 'close' })
      response.end(fails ? 'busy\n' : 'ok\n')
    }, spec.latencyMs)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/** One probe: an observation of availability (1 or 0) and latency (the timeout when there was no answer). */
async function probe(id: string, url: string): Promise<Observation> {
  const start = performance.now()
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
    await response.text()
    const latencyMs = performance.now() - start
    return response.ok
      ? { memeId: id, values: { availability: 1, latencyMs }, outcome: 'good' }
      : { memeId: id, values: { availability: 0, latencyMs }, outcome: 'bad' }
  } catch {
    // Timed out or refused: no answer within the timeout counts as the timeout. Reporting no latency would leave
    // a dead endpoint at the schema's default, better than a live one that answers slowly.
    return { memeId: id, values: { availability: 0, latencyMs: PROBE_TIMEOUT_MS }, outcome: 'bad' }
  }
}

const schema = defineFeatureSchema({
  halfLifeRounds: 30,
  features: [
    { name: 'latencyMs', direction: 'lower-is-better', normalisation: { kind: 'log', max: 1000 }, default: 300, aggregate: 'mean', smoothing: 0.5 },
    { name: 'availability', direction: 'higher-is-better', normalisation: { kind: 'clamp' }, default: 0.5, aggregate: 'mean', smoothing: 0.2 },
  ],
})
const scorer = weightedLinearScorer(schema, { latencyMs: 1, availability: 2 })
const docking = defineDockingPolicy({ penalty: 0.5, recoveryHalfLife: 3 })

const servers = await Promise.all(ENDPOINTS.map(async (spec) => ({ id: spec.id, server: await startServer(spec) })))
try {
  const targets = servers.map(({ id, server }) => ({ id, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }))
  console.log(`probing ${ENDPOINTS.length} endpoints for ${ROUNDS} rounds (timeout ${PROBE_TIMEOUT_MS} ms)`)
  let memes: readonly Meme[] = []
  // h_r and h_{r-1}: after the loop, the hashes of rounds ROUNDS and ROUNDS - 1 that seed the election.
  let resultHash: Uint8Array = createHash('sha256').update('endpoint-ranking/genesis').digest()
  let previousHash = resultHash
  for (let round = 1; round <= ROUNDS; round++) {
    const observations = await Promise.all(targets.map(({ id, url }) => probe(id, url)))
    memes = updateMemes({ schema, docking, memes, round, observations }).memes
    // The round's public result: a hash of what was observed, chained to the previous round's.
    const summary = observations.map((o) => `${o.memeId}:${o.outcome}`).join(',')
    previousHash = resultHash
    resultHash = createHash('sha256').update(previousHash).update(summary).digest()
    await sleep(20)
  }

  const ranking = memes.map((meme) => explainScore(scorer, meme, ROUNDS)).sort((a, b) => b.score - a.score)
  console.log('\nrank  endpoint        score  latency ms  availability  (contributions: latency + availability)')
  ranking.forEach((s, i) => {
    const [latency, availability] = s.contributions
    // The schema has exactly these two features, and every explanation has one contribution per feature.
    if (latency === undefined || availability === undefined) throw new Error(`${s.memeId}: expected 2 contributions, got ${s.contributions.length}`)
    console.log(
      `${String(i + 1).padStart(4)}  ${s.memeId.padEnd(14)}  ${s.score.toFixed(3)}  ${latency.value.toFixed(1).padStart(10)}  ${availability.value.toFixed(2).padStart(12)}` +
        `  (${latency.contribution.toFixed(3)} + ${availability.contribution.toFixed(3)})`,
    )
  })

  // Which two endpoints take the next traffic window: the best bracket is preferred, the hash spreads the load.
  const config = defineElectionConfig({ seats: 2, bracketShares: [0, 1, 3], newcomerShare: 0, newcomerAgeRounds: 2 })
  const { election } = runElection({
    scorer,
    docking,
    config,
    round: ROUNDS,
    memes,
    resultHash,
    previousHash,
  })
  console.log('\nnext window:', election.seats.map((s) => `${s.memeId} (bracket ${String(s.bracket)}, rank ${s.rank})`).join(', '))
} finally {
  // Probes that timed out leave sockets the servers would otherwise hold open for seconds.
  await Promise.all(
    servers.map(({ server }) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      return closed
    }),
  )
}
