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
