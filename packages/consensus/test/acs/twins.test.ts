/**
 * The Twins suite: ACS with t Byzantine facilitators of n = 3t + 1 under a seeded adversarial scheduler — twins,
 * equivocation, withholding, garbage, replays and messages delayed forever — checking agreement, liveness, the
 * subset's size and validity on every seed. CONSENSUS_TWINS_SEEDS raises the seed count (default 200 per
 * configuration); scripts/twins-long.ts runs thousands.
 */
import { describe, expect, it } from 'vitest'
import { runAcsAdversarially } from '../support/adversarial-acs.js'

const SEEDS = Number(process.env.CONSENSUS_TWINS_SEEDS ?? 200)

/**
 * Seeds per test: a test stays far below vitest's per-test timeout even on a loaded machine. A seed's cost grows
 * with n² messages, so the largest committee gets smaller chunks (50 seeds at n = 16 took 32 s at load average 9).
 */
const chunkSize = (n: number): number => (n >= 16 ? 20 : 50)
const chunksOf = (n: number) => {
  const size = chunkSize(n)
  return Array.from({ length: Math.ceil(SEEDS / size) }, (_, i) => [i * size + 1, Math.min(SEEDS, (i + 1) * size)] as const)
}

describe.each([
  [1, 4],
  [2, 7],
  [5, 16],
])('Twins and Byzantine faults, t = %i (n = %i)', (t, n) => {
  it.each(chunksOf(n))('agreement, liveness and validity, seeds %i to %i', (first, last) => {
    for (let seed = first; seed <= last; seed++) {
      const run = runAcsAdversarially(n, t, seed)
      expect(run.violations, `${run.result.description} — replay with runAcsAdversarially(${n}, ${t}, ${seed})`).toEqual([])
    }
  })
})

describe('replay', () => {
  it('the same seed gives the same delivery order and the same outcome', () => {
    for (const seed of [3, 17]) {
      const first = runAcsAdversarially(7, 2, seed)
      const second = runAcsAdversarially(7, 2, seed)
      expect(second.fingerprint).toBe(first.fingerprint)
      expect(second.result.description).toBe(first.result.description)
    }
    expect(runAcsAdversarially(7, 2, 3).fingerprint).not.toBe(runAcsAdversarially(7, 2, 4).fingerprint)
  })
})
