/**
 * Time as blocks are stamped with it: whole milliseconds. A `Clock` may tell finer time (the simulator's virtual
 * clock does); the nodes read it through `blockTime`, and set their timers for a time read that way with `timerAt`.
 */
import type { Clock, TimerHandle } from '@constellation/interface'

/** The clock's time in whole milliseconds. */
export function blockTime(clock: Clock): number {
  return Math.floor(clock.now())
}

/** A timer that fires at `at` on `clock` (at once if that has passed). */
export function timerAt(clock: Clock, at: number, callback: () => void): TimerHandle {
  return clock.setTimer(Math.max(0, at - clock.now()), callback)
}
