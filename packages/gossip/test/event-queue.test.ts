import fc from 'fast-check'
import { expect, it } from 'vitest'
import { EventQueue } from '../src/sim/event-queue.js'
import { VirtualClock } from '../src/index.js'

it('pops events by time, then by scheduling order, with removals anywhere', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 200 }), (plan) => {
      const queue = new EventQueue()
      const kept: { time: number; order: number }[] = []
      const events = plan.map(([time, remove], order) => ({ event: queue.push(time, () => {}), time, order, remove }))
      for (const { event, time, order, remove } of events) {
        if (remove) queue.remove(event)
        else kept.push({ time, order })
      }
      kept.sort((a, b) => a.time - b.time || a.order - b.order)
      const popped: { time: number; order: number }[] = []
      for (let event = queue.pop(); event !== undefined; event = queue.pop()) popped.push({ time: event.time, order: event.order })
      expect(popped).toEqual(kept)
      expect(queue.size).toBe(0)
    }),
    { seed: 20261124, numRuns: 300 },
  )
})

it('a cancelled timer leaves the agenda, so idle runs end at the last real event', () => {
  const clock = new VirtualClock()
  const fired: number[] = []
  clock.setTimer(5, () => fired.push(clock.now()))
  const late = clock.setTimer(10_000, () => fired.push(clock.now()))
  late.cancel()
  while (clock.step()) {}
  expect(fired).toEqual([5])
  expect(clock.now()).toBe(5)
  expect(clock.queue.size).toBe(0)
})
