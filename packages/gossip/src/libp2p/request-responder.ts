/**
 * The responder's side of request/response: serves the requests a peer sends on its long-lived stream to us.
 *
 * Each request is checked (penalty, rate limit, size, a handler for its protocol) and answered on the same stream with a
 * response or a typed error frame, in whatever order the handlers finish. A cancel frame aborts the handler's
 * signal. At most `maxInFlight` requests per stream run at once: beyond that the stream is paused, so the
 * requester's writes back up instead of our memory filling. A frame that does not decode resets the stream and
 * counts against the peer; it never reaches a handler.
 */
import type { Stream, StreamMessageEvent } from '@libp2p/interface'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { PeerRateLimiter } from '../limits/rate-limiter.js'
import type { PeerId, RequestHandler } from '../network.js'
import type { TrafficCounter } from '../network-traffic.js'
import { answerRequest, isThenable, type RequestAnswer } from '../registrations.js'
import { decodeRequestFrame, encodeRequestFrame, FrameReader, type RemoteErrorCode, type RequestFrame } from './request-frame.js'

export interface RequestResponderComponents {
  readonly self: PeerId
  readonly maxMessageBytes: number
  readonly maxFrameBytes: number
  readonly maxInFlight: number
  readonly rateLimiter: PeerRateLimiter
  /** Whether `peer` is in its penalty window: its requests are then refused, as its gossip is dropped. */
  isPenalised(peer: PeerId): boolean
  handlerFor(protocol: string): RequestHandler | undefined
  onViolation(peer: PeerId, reason: string): void
  /** Aborted when the network stops: every running handler is aborted with it. */
  readonly signal: AbortSignal
  /** Counts the frames read (`request`: requests and cancels) and written (`response`: answers and errors). */
  readonly traffic?: TrafficCounter
}

/** Serves one stream a peer opened to us; `serve()` starts it, and it ends when the stream closes or the network stops. */
export class RequestResponder {
  readonly #stream: Stream
  readonly #peer: PeerId
  readonly #components: RequestResponderComponents
  /** The handlers still running, by request id; a cancel frame or the stream's end aborts them. */
  readonly #running = new Map<number, AbortController>()
  readonly #reader: FrameReader

  constructor(stream: Stream, peer: PeerId, components: RequestResponderComponents) {
    this.#stream = stream
    this.#peer = peer
    this.#components = components
    this.#reader = new FrameReader(components.maxFrameBytes)
  }

  /** Starts serving: from here every frame the peer sends on the stream is handled. */
  serve(): void {
    const stream = this.#stream
    const { maxFrameBytes, signal } = this.#components
    // Room to hold what arrives while paused: yamux keeps sending until its window is used up.
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, 2 * maxFrameBytes + (1 << 20))
    const onStop = () => {
      this.#abortAll(signal.reason)
      stream.abort(signal.reason instanceof Error ? signal.reason : new Error('network stopped'))
    }
    if (signal.aborted) {
      onStop()
      return
    }
    signal.addEventListener('abort', onStop, { once: true })
    stream.addEventListener('message', (event) => this.#onMessage(event))
    // The requester closed its side: it will ask nothing more, so close ours once the answers are out.
    stream.addEventListener('remoteCloseWrite', () => this.#closeIfDone())
    stream.addEventListener('close', () => {
      signal.removeEventListener('abort', onStop)
      this.#abortAll(new GossipError(GossipErrorCode.PEER_UNREACHABLE, `stream from ${this.#peer.slice(0, 16)} closed`))
    })
  }

  #onMessage(event: StreamMessageEvent): void {
    const { maxMessageBytes, onViolation, traffic } = this.#components
    try {
      const chunk = event.data instanceof Uint8Array ? event.data : event.data.subarray()
      traffic?.received('request', chunk.length, 0)
      for (const body of this.#reader.push(chunk)) {
        traffic?.received('request', 0)
        if (!(body instanceof Uint8Array)) {
          // A request over our limit, from a peer whose limit is larger: refuse it without reading it.
          if (body.frameKind !== 'request') throw new GossipError(GossipErrorCode.MALFORMED, `oversized ${body.frameKind} frame`)
          if (this.#running.has(body.id)) throw new GossipError(GossipErrorCode.MALFORMED, `request id ${body.id} is already in use`)
          this.#fail(body.id, GossipErrorCode.MESSAGE_TOO_LARGE, `request frame of ${body.length} bytes is over the limit of ${maxMessageBytes}`)
          continue
        }
        const frame = decodeRequestFrame(body)
        if (frame.kind === 'request') this.#serveRequest(frame.id, frame.protocol, frame.data)
        else if (frame.kind === 'cancel') {
          const controller = this.#running.get(frame.id)
          if (controller !== undefined) {
            controller.abort(new GossipError(GossipErrorCode.ABORTED, 'the requester gave up'))
            this.#finish(frame.id, controller)
          }
        } else throw new GossipError(GossipErrorCode.MALFORMED, `a requester sent a ${frame.kind} frame`)
      }
    } catch (error) {
      onViolation(this.#peer, (error as Error).message)
      this.#stream.abort(error as Error)
    }
  }

  #serveRequest(id: number, protocol: string, data: Uint8Array): void {
    const { self, maxMessageBytes, maxInFlight, rateLimiter, isPenalised, handlerFor } = this.#components
    const peer = this.#peer
    if (this.#running.has(id)) throw new GossipError(GossipErrorCode.MALFORMED, `request id ${id} is already in use`)
    // RATE_LIMITED, the wire's code for "not now, because of your traffic": a penalty is a limit of that kind.
    if (isPenalised(peer)) {
      this.#fail(id, GossipErrorCode.RATE_LIMITED, `peer ${self.slice(0, 16)} refuses requests from a penalised peer`)
      return
    }
    if (!rateLimiter.tryTake(peer)) {
      this.#fail(id, GossipErrorCode.RATE_LIMITED, `peer ${self.slice(0, 16)} is rate limiting requests`)
      return
    }
    if (data.length > maxMessageBytes) {
      this.#fail(id, GossipErrorCode.MESSAGE_TOO_LARGE, `request of ${data.length} bytes is over the limit of ${maxMessageBytes}`)
      return
    }
    const handler = handlerFor(protocol)
    if (handler === undefined) {
      this.#fail(id, GossipErrorCode.UNKNOWN_PROTOCOL, `peer ${self.slice(0, 16)} does not handle ${protocol}`)
      return
    }
    const controller = new AbortController()
    this.#running.set(id, controller)
    if (this.#running.size >= maxInFlight) this.#stream.pause()
    const settle = (answer: RequestAnswer) => {
      if (controller.signal.aborted) return this.#finish(id, controller) // cancelled or stopping: nobody is waiting
      this.#finish(id, controller)
      queueMicrotask(() => this.#closeIfDone())
      if (answer.ok) this.#send({ kind: 'response', id, data: answer.data })
      else this.#fail(id, answer.code, answer.message)
    }
    const answer = answerRequest(handler, { from: peer, protocol, data, signal: controller.signal }, maxMessageBytes)
    if (isThenable(answer)) void answer.then(settle)
    else settle(answer)
  }

  #send(frame: RequestFrame): void {
    const stream = this.#stream
    if (stream.status !== 'open' || stream.writeStatus !== 'writable') return
    try {
      const bytes = encodeRequestFrame(frame)
      stream.send(bytes)
      this.#components.traffic?.sent('response', bytes.length)
    } catch {
      // The stream failed; its close event aborts the handlers.
    }
  }

  #fail(id: number, code: RemoteErrorCode, message: string): void {
    this.#send({ kind: 'error', id, code, message })
  }

  #finish(id: number, controller: AbortController): void {
    if (this.#running.get(id) === controller) this.#running.delete(id)
    if (this.#running.size < this.#components.maxInFlight && this.#stream.readStatus === 'paused') this.#stream.resume()
  }

  #closeIfDone(): void {
    const stream = this.#stream
    if (this.#running.size === 0 && stream.remoteWriteStatus === 'closed' && stream.writeStatus === 'writable') {
      stream.close().catch((error: Error) => stream.abort(error))
    }
  }

  #abortAll(reason: unknown): void {
    for (const controller of this.#running.values()) controller.abort(reason)
    this.#running.clear()
  }
}
