/**
 * The requester's side of request/response with one peer: a single long-lived libp2p stream carries all our
 * requests to that peer, each tagged with an id, many in flight at once. Opening a stream per request costs a
 * protocol negotiation each time (~450 round trips/s here against ~4,200/s on one stream with 16 in flight).
 *
 * Bounds: at most `maxInFlight` requests are pending per peer (further callers wait for a slot, still under
 * their own timeout and signal), and a request is written only when the stream is not backed up, so a slow
 * peer slows its requesters down instead of growing our buffers. The stream is opened on first use and again
 * after it closes; requests outstanding on a stream that closes fail with PEER_UNREACHABLE.
 */
import { setMaxListeners } from 'node:events'
import type { Stream } from '@libp2p/interface'
import type { Clock, TimerHandle } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { PeerId } from '../network.js'
import type { TrafficCounter } from '../network-traffic.js'
import { decodeRequestFrame, encodeRequestFrame, FrameReader } from './request-frame.js'
import { drained } from './stream-drain.js'

export interface RequestChannelComponents {
  readonly peer: PeerId
  readonly clock: Clock
  readonly maxFrameBytes: number
  readonly maxInFlight: number
  /** Opens a new stream on the request protocol to the peer. */
  openStream(signal: AbortSignal): Promise<Stream>
  /** The peer broke the protocol (a frame that does not decode, or one it must not send). */
  onViolation(peer: PeerId, reason: string): void
  /**
   * The channel holds nothing any more (no stream, nothing pending), as after a peer that cannot be reached: the
   * owner may drop it, so that peers asked once and never reached do not each keep a channel.
   */
  onIdle?(): void
  /** Counts the frames written (`request`: requests and cancels) and read (`response`: answers and errors). */
  readonly traffic?: TrafficCounter
}

interface PendingRequest {
  readonly id: number
  /** The stream the request was written to, once it was. */
  stream: Stream | undefined
  settle(outcome: { ok: true; data: Uint8Array } | { ok: false; error: GossipError }): void
}

export class RequestChannel {
  readonly #components: RequestChannelComponents
  readonly #pending = new Map<number, PendingRequest>()
  readonly #slotWaiters: (() => void)[] = []
  readonly #closer = new AbortController()
  #inFlight = 0
  #nextId = 0
  #stream: Stream | undefined
  #opening: Promise<Stream> | undefined
  #closed: GossipError | undefined

  constructor(components: RequestChannelComponents) {
    this.#components = components
    // Each request waiting for the stream to drain listens on this signal; that is bounded by maxInFlight.
    setMaxListeners(Number.POSITIVE_INFINITY, this.#closer.signal)
  }

  get pendingCount(): number {
    return this.#pending.size
  }

  request(protocol: string, data: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    const id = this.#nextId
    this.#nextId = (this.#nextId + 1) >>> 0
    const { peer, clock } = this.#components
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: TimerHandle | undefined
      let holdsSlot = false
      const entry: PendingRequest = {
        id,
        stream: undefined,
        settle: (outcome) => {
          if (this.#pending.get(id) !== entry) return
          this.#pending.delete(id)
          timer?.cancel()
          signal?.removeEventListener('abort', onAbort)
          if (holdsSlot) this.#releaseSlot()
          if (this.#pending.size === 0 && this.#stream === undefined && this.#opening === undefined && this.#closed === undefined) {
            this.#components.onIdle?.()
          }
          if (outcome.ok) {
            resolve(outcome.data)
            return
          }
          // Tell the responder to stop working on it, when it was sent and the stream still stands.
          const code = outcome.error.code
          if (entry.stream !== undefined && (code === GossipErrorCode.TIMEOUT || code === GossipErrorCode.ABORTED)) {
            this.#write(entry.stream, encodeRequestFrame({ kind: 'cancel', id }))
          }
          reject(outcome.error)
        },
      }
      const onAbort = () => entry.settle({ ok: false, error: new GossipError(GossipErrorCode.ABORTED, 'request aborted', {}, { cause: signal?.reason }) })
      this.#pending.set(id, entry)
      timer = clock.setTimer(timeoutMs, () =>
        entry.settle({
          ok: false,
          error: new GossipError(GossipErrorCode.TIMEOUT, `no response to ${protocol} from ${peer.slice(0, 16)} within ${timeoutMs} ms`, {
            timeoutMs,
          }),
        }),
      )
      signal?.addEventListener('abort', onAbort, { once: true })
      const live = () => this.#pending.get(id) === entry
      void (async () => {
        try {
          if (!(await this.#takeSlot(live))) return
          if (!live()) {
            this.#releaseSlot()
            return
          }
          holdsSlot = true
          const stream = await this.#currentStream()
          while (stream.writableNeedsDrain && stream.status === 'open') await drained(stream, this.#closer.signal)
          if (!live()) return
          // The stream may have closed since it was handed out; its close event failed only the requests written
          // to it, so this one must fail here rather than be written to nothing and wait out its timeout.
          if (stream.status !== 'open' || stream.writeStatus !== 'writable') throw new Error('the stream closed before the request was sent')
          entry.stream = stream
          this.#write(stream, encodeRequestFrame({ kind: 'request', id, protocol, data }))
        } catch (cause) {
          entry.settle({ ok: false, error: this.#closed ?? unreachable(peer, cause) })
        }
      })()
    })
  }

  /** Fails every pending request with `error`, closes the stream, and refuses further requests. */
  close(error: GossipError): void {
    if (this.#closed !== undefined) return
    this.#closed = error
    this.#closer.abort(error)
    for (const entry of [...this.#pending.values()]) entry.settle({ ok: false, error })
    for (const wake of this.#slotWaiters.splice(0)) wake()
    this.#stream?.abort(error)
    this.#stream = undefined
  }

  #write(stream: Stream, frame: Uint8Array): void {
    if (stream.status !== 'open' || stream.writeStatus !== 'writable') return
    try {
      stream.send(frame)
      this.#components.traffic?.sent('request', frame.length)
    } catch {
      // The stream failed under us; its close event fails what was pending on it.
    }
  }

  /** Waits for room among the in-flight requests; false when the request ended or the channel closed first. */
  async #takeSlot(live: () => boolean): Promise<boolean> {
    while (this.#inFlight >= this.#components.maxInFlight) {
      if (!live() || this.#closed !== undefined) return false
      await new Promise<void>((wake) => this.#slotWaiters.push(wake))
    }
    if (this.#closed !== undefined) return false
    this.#inFlight++
    return true
  }

  #releaseSlot(): void {
    this.#inFlight--
    // Wake every waiter to re-check: one that timed out meanwhile must not swallow the wake-up.
    for (const wake of this.#slotWaiters.splice(0)) wake()
  }

  async #currentStream(): Promise<Stream> {
    if (this.#stream !== undefined) return this.#stream
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined
    })
    return this.#opening
  }

  async #open(): Promise<Stream> {
    const stream = await this.#components.openStream(this.#closer.signal)
    if (this.#closed !== undefined) {
      stream.abort(this.#closed)
      throw this.#closed
    }
    const { peer, maxFrameBytes, onViolation, traffic } = this.#components
    const reader = new FrameReader(maxFrameBytes)
    stream.addEventListener('message', (event) => {
      try {
        const chunk = event.data instanceof Uint8Array ? event.data : event.data.subarray()
        traffic?.received('response', chunk.length, 0)
        for (const body of reader.push(chunk)) {
          traffic?.received('response', 0)
          if (!(body instanceof Uint8Array)) {
            // A response over our limit (the responder's limit is larger): fail that request, drop the bytes.
            if (body.frameKind !== 'response') throw new GossipError(GossipErrorCode.MALFORMED, `oversized ${body.frameKind} frame`)
            this.#pending.get(body.id)?.settle({
              ok: false,
              error: new GossipError(GossipErrorCode.MESSAGE_TOO_LARGE, `response frame of ${body.length} bytes is over our limit`, {
                remote: peer,
              }),
            })
            continue
          }
          const frame = decodeRequestFrame(body)
          if (frame.kind === 'response') this.#pending.get(frame.id)?.settle({ ok: true, data: frame.data })
          else if (frame.kind === 'error') {
            this.#pending.get(frame.id)?.settle({ ok: false, error: new GossipError(frame.code, frame.message, { remote: peer }) })
          } else throw new GossipError(GossipErrorCode.MALFORMED, `a responder sent a ${frame.kind} frame`)
        }
      } catch (error) {
        onViolation(peer, (error as Error).message)
        stream.abort(error as Error)
      }
    })
    // A responder that closes its side will answer nothing more: fail what is pending now, not at its timeout.
    stream.addEventListener('remoteCloseWrite', () => stream.abort(new Error('the responder closed the stream')))
    stream.addEventListener('close', (event) => {
      if (this.#stream === stream) this.#stream = undefined
      const error = this.#closed ?? unreachable(peer, event.error)
      for (const entry of [...this.#pending.values()]) if (entry.stream === stream) entry.settle({ ok: false, error })
    })
    this.#stream = stream
    return stream
  }
}

function unreachable(peer: PeerId, cause: unknown): GossipError {
  const reason = cause instanceof Error ? `: ${cause.message}` : ''
  return new GossipError(GossipErrorCode.PEER_UNREACHABLE, `peer ${peer.slice(0, 16)} cannot be reached${reason}`, {}, { cause })
}
