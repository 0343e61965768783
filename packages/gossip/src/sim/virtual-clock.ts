/**
 * Virtual time for the simulator: `now()` is the time of the event being run, and timers are events on the
 * agenda. Nothing waits in real time, so a simulated minute takes as long as its events take to process.
 */
import type { Clock, TimerHandle } from '../clock.js'
import { EventQueue } from './event-queue.js'

export class VirtualClock implements Clock {
  readonly queue = new EventQueue()
  #now = 0

  now(): number {
    return this.#now
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    return this.#schedule(delayMs, callback, false)
  }

  /** A timer for maintenance: a run without a deadline ends when only such timers are left. */
  setBackgroundTimer(delayMs: number, callback: () => void): TimerHandle {
    return this.#schedule(delayMs, callback, true)
  }

  #schedule(delayMs: number, callback: () => void, background: boolean): TimerHandle {
    if (Number.isNaN(delayMs)) throw new RangeError('timer delay is NaN')
    const event = this.queue.push(this.#now + Math.max(0, delayMs), callback, background)
    return { cancel: () => this.queue.remove(event) }
  }

  /** Runs the next event; false when the agenda is empty or the next event is after `until`. */
  step(until = Number.POSITIVE_INFINITY): boolean {
    const next = this.queue.peek()
    if (next === undefined || next.time > until) return false
    this.queue.pop()
    this.#now = next.time
    next.run()
    return true
  }

  /** Moves time forward to `time` without running anything (used when a run stops at a deadline). */
  advanceTo(time: number): void {
    if (time > this.#now) this.#now = time
  }
}
