/** The devnet's uniform sample of a stream (reservoir sampling), used for finality latencies and transfers across systems. */
import { createRandom } from '@constellation/gossip'
import { describe, expect, it } from 'vitest'
import { Reservoir } from '../src/devnet/reservoir.js'

describe('Reservoir', () => {
  it('keeps everything up to its capacity, then a sample in which early and late items are equally likely', () => {
    const small = new Reservoir<number>(createRandom(1), 10)
    for (let i = 0; i < 7; i++) small.offer(i)
    expect(small.items).toEqual([0, 1, 2, 3, 4, 5, 6])
    // 2,000 streams of 100 items into 10 slots: each item is kept with probability 1/10, about 200 times.
    const random = createRandom(2)
    const kept = new Array<number>(100).fill(0)
    for (let trial = 0; trial < 2_000; trial++) {
      const reservoir = new Reservoir<number>(random.fork(), 10)
      for (let i = 0; i < 100; i++) reservoir.offer(i)
      expect(reservoir.items).toHaveLength(10)
      expect(new Set(reservoir.items).size).toBe(10)
      for (const item of reservoir.items) kept[item] = (kept[item] as number) + 1
    }
    const firstTen = kept.slice(0, 10).reduce((a, b) => a + b, 0)
    const lastTen = kept.slice(90).reduce((a, b) => a + b, 0)
    // Each is a sum of 2,000 x 10 draws at 1/10 (mean 2,000, sd about 42): within 10% of the mean by far.
    expect(firstTen).toBeGreaterThan(1_800)
    expect(firstTen).toBeLessThan(2_200)
    expect(lastTen).toBeGreaterThan(1_800)
    expect(lastTen).toBeLessThan(2_200)
  })
})
