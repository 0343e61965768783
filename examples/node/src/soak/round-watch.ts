/**
 * The soak's view of consensus progress over time: every node's latest certified round, sampled a few times a second
 * through `GET /v1/status` (a node that does not answer in time — down, paused — is sampled as unknown). From the
 * samples, after the run: the longest stretch in which no node certified a new round (a stall of the network), and,
 * for each perturbation, how long after it ended the network certified again with the perturbed nodes caught up.
 * The analysis is pure (functions of the samples), so it is tested without processes.
 */
import { setTimeout as delay } from 'node:timers/promises'

export interface RoundSample {
  /** Since the load started (negative before it). */
  readonly atMs: number
  /** Each node's latest certified round, undefined when it did not answer. */
  readonly rounds: readonly (number | undefined)[]
}

/** The highest round any node reported in a sample (0 when none answered). */
export function networkRound(sample: RoundSample): number {
  return sample.rounds.reduce<number>((max, round) => Math.max(max, round ?? 0), 0)
}

export interface Stall {
  readonly fromMs: number
  readonly toMs: number
  /** The round the network stood at. */
  readonly round: number
  /** Whether it ended within the samples (a new round came), or was still going at the last one. */
  readonly ended: boolean
}

/** The longest stretch between new network rounds (from the first sample at a round to the first one above it). */
export function longestStall(samples: readonly RoundSample[]): Stall | undefined {
  let longest: Stall | undefined
  let since: RoundSample | undefined
  let round = -1
  for (const sample of samples) {
    const now = networkRound(sample)
    if (now > round) {
      if (since !== undefined && (longest === undefined || sample.atMs - since.atMs > longest.toMs - longest.fromMs))
        longest = { fromMs: since.atMs, toMs: sample.atMs, round, ended: true }
      since = sample
      round = now
    }
  }
  const last = samples.at(-1)
  if (since !== undefined && last !== undefined && (longest === undefined || last.atMs - since.atMs > longest.toMs - longest.fromMs)) {
    longest = { fromMs: since.atMs, toMs: last.atMs, round, ended: false }
  }
  return longest
}

/**
 * How long after `endedAtMs` the network had healed: the first sample at or after it whose network round is above
 * the one at `endedAtMs` and in which every node of `nodes` is at least at that round. Undefined if none did.
 */
export function recoveryMs(samples: readonly RoundSample[], endedAtMs: number, nodes: readonly number[]): number | undefined {
  const before = samples.filter((sample) => sample.atMs <= endedAtMs).at(-1)
  const baseline = before === undefined ? 0 : networkRound(before)
  for (const sample of samples) {
    if (sample.atMs < endedAtMs) continue
    if (networkRound(sample) > baseline && nodes.every((node) => (sample.rounds[node] ?? -1) >= baseline)) return sample.atMs - endedAtMs
  }
  return undefined
}

export interface RoundWatchOptions {
  readonly nodes: number
  /** Node `i`'s latest round, or a rejection when it does not answer within `timeoutMs`. */
  readonly readRound: (index: number, signal: AbortSignal) => Promise<number>
  readonly intervalMs?: number
  readonly timeoutMs?: number
  /** The zero of the samples' clock (`performance.now()` when the load started; may be set later). */
  origin: () => number
}

/** Samples every node's round until stopped. */
export class RoundWatch {
  readonly samples: RoundSample[] = []
  readonly #options: RoundWatchOptions
  #stopped = false
  #loop: Promise<void> | undefined

  constructor(options: RoundWatchOptions) {
    this.#options = options
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  /** The latest sample (undefined before the first). */
  get latest(): RoundSample | undefined {
    return this.samples.at(-1)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#loop
  }

  async #run(): Promise<void> {
    const { nodes, readRound, intervalMs = 250, timeoutMs = 2_000 } = this.#options
    while (!this.#stopped) {
      const started = performance.now()
      const rounds = await Promise.all(Array.from({ length: nodes }, (_, i) => readRound(i, AbortSignal.timeout(timeoutMs)).catch(() => undefined)))
      this.samples.push({ atMs: Math.round(started - this.#options.origin()), rounds })
      const left = intervalMs - (performance.now() - started)
      if (left > 0 && !this.#stopped) await delay(left)
    }
  }
}
