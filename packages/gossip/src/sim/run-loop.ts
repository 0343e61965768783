/**
 * The simulator's run loop: steps the virtual clock one event at a time and, between events, lets promise
 * continuations run, so that async protocol code finishes at the virtual instant it started, as on a fast machine.
 * One run at a time per simulation; `track` keeps the loop yielding while handler work is still settling.
 */
import { GossipError, GossipErrorCode } from '../errors.js'
import type { VirtualClock } from './virtual-clock.js'

export interface RunOptions {
  /** Stop before the first event after this virtual time, and move the clock to it. */
  readonly until?: number
  /** Stop after this many events (a guard against runaway protocols; default 50 million). */
  readonly maxEvents?: number
}

/** Continuation depth run after every event; tracked handler work gets more turns than plain awaits. */
const SHORT_DRAIN = 4
const LONG_DRAIN = 64

const yieldToMacrotasks = () => new Promise<void>((resolve) => setImmediate(resolve))

export class RunLoop {
  readonly #clock: VirtualClock
  #pendingWork = 0
  #running = false

  constructor(clock: VirtualClock) {
    this.#clock = clock
  }

  /** Keeps the loop yielding to promise continuations until `work` settles. */
  track(work: Promise<unknown>): void {
    this.#pendingWork++
    void work.finally(() => {
      this.#pendingWork--
    })
  }

  /** See `SimNetwork.run`. */
  async run(options: RunOptions = {}): Promise<number> {
    this.#enter()
    try {
      return await this.#drive(() => false, options)
    } finally {
      this.#running = false
    }
  }

  /** See `SimNetwork.runUntil`. */
  async runUntil<T>(promise: Promise<T>, timeoutMs = 600_000): Promise<T> {
    this.#enter()
    try {
      return await this.#runUntil(promise, timeoutMs)
    } finally {
      this.#running = false
    }
  }

  /** One run at a time: two loops stepping one clock would interleave unpredictably. */
  #enter(): void {
    if (this.#running) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, 'the simulation is already running: await the current run first')
    }
    this.#running = true
  }

  async #runUntil<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
    let settled = false
    let value: T | undefined
    let error: unknown
    let failed = false
    promise.then(
      (v) => {
        settled = true
        value = v
      },
      (e: unknown) => {
        settled = true
        failed = true
        error = e
      },
    )
    await drainContinuations(() => settled)
    const deadline = this.#clock.now() + timeoutMs
    await this.#drive(() => settled, { until: deadline })
    if (!settled) {
      throw new GossipError(GossipErrorCode.TIMEOUT, `simulation reached ${timeoutMs} virtual ms before the awaited work finished`)
    }
    if (failed) throw error
    return value as T
  }

  /**
   * The run loop. After every event it lets promise continuations run (microtasks only, which run in a
   * deterministic order), so an `await` inside a handler or a test resumes at the virtual instant its promise
   * settled. It never waits on real time while events are due — only when the agenda is empty and tracked work
   * still waits on something outside the simulation (real I/O), which a deterministic protocol must not do.
   */
  async #drive(done: () => boolean, options: RunOptions): Promise<number> {
    const until = options.until ?? Number.POSITIVE_INFINITY
    const maxEvents = options.maxEvents ?? 50_000_000
    const clock = this.#clock
    const queue = clock.queue
    let events = 0
    let idleTurns = 0
    while (events < maxEvents && !done()) {
      // Without a deadline, periodic maintenance alone does not keep the run going.
      if (!Number.isFinite(until) && queue.foreground === 0 && this.#pendingWork === 0) break
      if (!clock.step(until)) {
        if (this.#pendingWork > 0 && ++idleTurns < 1_000) {
          await yieldToMacrotasks()
          continue
        }
        // Nothing left at or before the deadline: time moves on to it.
        if (Number.isFinite(until)) clock.advanceTo(until)
        break
      }
      idleTurns = 0
      events++
      await drainContinuations(done, this.#pendingWork > 0)
    }
    return events
  }
}

/** Lets queued promise continuations run: each `await` turn advances every pending chain by one step. */
async function drainContinuations(done: () => boolean, long = false): Promise<void> {
  const turns = long ? LONG_DRAIN : SHORT_DRAIN
  for (let i = 0; i < turns && !done(); i++) await null
}
