/**
 * Finality latencies for the devnet summary, exact and cheap at any rate: a uniform sample of the acknowledged
 * transfers (reservoir sampling, so early and late ones are equally likely) is looked up on its proposers after the
 * load, and each view carries the times the proposer's tracker recorded — `finalAt - submittedAt`, the same figure
 * the nodes' latency histogram observes. One lookup per sampled transfer, none while the load runs.
 */
import type { Random } from '@constellation/gossip'
import * as t from 'io-ts'
import type { NodeApi } from './node-api.js'
import { Reservoir } from './reservoir.js'

/** Transfers sampled: enough for a stable p99 (about 20 above it). */
export const FINALITY_SAMPLE_SIZE = 2_000
/** Lookups in flight at once after the load. */
const LOOKUP_CONCURRENCY = 16

const TrackedViewCodec = t.intersection([t.type({ id: t.string, status: t.string }), t.partial({ submittedAt: t.number, finalAt: t.number })])

export interface SampledTransfer {
  readonly id: string
  /** Index of the proposer. */
  readonly from: number
}

export class FinalitySample {
  readonly #sample: Reservoir<SampledTransfer>

  constructor(random: Random, capacity = FINALITY_SAMPLE_SIZE) {
    this.#sample = new Reservoir(random, capacity)
  }

  offer(transfer: SampledTransfer): void {
    this.#sample.offer(transfer)
  }

  get transfers(): readonly SampledTransfer[] {
    return this.#sample.items
  }

  /** Latencies (ms) of the sampled transfers that are final by now; the others are left out (and counted). */
  async latencies(apis: readonly NodeApi[]): Promise<{ latenciesMs: number[]; notFinal: number; unavailable: number }> {
    const latenciesMs: number[] = []
    let notFinal = 0
    let unavailable = 0
    const queue = [...this.#sample.items]
    const worker = async () => {
      for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
        const api = apis[next.from]
        try {
          if (api === undefined) throw new Error(`no node ${next.from}`)
          const view = await api.get(`/v1/transactions/${next.id}`, TrackedViewCodec)
          if (view.status === 'final' && view.finalAt !== undefined && view.submittedAt !== undefined) latenciesMs.push(view.finalAt - view.submittedAt)
          else notFinal++
        } catch {
          unavailable++
        }
      }
    }
    await Promise.all(Array.from({ length: LOOKUP_CONCURRENCY }, worker))
    return { latenciesMs, notFinal, unavailable }
  }
}
