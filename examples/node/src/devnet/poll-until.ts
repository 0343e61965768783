/**
 * Waiting for a state that only shows over HTTP (a round reached, a transaction final): ask, and ask again after a
 * short pause, until the answer satisfies the condition, the time allowed runs out or the signal aborts. Bounded by
 * construction; the pause is between questions, never a guess at how long the state takes to arrive.
 */
import { setTimeout as delay } from 'node:timers/promises'

export interface PollOptions {
  readonly timeoutMs: number
  readonly intervalMs?: number
  readonly signal?: AbortSignal
  /** What is awaited, for the timeout's message. */
  readonly what: string
}

export async function pollUntil<A>(read: () => Promise<A>, done: (value: A) => boolean, options: PollOptions): Promise<A> {
  const deadline = performance.now() + options.timeoutMs
  const interval = options.intervalMs ?? 200
  let last: unknown
  for (;;) {
    options.signal?.throwIfAborted()
    try {
      const value = await read()
      if (done(value)) return value
      last = value
    } catch (error) {
      // A node that is still starting or restarting refuses connections: keep asking until the deadline.
      last = error
    }
    if (performance.now() + interval > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last)
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what} (last seen: ${seen?.slice(0, 300)})`)
    }
    await delay(interval, undefined, options.signal === undefined ? {} : { signal: options.signal })
  }
}
