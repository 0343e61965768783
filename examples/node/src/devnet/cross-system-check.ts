/**
 * Transfers across solar systems, checked after the load: each one the load saw agreed is looked up on both of its
 * nodes — final for the payer once its system settled it, final for the payee once the payee's system credited it
 * on the payer's system's agreement proof. Lookups of a few thousand transfers at most (a uniform sample beyond), a few
 * at a time, after the drain: nothing runs while the load does.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { Random } from '@constellation/gossip'
import * as t from 'io-ts'
import type { NodeApi } from './node-api.js'
import { Reservoir } from './reservoir.js'

/** Transfers looked up at most. */
export const CROSS_SYSTEM_CHECK_SIZE = 2_000
const LOOKUP_CONCURRENCY = 16
/** How long to wait before looking up again those not final on both sides yet. */
const RECHECK_MS = 500

const StatusCodec = t.type({ status: t.string })

export interface CrossSystemTransfer {
  readonly id: string
  readonly from: number
  readonly to: number
}

export interface CrossSystemFigures {
  /** Sent to, and agreed by, a member of another solar system. */
  readonly sent: number
  readonly agreed: number
  /** Looked up after the drain (all agreed ones, or a uniform sample of them). */
  readonly checked: number
  /** Of those: final on both sides (settled by the payer's system, credited by the payee's), and final for the payer only. */
  readonly finalBothSides: number
  readonly finalPayerOnly: number
}

/** A uniform sample of the agreed transfers across systems (reservoir sampling), to look up after the load. */
export class CrossSystemSample {
  readonly #sample: Reservoir<CrossSystemTransfer>

  constructor(random: Random) {
    this.#sample = new Reservoir(random, CROSS_SYSTEM_CHECK_SIZE)
  }

  offer(transfer: CrossSystemTransfer): void {
    this.#sample.offer(transfer)
  }

  /**
   * Looks each sampled transfer up on its payer and its payee; those not final on both sides are looked up again
   * (the payee's credit follows the root's commitment of the payer's round) until all are, or none became so for
   * `patienceMs`.
   */
  async check(apis: readonly NodeApi[], counts: { readonly sent: number; readonly agreed: number }, patienceMs = 10_000): Promise<CrossSystemFigures> {
    const statusOn = async (node: number, id: string) => {
      const api = apis[node]
      if (api === undefined) return undefined
      const answer = await api.exchange('GET', `/v1/transactions/${id}`, undefined).catch(() => undefined)
      const decoded = StatusCodec.decode(answer?.body)
      return decoded._tag === 'Right' ? decoded.right.status : undefined
    }
    let finalBothSides = 0
    let open = [...this.#sample.items]
    let payerOnly = new Set<string>()
    let lastGain = performance.now()
    while (open.length > 0) {
      const queue = [...open]
      const still: CrossSystemTransfer[] = []
      const payerFinal = new Set<string>()
      const worker = async () => {
        for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
          const [payer, payee] = await Promise.all([statusOn(next.from, next.id), statusOn(next.to, next.id)])
          if (payer === 'final' && payee === 'final') finalBothSides++
          else {
            still.push(next)
            if (payer === 'final') payerFinal.add(next.id)
          }
        }
      }
      await Promise.all(Array.from({ length: LOOKUP_CONCURRENCY }, worker))
      if (still.length < open.length) lastGain = performance.now()
      open = still
      payerOnly = payerFinal
      if (open.length === 0 || performance.now() - lastGain > patienceMs) break
      await delay(RECHECK_MS)
    }
    return { ...counts, checked: this.#sample.items.length, finalBothSides, finalPayerOnly: payerOnly.size }
  }
}
