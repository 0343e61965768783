/**
 * SLA figures a host publishes about itself: latency of recent invocations and the share that succeeded. They are
 * plain numbers, meant to be fed to a reputation system (e.g. as Proof-of-Meme features) by the node that wires
 * both; this package does not depend on one.
 */
export interface SlaFigures {
  readonly invocations: number
  readonly successes: number
  /** Successes / invocations (1 when there were none yet). */
  readonly successRate: number
  /** Latency percentiles of the last `window` invocations, in milliseconds. */
  readonly latencyP50Ms: number
  readonly latencyP95Ms: number
  /** The price per invocation the host advertises, in the chain's value unit. */
  readonly price: number
}

export class SlaRecorder {
  readonly #latencies: number[] = []
  readonly #window: number
  #next = 0
  #invocations = 0
  #successes = 0

  constructor(window = 1_024) {
    this.#window = window
  }

  record(latencyMs: number, succeeded: boolean): void {
    this.#invocations++
    if (succeeded) this.#successes++
    if (this.#latencies.length < this.#window) this.#latencies.push(latencyMs)
    else this.#latencies[this.#next] = latencyMs
    this.#next = (this.#next + 1) % this.#window
  }

  figures(price: number): SlaFigures {
    const sorted = [...this.#latencies].sort((a, b) => a - b)
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
    return {
      invocations: this.#invocations,
      successes: this.#successes,
      successRate: this.#invocations === 0 ? 1 : this.#successes / this.#invocations,
      latencyP50Ms: at(0.5),
      latencyP95Ms: at(0.95),
      price,
    }
  }
}
