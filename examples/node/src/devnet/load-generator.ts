/**
 * The devnet's load: transfers of 1 unit from each node to random other nodes, submitted to the proposer's HTTP API
 * in batches (`POST /v1/transactions/batch`: an array of transfers in, one outcome per transfer out), as a payment
 * service would send them. Two ways to offer it:
 *   - closed loop (no rate): `concurrency` outstanding batches of `batch` transfers per node, each worker sending
 *     the next batch as soon as the last was answered — it finds what the network sustains; a batch with
 *     back-pressure rejections (BUSY) makes its worker wait as long as their Retry-After asks (at most 2 s); with a
 *     `window`, a worker also waits while its node has that many transfers not final yet;
 *   - open loop (`rate` tx/s): batches started on a schedule (each tick's due transfers, spread over the nodes),
 *     whatever the answers, up to a cap of outstanding transfers; those the cap refuses are counted as `shed`, so an
 *     overloaded network shows as such instead of silently lowering the offered rate.
 * The counters count transfers, not requests, and are live (the progress line reads them while the load runs).
 */
import { setMaxListeners } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import type { Random } from '@constellation/gossip'
import { type NodeApi, NodeApiError } from './node-api.js'

/** How often the open loop starts the transfers that are due. */
const OPEN_LOOP_TICK_MS = 10
/** A closed-loop worker whose node did not answer waits this long before trying it again (it may be restarting). */
const UNREACHABLE_BACKOFF_MS = 200
/** The longest a worker honours a node's Retry-After (the load must go on within the run). */
const MAX_RETRY_AFTER_MS = 2_000
/** How often a worker held by the finality window looks again. */
const WINDOW_POLL_MS = 20

export interface LoadTarget {
  /** Hex public key: what other nodes send to. */
  readonly id: string
  readonly api: NodeApi
  /** Its solar system: a node transfers to the members of its own (default: every target is one system's). */
  readonly group?: string
}

export interface LoadOptions {
  readonly targets: readonly LoadTarget[]
  readonly durationMs: number
  /** Transfers per second offered (open loop); undefined for the closed loop. */
  readonly rate?: number
  /** Closed loop: outstanding batches per node. Open loop: the cap on outstanding transfers is this times `batch` times the nodes. */
  readonly concurrencyPerNode: number
  /** Transfers per request. */
  readonly batch: number
  readonly random: Random
  /**
   * Closed loop: at most `perNode` of a node's transfers not final yet (`unfinal(from)`, as the node last reported it,
   * plus those in requests under way); a worker waits for finality to catch up before it sends more. Without it the
   * loop waits only for agreement, and on a network that agrees faster than it finalises the backlog — and so the
   * finality latency — grows for as long as the load runs.
   */
  readonly window?: { readonly perNode: number; readonly unfinal: (from: number) => number }
  readonly signal?: AbortSignal
  /**
   * The share (0 to 1) of transfers sent to a member of another solar system, drawn per transfer (default 0: each node
   * transfers inside its own system, and a seed replays the pairs it always drew).
   */
  readonly crossSystemShare?: number
  /** Each acknowledged transfer (agreed), with the proposer's index and, for one across solar systems, the payee's. */
  readonly onAcknowledged?: (id: string, from: number, across?: { readonly to: number }) => void
}

export class LoadCounters {
  sent = 0
  /** Agreed by their counterparty when the answer came. */
  acknowledged = 0
  /** Signed, no answer yet when the batch was answered (they may still be agreed: not errors). */
  pending = 0
  /** Transfers refused (by the counterparty, voided; or before signing), by the API's error code. */
  readonly rejected = new Map<string, number>()
  /** Transfers of requests that got no answer (connection refused or reset) or an error answer. */
  unreachable = 0
  /** Open loop only: transfers that were due while the cap of outstanding ones was reached. */
  shed = 0
  /** Closed loop with a window: times a worker waited for its node's transfers to become final. */
  windowWaits = 0
  /** Of `sent` and `acknowledged`: transfers to a member of another solar system. */
  crossSystemSent = 0
  crossSystemAcknowledged = 0
  inFlight = 0
  startedAt = 0
  endedAt = 0

  get errors(): number {
    let sum = this.unreachable
    for (const count of this.rejected.values()) sum += count
    return sum
  }
}

/**
 * Per node, the others of its solar system, in the order of their distance after it (node i + 1 first, wrapping):
 * with one system, drawing the k-th is the `(i + 1 + k) mod n` the load always drew, so a seed replays the same pairs.
 */
function counterpartiesOf(targets: readonly LoadTarget[]): LoadTarget[][] {
  const n = targets.length
  return targets.map((target, from) =>
    Array.from({ length: n - 1 }, (_, k) => targets[(from + 1 + k) % n] as LoadTarget).filter((other) => other.group === target.group),
  )
}

export async function runLoad(options: LoadOptions, counters = new LoadCounters()): Promise<LoadCounters> {
  const { targets } = options
  if (targets.length < 2) throw new Error('a load of transfers needs at least two nodes')
  const peersOf = counterpartiesOf(targets)
  const alone = peersOf.findIndex((peers) => peers.length === 0)
  if (alone >= 0) throw new Error(`node ${targets[alone]?.id.slice(0, 16)}… has no other member of its solar system to transfer to`)
  // One listener on the caller's signal; every request listens to this one (there may be hundreds at once).
  const stop = new AbortController()
  setMaxListeners(0, stop.signal)
  const onAbort = () => stop.abort(options.signal?.reason)
  options.signal?.addEventListener('abort', onAbort, { once: true })
  if (options.signal?.aborted === true) onAbort()
  try {
    return await offer(options, peersOf, counters, stop.signal)
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}

/** Per node, the indices of the nodes of the other solar systems. */
function othersOf(targets: readonly LoadTarget[]): number[][] {
  return targets.map((target) => targets.flatMap((other, i) => (other.group !== target.group ? [i] : [])))
}

async function offer(options: LoadOptions, peersOf: readonly (readonly LoadTarget[])[], counters: LoadCounters, signal: AbortSignal): Promise<LoadCounters> {
  const { targets, random } = options
  const share = options.crossSystemShare ?? 0
  if (!(share >= 0 && share <= 1)) throw new RangeError(`the share of transfers across solar systems must be from 0 to 1, got ${share}`)
  const elsewhere = othersOf(targets)
  const indexOf = new Map(targets.map((target, i) => [target.id, i]))
  counters.startedAt = performance.now()
  const deadline = counters.startedAt + options.durationMs
  const running = () => performance.now() < deadline && !signal.aborted

  /**
   * Sends `count` transfers from node `from` in one batch. Resolves how long to wait before this worker's next batch:
   * 0, the longest `retryAfterMs` of the batch's back-pressure rejections (BUSY: a polite client waits as asked), or
   * a short backoff when the proposer could not be reached.
   */
  const sendBatch = async (from: number, count: number): Promise<number> => {
    const peers = peersOf[from] as readonly LoadTarget[]
    const others = elsewhere[from] as readonly number[]
    // Only a load with a share draws for it, so a load without one replays the pairs a seed always drew.
    const across = () => share > 0 && others.length > 0 && random.next() < share
    const transfers = Array.from({ length: count }, () =>
      across()
        ? { to: (targets[others[random.int(others.length)] as number] as LoadTarget).id, amount: 1 }
        : { to: (peers[random.int(peers.length)] as LoadTarget).id, amount: 1 },
    )
    const crossing = transfers.map((transfer) => targets[from]?.group !== targets[indexOf.get(transfer.to) as number]?.group)
    counters.sent += count
    counters.crossSystemSent += crossing.filter(Boolean).length
    counters.inFlight += count
    try {
      const outcomes = await (targets[from] as LoadTarget).api.transferBatch(transfers, signal)
      let wait = 0
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome.status === 'rejected') {
          counters.rejected.set(outcome.error.code, (counters.rejected.get(outcome.error.code) ?? 0) + 1)
          wait = Math.max(wait, Math.min(outcome.error.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS))
        } else if (outcome.status === 'refused') counters.rejected.set('REFUSED', (counters.rejected.get('REFUSED') ?? 0) + 1)
        else if (outcome.status === 'pending') counters.pending++
        else {
          counters.acknowledged++
          if (crossing[i] === true) {
            counters.crossSystemAcknowledged++
            options.onAcknowledged?.(outcome.id, from, { to: indexOf.get((transfers[i] as { to: string }).to) as number })
          } else options.onAcknowledged?.(outcome.id, from)
        }
      }
      return wait
    } catch (error) {
      if (error instanceof NodeApiError && error.status > 0) {
        counters.rejected.set(error.code, (counters.rejected.get(error.code) ?? 0) + count)
        return Math.min(error.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)
      }
      if (!signal.aborted) counters.unreachable += count
      return UNREACHABLE_BACKOFF_MS
    } finally {
      counters.inFlight -= count
    }
  }

  if (options.rate === undefined) {
    const workers = targets.flatMap((_, from) => Array.from({ length: options.concurrencyPerNode }, () => from))
    const sending = targets.map(() => 0)
    const { window } = options
    await Promise.all(
      workers.map(async (from) => {
        while (running()) {
          if (window !== undefined && window.unfinal(from) + (sending[from] as number) + options.batch > window.perNode) {
            counters.windowWaits++
            await delay(WINDOW_POLL_MS, undefined, { signal }).catch(() => {})
            continue
          }
          sending[from] = (sending[from] as number) + options.batch
          const wait = await sendBatch(from, options.batch).finally(() => (sending[from] = (sending[from] as number) - options.batch))
          // Not past the end of the run: a wait that outlasts it ends the worker.
          const paused = Math.min(wait, deadline - performance.now())
          if (paused > 0) await delay(paused, undefined, { signal }).catch(() => {})
        }
      }),
    )
  } else {
    const rate = options.rate
    const cap = options.concurrencyPerNode * options.batch * targets.length
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
        // What is due now, as batches of at most `batch`, one node after the other.
        while (due < target) {
          const count = Math.min(options.batch, target - due)
          due += count
          if (counters.inFlight + count > cap) {
            counters.shed += count
            continue
          }
          const sending = sendBatch(next, count).then(() => {})
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
