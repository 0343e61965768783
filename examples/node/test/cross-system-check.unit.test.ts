/**
 * The devnet's check of transfers across solar systems: each one is looked up on its payer and its payee; those not
 * final on both sides yet are looked up again until they are, or none became so for a while.
 */
import { createRandom } from '@constellation/gossip'
import { describe, expect, it } from 'vitest'
import { CrossSystemSample } from '../src/devnet/cross-system-check.js'
import type { NodeApi } from '../src/devnet/node-api.js'

describe('the check of transfers across solar systems', () => {
  it('counts those final on both sides, waits for a payee that credits late, and tells those final for the payer only', async () => {
    // Node 0 pays; node 1 credits `late` on its third lookup, never `never`; `lost` is unknown to both.
    const api = (statuses: (id: string) => string | undefined): NodeApi =>
      ({
        exchange: async (_method: string, path: string) => {
          const id = path.split('/').at(-1) as string
          const status = statuses(id)
          return status === undefined ? { status: 404, body: { error: { code: 'NOT_FOUND' } }, text: '' } : { status: 200, body: { id, status }, text: '' }
        },
      }) as unknown as NodeApi
    const seen = new Map<string, number>()
    const payer = api((id) => (id === 'lost' ? undefined : 'final'))
    const payee = api((id) => {
      seen.set(id, (seen.get(id) ?? 0) + 1)
      if (id === 'now') return 'final'
      if (id === 'late') return (seen.get(id) as number) >= 3 ? 'final' : 'agreed'
      return id === 'never' ? 'agreed' : undefined
    })
    const sample = new CrossSystemSample(createRandom(1))
    for (const id of ['now', 'late', 'never', 'lost']) sample.offer({ id, from: 0, to: 1 })
    const figures = await sample.check([payer, payee], { sent: 5, agreed: 4 }, 1_500)
    expect(figures).toEqual({ sent: 5, agreed: 4, checked: 4, finalBothSides: 2, finalPayerOnly: 1 })
    expect(seen.get('late')).toBe(3)
  })
})
