/**
 * The devnet's load: transfers of 1 unit between random pairs of distinct nodes, each submitted to the proposer's
 * HTTP API (`POST /v1/transactions`, which answers 201 once the counterparty agreed). Two ways to offer it:
 *   - closed loop (no rate): `concurrency` outstanding transfers per node, each worker sending the next as soon as
 *     the last was answered — it finds what the network sustains;
 *   - open loop (`rate` tx/s): transfers started on a schedule, whatever the answers, up to a cap of outstanding
 *     ones; those the cap refuses are counted as `shed`, so an overloaded network shows as such instead of
 *     silently lowering the offered rate.
 * The counters are live (the progress line reads them while the load runs).
 */
import { setMaxListeners } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import type { Random } from '@constellation/gossip'
import { type NodeApi, NodeApiError } from './node-api.js'

/** How often the open loop starts the transfers that are due. */
const OPEN_LOOP_TICK_MS = 10
/** A closed-loop worker whose node did not answer waits this long before trying it again (it may be restarting). */
const UNREACHABLE_BACKOFF_MS = 200

export interface LoadTarget {
  /** Hex public key: what other nodes send to. */
  readonly id: string
  readonly api: NodeApi
}

export interface LoadOptions {
  readonly targets: readonly LoadTarget[]
  readonly durationMs: number
  /** Transfers per second offered (open loop); undefined for the closed loop. */
  readonly rate?: number
  /** Closed loop: outstanding transfers per node. Open loop: the cap on outstanding ones is this times the nodes. */
  readonly concurrencyPerNode: number
  readonly random: Random
  readonly signal?: AbortSignal
  /** Each acknowledged transfer (201), with the proposer's index. */
  readonly onAcknowledged?: (id: string, from: number) => void
}

export class LoadCounters {
  sent = 0
  acknowledged = 0
  /** Answers with an error status, by the API's error code. */
  readonly rejected = new Map<string, number>()
  /** Requests that got no answer (connection refused or reset). */
  unreachable = 0
  /** Open loop only: transfers that were due while the cap of outstanding ones was reached. */
  shed = 0
  inFlight = 0
  startedAt = 0
  endedAt = 0

  get errors(): number {
    let sum = this.unreachable
    for (const count of this.rejected.values()) sum += count
    return sum
  }
}

export async function runLoad(options: LoadOptions, counters = new LoadCounters()): Promise<LoadCounters> {
  const { targets } = options
  if (targets.length < 2) throw new Error('a load of transfers needs at least two nodes')
  // One listener on the caller's signal; every request listens to this one (there may be hundreds at once).
  const stop = new AbortController()
  setMaxListeners(0, stop.signal)
  const onAbort = () => stop.abort(options.signal?.reason)
  options.signal?.addEventListener('abort', onAbort, { once: true })
  if (options.signal?.aborted === true) onAbort()
  try {
    return await offer(options, counters, stop.signal)
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}

async function offer(options: LoadOptions, counters: LoadCounters, signal: AbortSignal): Promise<LoadCounters> {
  const { targets, random } = options
  counters.startedAt = performance.now()
  const deadline = counters.startedAt + options.durationMs
  const running = () => performance.now() < deadline && !signal.aborted

  /** Resolves false when the proposer could not be reached. */
  const sendOne = async (from: number): Promise<boolean> => {
    const offset = 1 + random.int(targets.length - 1)
    const to = targets[(from + offset) % targets.length] as LoadTarget
    counters.sent++
    counters.inFlight++
    try {
      const id = await (targets[from] as LoadTarget).api.transfer(to.id, 1, signal)
      counters.acknowledged++
      options.onAcknowledged?.(id, from)
      return true
    } catch (error) {
      if (error instanceof NodeApiError && error.status > 0) {
        counters.rejected.set(error.code, (counters.rejected.get(error.code) ?? 0) + 1)
        return true
      }
      if (!signal.aborted) counters.unreachable++
      return false
    } finally {
      counters.inFlight--
    }
  }

  if (options.rate === undefined) {
    const workers = targets.flatMap((_, from) => Array.from({ length: options.concurrencyPerNode }, () => from))
    await Promise.all(
      workers.map(async (from) => {
        while (running()) {
          if (!(await sendOne(from))) await delay(UNREACHABLE_BACKOFF_MS, undefined, { signal }).catch(() => {})
        }
      }),
    )
  } else {
    const rate = options.rate
    const cap = options.concurrencyPerNode * targets.length
    const outstanding = new Set<Promise<void>>()
    let due = 0
    let next = 0
    await new Promise<void>((resolve) => {
      const tick = () => {
        if (!running()) {
          clearInterval(timer)
          return resolve()
        }
        const target = Math.floor(((performance.now() - counters.startedAt) * rate) / 1_000)
        for (; due < target; due++) {
          if (counters.inFlight >= cap) {
            counters.shed++
            continue
          }
          const sending = sendOne(next).then(() => {})
          next = (next + 1) % targets.length
          outstanding.add(sending)
          void sending.finally(() => outstanding.delete(sending))
        }
      }
      const timer = setInterval(tick, OPEN_LOOP_TICK_MS)
      tick()
    })
    await Promise.all(outstanding)
  }
  counters.endedAt = performance.now()
  return counters
}
