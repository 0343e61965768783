import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { maxWaitRounds, mempoolPriority, MemeReputationErrorCode, orderMempool } from '../src/index.js'
import { codeOf, propertyOptions } from './helpers.js'

const policy = { agingPerRound: 0.1 }

describe('mempool priority', () => {
  it('serves higher reputation first, never drops an entry, and lets waiting overtake reputation', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ score: fc.double({ min: 0, max: 1, noNaN: true }), waitedRounds: fc.nat(30) }), { maxLength: 50 }), (raw) => {
        const entries = raw.map((e, i) => ({ key: i, arrival: i, ...e }))
        const order = orderMempool(policy, entries)
        expect([...order].sort((a, b) => a - b)).toEqual(entries.map((e) => e.key))
        const priority = (k: number) => mempoolPriority(policy, entries[k]!.score, entries[k]!.waitedRounds)
        for (let i = 1; i < order.length; i++) expect(priority(order[i - 1]!)).toBeGreaterThanOrEqual(priority(order[i]!))
      }),
      propertyOptions(200),
    )
    // A sender with no reputation outranks a perfect newcomer after maxWaitRounds.
    const wait = maxWaitRounds(policy, 0)
    expect(wait).toBe(10)
    expect(
      orderMempool(policy, [
        { key: 'fresh-perfect', score: 1, waitedRounds: 0, arrival: 2 },
        { key: 'old-unknown', score: 0, waitedRounds: wait, arrival: 1 },
      ]),
    ).toEqual(['old-unknown', 'fresh-perfect'])
  })

  it('refuses bad input', () => {
    expect(codeOf(() => mempoolPriority({ agingPerRound: 0 }, 0.5, 1))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => mempoolPriority(policy, 1.5, 1))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => mempoolPriority(policy, 0.5, -1))).toBe(MemeReputationErrorCode.INVALID_INPUT)
    expect(codeOf(() => orderMempool(policy, [{ key: 1, score: 0.5, waitedRounds: 0, arrival: Number.NaN }]))).toBe(MemeReputationErrorCode.INVALID_INPUT)
  })
})
