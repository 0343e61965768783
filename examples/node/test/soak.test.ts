/**
 * The perturbation suite's fixed set, end to end with real node processes behind their loopback proxies: four nodes,
 * all four facilitators, a light load of transfers, one kill -9 (restarted on its data dir a second later), one
 * disconnect (the node's network cut for 4 s, then restored: it must find its peers again by itself and catch up),
 * one pause (SIGSTOP for 4 s, then SIGCONT) and one SIGTERM restart under load (a transfer under way when its
 * proposer closes used to be answered 503 although it moved value; see the node README, Perturbation suite). Every
 * invariant holds afterwards: no conflicting certificate, the stated balances sum to the genesis supply, every
 * transfer answered 201 is final on both sides, no error moved value, no fraud proof, every node caught up; and the
 * network healed after each perturbation. The report prints as text and ends with its JSON line.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { RoundSample } from '../src/soak/round-watch.js'
import { decodeManifest } from '../src/soak/soak-manifest.js'
import { formatReport, reportJson, type SoakReport } from '../src/soak/soak-report.js'
import { runSoak } from '../src/soak/soak.js'

const MANIFEST = decodeManifest({
  version: 1,
  seed: 17,
  network: { nodes: 4, facilitators: 4, balance: 1_000_000 },
  load: { kind: 'rate', transfersPerSecond: 4 },
  durationMs: 25_000,
  settleMs: 60_000,
  perturbations: [
    { atMs: 3_000, kind: 'kill', node: 2, downMs: 1_000 },
    { atMs: 10_000, kind: 'disconnect', node: 3, forMs: 4_000 },
    { atMs: 17_000, kind: 'pause', node: 1, forMs: 4_000 },
    { atMs: 22_000, kind: 'restart', node: 0 },
  ],
})

// A run still going after a failed or timed-out test is aborted: it then stops its nodes and removes its dir.
let stop: AbortController | undefined
let running: Promise<unknown> | undefined
let baseDir: string | undefined
afterEach(async () => {
  stop?.abort()
  await running?.catch(() => {})
  if (baseDir !== undefined) await rm(baseDir, { recursive: true, force: true })
  stop = undefined
  running = undefined
  baseDir = undefined
}, 60_000)

describe('soak: 4 nodes, kill -9 and restart, disconnect, pause, SIGTERM restart, under load', () => {
  it('survives the four perturbations and every invariant holds', async () => {
    stop = new AbortController()
    const notes: string[] = []
    // Kept (and removed after the test), for the rounds the run sampled.
    baseDir = await mkdtemp(join(tmpdir(), 'constellation-soak-test-'))
    const run = runSoak({ manifest: MANIFEST, note: (line) => notes.push(line), signal: stop.signal, baseDir, keep: true })
    running = run
    const report: SoakReport = await run

    const text = formatReport(report)
    expect(report.perturbations, text).toMatchObject({ planned: 4, applied: 4, survived: 4 })
    expect(report.invariants.violations, text).toEqual([])
    expect(report.invariants.certificates.conflicting).toBe(0)
    expect(report.invariants.certificates.roundsCompared).toBeGreaterThan(5)
    expect(report.invariants.supply).toEqual({ genesis: 4_000_000, sum: 4_000_000, difference: 0 })
    expect(report.invariants.transfers).toMatchObject({ lost: 0, errorsThatMoved: 0, unresolved: 0, unaccounted: 0 })
    expect(report.invariants.fraudProofs).toBe(0)
    // The load ran and was acknowledged: the kill did not stop the others from transferring.
    expect(report.transfers.answers.agreed).toBeGreaterThan(20)
    expect(report.invariants.transfers.acknowledged).toBe(report.transfers.answers.agreed)
    expect(report.settled).toBe(true)
    expect(report.ok).toBe(true)
    expect(notes.some((line) => line.includes('kill -9 node-2'))).toBe(true)
    expect(notes.some((line) => line.includes('disconnect node-3 for 4 s'))).toBe(true)
    expect(notes.some((line) => line.includes('restart node-0'))).toBe(true)
    // The disconnected node was cut for the whole 4 s and caught up after (survived, above, says it certified again).
    const cut = report.perturbations.outcomes.find((outcome) => outcome.description === 'disconnect node-3 for 4 s')
    expect(cut && cut.endedAtMs - cut.startedAtMs).toBeGreaterThanOrEqual(4_000)
    // And the cut was one: meanwhile the others certified on without it (its own connections were cut too, so it
    // did not keep up through them), and it was behind by at least two rounds at some point.
    const samples = (await readFile(join(baseDir, 'soak-rounds.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RoundSample)
    const during = samples.filter(
      (sample) => cut !== undefined && sample.atMs >= cut.startedAtMs && sample.atMs <= cut.endedAtMs && typeof sample.rounds[3] === 'number',
    )
    const lag = Math.max(...during.map((sample) => Math.max(...sample.rounds.map((round) => round ?? 0)) - (sample.rounds[3] ?? 0)))
    expect(lag, JSON.stringify(during)).toBeGreaterThanOrEqual(2)

    expect(text).toMatch(/^perturbations {3}4 applied, 4 survived/m)
    expect(text).toContain('result          every invariant holds')
    const json = JSON.parse(reportJson(report)) as { soak: SoakReport }
    expect(json.soak.invariants.transfers.lost).toBe(0)
    expect(json.soak.ok).toBe(true)
  }, 240_000)
})
