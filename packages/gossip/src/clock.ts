/**
 * Time as an injected dependency. Protocol code asks a `Clock` for the time and for timers instead of calling
 * `Date.now` or `setTimeout`, so the same code runs on the wall clock and on the simulator's virtual clock.
 */

export interface TimerHandle {
  cancel(): void
}

export interface Clock {
  /** Milliseconds since the epoch (wall clock) or since the simulation began (virtual clock). */
  now(): number
  /** Calls `callback` once after `delayMs`; cancelling before then prevents the call. */
  setTimer(delayMs: number, callback: () => void): TimerHandle
}

/** Resolves after `delayMs` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = () => {
      timer.cancel()
      reject(signal?.reason)
    }
    const timer = clock.setTimer(delayMs, () => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The wall clock. Timers are unref'd so that a forgotten timer does not keep a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs))
    timer.unref?.()
    return { cancel: () => clearTimeout(timer) }
  },
}
