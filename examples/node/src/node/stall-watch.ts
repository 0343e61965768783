/**
 * Whether the consensus has stalled, as this node sees it: no certified round for `stallAfterMs`. Pure (the caller
 * passes the time), so the same rules hold in tests and in the node. The node checks it on a timer and says so once
 * when a stall begins (a warning with what it knows) and once when it ends; `/v1/status`, the metrics and the
 * explorer read `status(now)`.
 */

/** The default time without a certified round after which a node reports a stall. */
export const DEFAULT_STALL_AFTER_MS = 30_000

export interface StallStatus {
  readonly stalled: boolean
  /** When the stall began (the last certificate, or the start when none came): ms since the epoch. */
  readonly stalledSince?: number
  /** The last certified round this node applied, and when (ms since the epoch; the start when none yet). */
  readonly lastRound: number
  readonly lastCertificateAt: number
  readonly lastCertificateAgeSeconds: number
}

/** What `check` found changed: a stall that began, or one that ended (with how long it lasted). */
export type StallChange = { readonly kind: 'stalled'; readonly since: number } | { readonly kind: 'recovered'; readonly lastedMs: number }

export class StallWatch {
  readonly #stallAfterMs: number
  #lastRound = 0
  #lastAt: number
  #reported: number | undefined

  constructor(options: { readonly stallAfterMs: number; readonly startedAt: number; readonly round?: number }) {
    if (!(Number.isSafeInteger(options.stallAfterMs) && options.stallAfterMs > 0))
      throw new RangeError(`stallAfterMs must be a positive integer, got ${options.stallAfterMs}`)
    this.#stallAfterMs = options.stallAfterMs
    this.#lastAt = options.startedAt
    this.#lastRound = options.round ?? 0
  }

  /** A certificate of `round` was applied at `at`. */
  certified(round: number, at: number): void {
    if (round < this.#lastRound) return
    this.#lastRound = round
    this.#lastAt = Math.max(this.#lastAt, at)
  }

  /** The change since the last check, if any: call it on a timer and after each certificate. */
  check(now: number): StallChange | undefined {
    const stalled = now - this.#lastAt >= this.#stallAfterMs
    if (stalled && this.#reported === undefined) {
      this.#reported = this.#lastAt
      return { kind: 'stalled', since: this.#lastAt }
    }
    if (!stalled && this.#reported !== undefined) {
      const lastedMs = this.#lastAt - this.#reported
      this.#reported = undefined
      return { kind: 'recovered', lastedMs }
    }
    return undefined
  }

  status(now: number): StallStatus {
    const stalled = now - this.#lastAt >= this.#stallAfterMs
    return {
      stalled,
      ...(stalled ? { stalledSince: this.#lastAt } : {}),
      lastRound: this.#lastRound,
      lastCertificateAt: this.#lastAt,
      lastCertificateAgeSeconds: Math.max(0, now - this.#lastAt) / 1000,
    }
  }
}
