/**
 * A node says when its consensus stalls. Two in-process nodes, both facilitators (n = 2: every round needs both);
 * once the second closes, the first certifies nothing more, and after `consensus.stallReportAfterMs` it logs a
 * warning naming the round it waits for and the facilitator it is not connected to, `/v1/status` and the metrics
 * say stalled, and the explorer's event stream says so. Before this, nothing said so: no warning, and the explorer
 * kept showing "live".
 */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, expect, it } from 'vitest'
import type { ExplorerAsset } from '../src/explorer/explorer-assets.js'
import type { ExplorerEvent } from '../src/explorer/explorer-views.js'
import type { StatusBody } from './api-bodies.js'
import { call, openEvents, startNetwork, type TestNetwork } from './explorer-api-harness.js'

const bundler = async (): Promise<readonly ExplorerAsset[]> => [
  { path: 'index.html', contentType: 'text/html; charset=utf-8', body: new TextEncoder().encode('<!doctype html><title>explorer</title>') },
]

/** Node 0's log lines, parsed. */
const lines: Record<string, unknown>[] = []
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
    done()
  },
})

let net: TestNetwork | undefined
afterAll(async () => {
  await net?.close()
})

const STALL_AFTER_MS = 1_500

it('a node whose committee stops certifying reports the stall in its log, /v1/status, its metrics and its event stream', async () => {
  net = await startNetwork({
    count: 2,
    bundler,
    consensus: { stallReportAfterMs: STALL_AFTER_MS },
    logger: (node) => pino({ level: node === 0 ? 'info' : 'silent' }, node === 0 ? capture : undefined),
  })
  const network = net
  const url = (path: string) => network.url(0, path)
  const events = await openEvents(url('/v1/events'))
  await events.next((event): event is Extract<ExplorerEvent, { kind: 'round' }> => event.kind === 'round', 30_000)
  const certifying = (await call<StatusBody>(url('/v1/status'))).json
  expect(certifying.consensus).toMatchObject({ stalled: false })
  expect(certifying.consensus.stalledSince).toBeUndefined()

  const before = new Set(events.events)
  const [, second] = network.nodes
  const stoppedAt = Date.now()
  await second?.close()
  const stalled = await events.next(
    (event): event is Extract<ExplorerEvent, { kind: 'consensus' }> => !before.has(event) && event.kind === 'consensus' && event.stalled,
    60_000,
  )
  // It began at the last certificate the node applied, which came before the second node closed.
  expect(stalled.stalledSince).toBeLessThanOrEqual(stoppedAt)

  const status = (await call<StatusBody>(url('/v1/status'))).json
  expect(status.consensus).toMatchObject({ stalled: true, stalledSince: stalled.stalledSince })
  expect(status.consensus.lastCertificateAgeSeconds).toBeGreaterThanOrEqual(STALL_AFTER_MS / 1000)
  const metrics = (await call(url('/v1/metrics'))).text
  expect(metrics).toMatch(/^constellation_consensus_stalled 1$/m)
  expect(Number(/^constellation_consensus_last_certificate_age_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(STALL_AFTER_MS / 1000)

  // The last warning: a busy machine can take longer than the threshold to certify the first round, which is a stall
  // too (reported, then ended by that round).
  const warning = lines.findLast((line) => line.msg !== undefined && String(line.msg).startsWith('consensus stalled'))
  expect(warning).toMatchObject({ level: 40, waitingForRound: status.round + 1, notConnected: [second?.id] })
  expect(warning?.facilitators).toEqual(expect.arrayContaining([network.nodes[0]?.id, second?.id]))
  // Node 0 facilitates the round it waits for: the warning says how far that round got.
  expect(warning?.facilitating).toMatchObject({ phase: expect.any(String), noProposalFrom: expect.any(Array), noShareFrom: expect.any(Array) })
  // A later stream is told at once.
  const later = await openEvents(url('/v1/events'))
  const hello = await later.next((event): event is Extract<ExplorerEvent, { kind: 'hello' }> => event.kind === 'hello')
  expect(hello.stalledSince).toBe(stalled.stalledSince)
  later.close()
  events.close()
}, 120_000)
