/**
 * Time as the protocol shell sees it: the current time and one-shot timers. Injected, so that tests can run the
 * node on a virtual clock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /** Calls `callback` at (or soon after) time `at`; returns a function that cancels it. */
  setTimer(at: number, callback: () => void): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(at, callback) {
    const timer = setTimeout(callback, Math.max(0, at - Date.now()))
    // A pending retry must not keep a process alive on its own.
    timer.unref?.()
    return () => clearTimeout(timer)
  },
}

/** A clock whose timers take a delay and return a handle, as @constellation/gossip's `Clock` and `VirtualClock`. */
export interface DelayClock {
  now(): number
  setTimer(delayMs: number, callback: () => void): { cancel(): void }
}

/**
 * This package's `Clock` on top of a delay-based one, so a node can share the simulator's virtual clock. Times are
 * whole milliseconds, as block timestamps are; a virtual clock's fractions are floored.
 */
export function fromDelayClock(clock: DelayClock): Clock {
  return {
    now: () => Math.floor(clock.now()),
    setTimer(at, callback) {
      const handle = clock.setTimer(Math.max(0, at - clock.now()), callback)
      return () => handle.cancel()
    },
  }
}
