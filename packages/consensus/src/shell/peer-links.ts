/**
 * Reliable, coalescing links from one facilitator to the others.
 *
 * Round messages for a peer queue up; a few frames per peer may be in flight (`maxInFlight`), and everything that
 * queued while they flew goes out as the next frame — so a burst of O(n^2) protocol messages becomes a few frames per
 * peer, and a slow peer gets bigger frames rather than more of them. More than one frame in flight keeps a round's
 * sequential steps from waiting a full round trip for each acknowledgement. A frame that fails (timeout, dropped connection) goes back to
 * the head of the queue and is retried with exponential backoff, which turns a lossy transport into the reliable
 * links the agreement protocols assume. Messages of rounds that have ended are dropped.
 */
import type { Clock, TimerHandle } from '@constellation/gossip'
import type { RoundMessage } from '../round/facilitator-round.js'
import { MAX_FRAME_MESSAGES } from './wire.js'

/** Generous upper bounds of encoded sizes: the frame's own fields, and one message. */
const FRAME_OVERHEAD_BYTES = 256

function messageBytes(message: RoundMessage): number {
  if (message.kind === 'share') return 80
  const m = message.message
  return 'value' in m && m.value instanceof Uint8Array ? m.value.length + 32 : 'digest' in m ? m.digest.length + 24 : 24
}

export interface LinkTransport {
  /** Sends one frame of `round`'s messages; resolves when the peer acknowledged it. */
  send(peer: string, round: number, messages: readonly RoundMessage[]): Promise<void>
}

export interface PeerLinkOptions {
  readonly clock: Clock
  readonly transport: LinkTransport
  readonly retryMinMs: number
  readonly retryMaxMs: number
  /** Frames awaiting acknowledgement per peer at most (default 4). */
  readonly maxInFlight?: number
  /** Encoded bytes of one frame at most: a batch is cut before it would exceed them. */
  readonly maxFrameBytes: number
}

interface Link {
  queue: { round: number; message: RoundMessage }[]
  inFlight: number
  scheduled: TimerHandle | undefined
  failures: number
}

export interface LinkStats {
  framesSent: number
  framesFailed: number
  messagesSent: number
}

export class PeerLinks {
  readonly #options: PeerLinkOptions
  readonly #links = new Map<string, Link>()
  #currentRound = 0
  #closed = false
  readonly stats: LinkStats = { framesSent: 0, framesFailed: 0, messagesSent: 0 }

  readonly #maxInFlight: number

  constructor(options: PeerLinkOptions) {
    this.#options = options
    this.#maxInFlight = options.maxInFlight ?? 4
  }

  /** Messages of earlier rounds are no longer sent. */
  setRound(round: number): void {
    this.#currentRound = round
    for (const link of this.#links.values()) link.queue = link.queue.filter((item) => item.round >= round)
  }

  enqueue(peer: string, round: number, message: RoundMessage): void {
    if (this.#closed || round < this.#currentRound) return
    let link = this.#links.get(peer)
    if (link === undefined) {
      link = { queue: [], inFlight: 0, scheduled: undefined, failures: 0 }
      this.#links.set(peer, link)
    }
    link.queue.push({ round, message })
    this.#schedule(peer, link, 0)
  }

  close(): void {
    this.#closed = true
    for (const link of this.#links.values()) {
      link.scheduled?.cancel()
      link.queue = []
    }
  }

  #schedule(peer: string, link: Link, delayMs: number): void {
    if (link.inFlight >= this.#maxInFlight || link.scheduled !== undefined) return
    // One tick of delay collects everything the current event produces for this peer into one frame.
    link.scheduled = this.#options.clock.setTimer(delayMs, () => {
      link.scheduled = undefined
      this.#flush(peer, link)
    })
  }

  #flush(peer: string, link: Link): void {
    if (this.#closed || link.inFlight >= this.#maxInFlight) return
    link.queue = link.queue.filter((item) => item.round >= this.#currentRound)
    const first = link.queue[0]
    if (first === undefined) return
    // One frame carries one round; a later round's messages wait for the next frame.
    // Cut by size as well, so a frame always fits in one network message (a proposal alone is bounded below it).
    let count = 0
    let bytes = FRAME_OVERHEAD_BYTES
    while (count < link.queue.length && count < MAX_FRAME_MESSAGES) {
      const item = link.queue[count] as { round: number; message: RoundMessage }
      if (item.round !== first.round) break
      const size = messageBytes(item.message)
      if (count > 0 && bytes + size > this.#options.maxFrameBytes) break
      bytes += size
      count++
    }
    const batch = link.queue.splice(0, count)
    link.inFlight++
    this.#options.transport
      .send(
        peer,
        first.round,
        batch.map((item) => item.message),
      )
      .then(
        () => {
          link.inFlight--
          link.failures = 0
          this.stats.framesSent++
          this.stats.messagesSent += batch.length
          if (link.queue.length > 0) this.#schedule(peer, link, 0)
        },
        () => {
          link.inFlight--
          link.failures++
          this.stats.framesFailed++
          if (this.#closed) return
          link.queue.unshift(...batch)
          const backoff = Math.min(this.#options.retryMaxMs, this.#options.retryMinMs * 2 ** Math.min(link.failures - 1, 16))
          this.#schedule(peer, link, backoff)
        },
      )
  }
}
