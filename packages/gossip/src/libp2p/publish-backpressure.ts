/**
 * Backpressure for publishers on libp2p: Gossipsub writes to its neighbours' streams without waiting, so before
 * handing it one more message a `publish` waits here for backed-up outbound gossip streams to drain, for at most
 * `publishWaitMs`. A stream still backed up then is marked stalled and passed over by later publishes until it
 * drains (Gossipsub buffers for it, up to its own cap), so one stalled neighbour cannot hold up the others. At most
 * `maxQueuedMessages` publishes wait at once; more fail with QUEUE_FULL.
 */
import type { Stream } from '@libp2p/interface'
import type { Clock } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { Libp2pNode } from './libp2p-node.js'
import { drained } from './stream-drain.js'

export interface PublishBackpressureComponents {
  readonly clock: Clock
  readonly publishWaitMs: number
  readonly maxQueuedMessages: number
  /** Aborted when the network stops: every wait ends with it. */
  readonly stopping: AbortSignal
}

export class PublishBackpressure {
  readonly #components: PublishBackpressureComponents
  /** Outbound gossip streams that stayed backed up through a publish's wait: passed over until they drain. */
  readonly #stalled = new WeakSet<Stream>()
  /** Our own publishes waiting for room; at `maxQueuedMessages` more fail with QUEUE_FULL. */
  #waiting = 0

  constructor(components: PublishBackpressureComponents) {
    this.#components = components
  }

  /** Our outbound gossip streams whose write buffers are backed up, but for those already found stalled. */
  backedUpStreams(node: Libp2pNode): Stream[] {
    const streams: Stream[] = []
    for (const connection of node.getConnections()) {
      for (const stream of connection.streams) {
        if (stream.direction !== 'outbound' || !stream.protocol.startsWith('/meshsub/')) continue
        if (stream.writableNeedsDrain && stream.status === 'open' && !this.#stalled.has(stream)) streams.push(stream)
      }
    }
    return streams
  }

  /**
   * Waits until `streams` drain, for at most `publishWaitMs`; throws QUEUE_FULL at once when `maxQueuedMessages`
   * publishes are already waiting.
   */
  waitForRoom(streams: readonly Stream[]): Promise<void> {
    const { maxQueuedMessages } = this.#components
    if (this.#waiting >= maxQueuedMessages) {
      throw new GossipError(GossipErrorCode.QUEUE_FULL, `${this.#waiting} publishes are already waiting for room to send`, {
        limit: maxQueuedMessages,
      })
    }
    this.#waiting++
    return this.#roomToGossip(streams).finally(() => {
      this.#waiting--
    })
  }

  async #roomToGossip(streams: readonly Stream[]): Promise<void> {
    const { clock, publishWaitMs, stopping } = this.#components
    const deadline = new AbortController()
    const onStop = () => deadline.abort()
    stopping.addEventListener('abort', onStop, { once: true })
    const timer = clock.setTimer(publishWaitMs, () => deadline.abort())
    try {
      await Promise.all(
        streams.map(async (stream) => {
          while (stream.writableNeedsDrain && stream.status === 'open') {
            try {
              await drained(stream, deadline.signal)
            } catch {
              break // closed, stopping, or past the deadline
            }
          }
          if (stream.writableNeedsDrain && stream.status === 'open' && !stopping.aborted) this.#markStalled(stream)
        }),
      )
    } finally {
      timer.cancel()
      stopping.removeEventListener('abort', onStop)
    }
  }

  #markStalled(stream: Stream): void {
    if (this.#stalled.has(stream)) return
    this.#stalled.add(stream)
    stream.addEventListener('drain', () => this.#stalled.delete(stream), { once: true })
  }
}
