import { describe, expect, it } from 'vitest'
import { createRandom } from '@constellation/gossip'
import { runLoad, type LoadTarget } from '../src/devnet/load-generator.js'
import type { BatchOutcome, NodeApi } from '../src/devnet/node-api.js'

/** A node whose batches answer `answer(i)` for the i-th call, counting calls. */
function fakeNode(id: string, answer: (call: number, count: number) => BatchOutcome[]): { target: LoadTarget; calls: () => number } {
  let calls = 0
  const api = {
    transferBatch: async (transfers: readonly unknown[]) => answer(calls++, transfers.length),
  } as unknown as NodeApi
  return { target: { id, api }, calls: () => calls }
}

describe('load generator', () => {
  it('counts agreed, pending and rejected transfers by code, and waits as a BUSY answer’s Retry-After asks', async () => {
    const busy = fakeNode('a'.repeat(64), (_, count) =>
      Array.from({ length: count }, () => ({ status: 'rejected', error: { code: 'BUSY', retryAfterMs: 60_000 } })),
    )
    const fine = fakeNode('b'.repeat(64), (call, count) =>
      Array.from({ length: count }, (_, i) => (i === 0 ? { status: 'pending', id: `p${call}` } : { status: 'agreed', id: `${call}/${i}` })),
    )
    const counters = await runLoad({ targets: [busy.target, fine.target], durationMs: 150, concurrencyPerNode: 1, batch: 4, random: createRandom('load') })
    // The busy node was asked once: its worker then waited (within the run) instead of asking again at once.
    expect(busy.calls()).toBe(1)
    expect(fine.calls()).toBeGreaterThan(1)
    expect(counters.rejected.get('BUSY')).toBe(4)
    expect(counters.pending).toBe(fine.calls())
    expect(counters.acknowledged).toBe(3 * fine.calls())
    expect(counters.sent).toBe(4 * (busy.calls() + fine.calls()))
  })

  it('with a window, holds a node’s workers while it has that many transfers not final, and sends again once it has fewer', async () => {
    const agreed = (call: number, count: number): BatchOutcome[] => Array.from({ length: count }, (_, i) => ({ status: 'agreed', id: `${call}/${i}` }))
    const backlogged = fakeNode('a'.repeat(64), agreed)
    const flowing = fakeNode('b'.repeat(64), agreed)
    let backlog = 100
    const counters = await runLoad({
      targets: [backlogged.target, flowing.target],
      durationMs: 200,
      concurrencyPerNode: 2,
      batch: 10,
      random: createRandom('window'),
      window: { perNode: 100, unfinal: (from) => (from === 0 ? backlog : 0) },
    })
    expect(backlogged.calls()).toBe(0)
    expect(flowing.calls()).toBeGreaterThan(0)
    expect(counters.windowWaits).toBeGreaterThan(0)
    backlog = 85 // room for one batch of 10 at a time
    await runLoad({
      targets: [backlogged.target, flowing.target],
      durationMs: 100,
      concurrencyPerNode: 2,
      batch: 10,
      random: createRandom('window'),
      window: { perNode: 100, unfinal: (from) => (from === 0 ? backlog : 0) },
    })
    expect(backlogged.calls()).toBeGreaterThan(0)
  })
})
