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

/** Node's timers hold at most 2^31 - 1 ms; longer delays are waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647

/** The wall clock. Timers are unref'd so that a forgotten timer does not keep a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    if (Number.isNaN(delayMs)) throw new RangeError('timer delay is NaN')
    let timer: ReturnType<typeof setTimeout> | undefined
    let cancelled = false
    const wait = (remaining: number) => {
      const step = Math.min(Math.max(0, remaining), MAX_TIMER_MS)
      timer = setTimeout(() => {
        if (cancelled) return
        if (remaining > MAX_TIMER_MS) wait(remaining - MAX_TIMER_MS)
        else callback()
      }, step)
      timer.unref?.()
    }
    wait(delayMs)
    return {
      cancel: () => {
        cancelled = true
        clearTimeout(timer)
      },
    }
  },
}
