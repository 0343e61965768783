/**
 * A seeded, in-memory network and virtual clock for protocol tests: every message is delivered after a random
 * delay (so messages reorder), and may be dropped or duplicated. Time advances only when nothing else can happen,
 * so a run with the same seed replays exactly and never waits on the wall clock.
 */
import type { BroadcastHandler, Clock, PeerId, RequestHandler, TrustChainMessenger } from '../src/index.js'

interface Timer {
  readonly at: number
  readonly order: number
  readonly run: () => void
  cancelled: boolean
}

export class SimClock implements Clock {
  #now = 1_700_000_000_000
  #order = 0
  #timers: Timer[] = []

  now(): number {
    return this.#now
  }

  setTimer(at: number, run: () => void): () => void {
    const timer: Timer = { at: Math.max(at, this.#now), order: this.#order++, run, cancelled: false }
    this.#timers.push(timer)
    return () => {
      timer.cancelled = true
    }
  }

  /** Runs the earliest timer, advancing the clock to it; false when none is left. */
  fireNext(): boolean {
    this.#timers = this.#timers.filter((timer) => !timer.cancelled)
    if (this.#timers.length === 0) return false
    let index = 0
    for (let i = 1; i < this.#timers.length; i++) {
      const t = this.#timers[i]!
      const best = this.#timers[index]!
      if (t.at < best.at || (t.at === best.at && t.order < best.order)) index = i
    }
    const [timer] = this.#timers.splice(index, 1)
    this.#now = timer!.at
    timer!.run()
    return true
  }
}

/** mulberry32 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
}

export interface SimNetworkOptions {
  readonly seed: number
  readonly dropRate?: number
  readonly duplicateRate?: number
  readonly minDelayMs?: number
  readonly maxDelayMs?: number
  /** When a request or its response is dropped, the requester learns it after this long. */
  readonly requestTimeoutMs?: number
}

interface Peer {
  handler?: RequestHandler
  broadcastHandler?: BroadcastHandler
}

export class SimNetwork {
  readonly clock = new SimClock()
  readonly random: () => number
  readonly stats = { requests: 0, dropped: 0, duplicated: 0, broadcasts: 0 }
  #peers = new Map<PeerId, Peer>()

  constructor(readonly options: SimNetworkOptions) {
    this.random = seededRandom(options.seed)
  }

  #delay(): number {
    const min = this.options.minDelayMs ?? 1
    const max = this.options.maxDelayMs ?? 20
    return min + Math.floor(this.random() * (max - min + 1))
  }
  #drop(): boolean {
    const drop = this.random() < (this.options.dropRate ?? 0)
    if (drop) this.stats.dropped++
    return drop
  }
  #copies(): number {
    const twice = this.random() < (this.options.duplicateRate ?? 0)
    if (twice) this.stats.duplicated++
    return twice ? 2 : 1
  }
  #later(run: () => void): void {
    this.clock.setTimer(this.clock.now() + this.#delay(), run)
  }

  messenger(self: PeerId): TrustChainMessenger {
    const peer: Peer = {}
    this.#peers.set(self, peer)
    return {
      request: (to, bytes) =>
        new Promise<Uint8Array>((resolve, reject) => {
          this.stats.requests++
          let settled = false
          const fail = () => {
            if (!settled) {
              settled = true
              reject(new Error('request lost'))
            }
          }
          const target = this.#peers.get(to)
          if (target?.handler === undefined || this.#drop()) {
            this.clock.setTimer(this.clock.now() + (this.options.requestTimeoutMs ?? 1_000), fail)
            return
          }
          const handler = target.handler
          for (let copy = this.#copies(); copy > 0; copy--) {
            this.#later(() => {
              handler(self, Uint8Array.from(bytes)).then(
                (response) => {
                  if (this.#drop()) this.clock.setTimer(this.clock.now() + (this.options.requestTimeoutMs ?? 1_000), fail)
                  else
                    this.#later(() => {
                      if (!settled) {
                        settled = true
                        resolve(response)
                      }
                    })
                },
                () => {
                  fail()
                },
              )
            })
          }
        }),
      handle: (handler) => {
        peer.handler = handler
      },
      broadcast: (bytes) => {
        this.stats.broadcasts++
        for (const [id, other] of this.#peers) {
          if (id === self || this.#drop()) continue
          for (let copy = this.#copies(); copy > 0; copy--) this.#later(() => other.broadcastHandler?.(self, Uint8Array.from(bytes)))
        }
      },
      onBroadcast: (handler) => {
        peer.broadcastHandler = handler
      },
    }
  }

  /**
   * Runs the network until nothing is left to do: lets pending promise chains finish, then fires the next timer,
   * and so on. `busy` reports work outside the network (nodes processing events).
   */
  async run(busy: () => boolean, maxSteps = 1_000_000): Promise<void> {
    for (let steps = 0; steps < maxSteps; steps++) {
      do {
        await new Promise((resolve) => setImmediate(resolve))
      } while (busy())
      if (!this.clock.fireNext()) return
    }
    throw new Error('the simulation did not settle')
  }
}
