/**
 * One client's server-sent event stream: the text/event-stream framing of an `ExplorerEvent` (`event: <kind>`,
 * `data: <json>`, a blank line) and a bounded buffer in front of the socket. A client that reads slower than the
 * node produces events is dropped — its connection cut, which its EventSource answers by reconnecting and getting a
 * fresh `hello` — rather than buffered without bound: one stalled browser must not grow the node's memory.
 */
import { Readable } from 'node:stream'
import type { ExplorerEvent } from './explorer-views.js'

/** An SSE comment: keeps proxies and the browser from timing the idle connection out; EventSource ignores it. */
export const KEEP_ALIVE_COMMENT = ': keep-alive\n\n'

/** The SSE frame of one event. JSON never holds a raw newline, so the data fits on one `data:` line. */
export function eventFrame(event: ExplorerEvent): string {
  return `event: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`
}

/** Thrown into a dropped client's stream (the API then cuts its connection). */
export class SlowClientError extends Error {
  override readonly name = 'SlowClientError'
}

export class EventStream {
  /** What the API pipes to the response. */
  readonly readable: Readable
  readonly #maxBufferedBytes: number
  #ending = false

  constructor(maxBufferedBytes: number) {
    this.#maxBufferedBytes = maxBufferedBytes
    // Nothing to pull: frames are pushed as events happen.
    this.readable = new Readable({ read() {} })
  }

  get open(): boolean {
    return !this.readable.destroyed && !this.#ending
  }

  /** Queues a frame; drops the client instead when what it has not taken yet is past the limit. */
  send(frame: string): void {
    if (!this.open) return
    if (this.readable.readableLength + Buffer.byteLength(frame) > this.#maxBufferedBytes) {
      this.readable.destroy(new SlowClientError(`the client fell more than ${this.#maxBufferedBytes} bytes behind`))
      return
    }
    this.readable.push(frame)
  }

  /** Ends the stream after what is queued (the response then ends cleanly). */
  end(): void {
    if (!this.open) return
    this.#ending = true
    this.readable.push(null)
  }
}
