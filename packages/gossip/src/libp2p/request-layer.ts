/**
 * The request/response half of `Libp2pNetwork`, on one libp2p protocol (`REQUEST_PROTOCOL`): the registered
 * handlers, one `RequestChannel` per peer we ask (request-channel.ts: framing, many requests in flight on one
 * stream, timeouts), and the serving of each stream a peer opens to us (request-responder.ts: its rate limit, the
 * penalty box, size limits). A protocol violation either way counts against the peer.
 */
import type { PeerId as Libp2pPeerId, Stream } from '@libp2p/interface'
import { checkName, checkPayload, checkPeerId } from '../checks.js'
import type { Clock } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { PenaltyBox } from '../limits/penalty-box.js'
import { PeerRateLimiter } from '../limits/rate-limiter.js'
import type { NetworkLimits, PeerId, RequestHandler, RequestOptions } from '../network.js'
import type { TrafficCounter } from '../network-traffic.js'
// Registrations are kept as on the simulator, so both networks judge and dispatch alike.
import { RequestHandlers } from '../registrations.js'
import type { Libp2pNode } from './libp2p-node.js'
import { libp2pIdOf, networkIdOf } from './peer-identity.js'
import { RequestChannel } from './request-channel.js'
import { FRAME_OVERHEAD_BYTES, REQUEST_PROTOCOL } from './request-frame.js'
import { RequestResponder } from './request-responder.js'

/** Requests one node may have outstanding to one peer before more wait for room. */
const MAX_REQUESTS_IN_FLIGHT_PER_PEER = 256
/** Requests from one peer served at once before its stream is paused. */
const MAX_SERVED_IN_FLIGHT_PER_PEER = 64

export interface RequestLayerComponents {
  readonly self: PeerId
  readonly clock: Clock
  readonly limits: NetworkLimits
  readonly penalties: PenaltyBox
  readonly traffic: TrafficCounter
  /** Aborted when the network stops: every running handler is aborted with it. */
  readonly stopping: AbortSignal
  /** Whether the network is running (started, not stopping). */
  isRunning(): boolean
  /** The running libp2p node; throws NETWORK_CLOSED when the network is not running. */
  running(): Libp2pNode
  /** Counts a protocol violation against `peer`. */
  reject(peer: PeerId): void
}

export class RequestLayer {
  readonly #components: RequestLayerComponents
  readonly #handlers = new RequestHandlers()
  readonly #channels = new Map<PeerId, RequestChannel>()
  readonly #requestLimiter: PeerRateLimiter
  readonly #maxFrameBytes: number

  constructor(components: RequestLayerComponents) {
    this.#components = components
    this.#maxFrameBytes = components.limits.maxMessageBytes + FRAME_OVERHEAD_BYTES
    this.#requestLimiter = new PeerRateLimiter(components.clock, components.limits.maxRequestsPerPeerPerSecond)
  }

  /** Serves the request protocol on `node`: each stream a peer opens is served until it closes. */
  register(node: Libp2pNode): Promise<void> {
    return node.handle(REQUEST_PROTOCOL, (stream, connection) => this.#serve(stream, connection.remotePeer), {
      maxInboundStreams: 8,
      maxOutboundStreams: 8,
    })
  }

  request(peer: PeerId, protocol: string, data: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    const { self, limits, running } = this.#components
    try {
      checkPeerId(peer)
      checkName('protocol', protocol)
      checkPayload(data, limits, 'request')
      running()
    } catch (error) {
      return Promise.reject(error)
    }
    const timeout = options.timeout ?? limits.requestTimeoutMs
    if (!(timeout > 0)) return Promise.reject(new GossipError(GossipErrorCode.INVALID_INPUT, 'timeout must be positive'))
    if (options.signal?.aborted) {
      return Promise.reject(new GossipError(GossipErrorCode.ABORTED, 'request aborted', {}, { cause: options.signal.reason }))
    }
    if (peer === self) {
      return Promise.reject(new GossipError(GossipErrorCode.PEER_UNREACHABLE, 'a node does not send requests to itself'))
    }
    return this.#channelTo(peer).request(protocol, data, timeout, options.signal)
  }

  handle(protocol: string, handler: RequestHandler): () => void {
    return this.#handlers.add(protocol, handler)
  }

  /** `peer` disconnected: its requests fail with PEER_UNREACHABLE now rather than at their timeouts. */
  peerLeft(peer: PeerId): void {
    const channel = this.#channels.get(peer)
    this.#channels.delete(peer)
    channel?.close(new GossipError(GossipErrorCode.PEER_UNREACHABLE, `peer ${peer.slice(0, 16)} disconnected`))
  }

  /** The network stops: every outstanding request fails with `error`. */
  close(error: GossipError): void {
    for (const channel of this.#channels.values()) channel.close(error)
    this.#channels.clear()
  }

  #channelTo(peer: PeerId): RequestChannel {
    let channel = this.#channels.get(peer)
    if (channel === undefined) {
      const { clock, limits, traffic, running, reject } = this.#components
      const node = running()
      const created: RequestChannel = new RequestChannel({
        peer,
        clock,
        maxFrameBytes: this.#maxFrameBytes,
        maxInFlight: Math.min(MAX_REQUESTS_IN_FLIGHT_PER_PEER, limits.maxQueuedMessages),
        openStream: (signal) => node.dialProtocol(libp2pIdOf(peer), REQUEST_PROTOCOL, { signal }),
        onViolation: (from) => reject(from),
        traffic,
        onIdle: () => {
          if (this.#channels.get(peer) === created) this.#channels.delete(peer)
        },
      })
      channel = created
      this.#channels.set(peer, channel)
    }
    return channel
  }

  #serve(stream: Stream, remote: Libp2pPeerId): void {
    const { self, limits, penalties, traffic, stopping, isRunning, reject } = this.#components
    const peer = networkIdOf(remote)
    if (peer === undefined || !isRunning()) {
      stream.abort(new Error('not serving requests'))
      return
    }
    new RequestResponder(stream, peer, {
      self,
      maxMessageBytes: limits.maxMessageBytes,
      maxFrameBytes: this.#maxFrameBytes,
      maxInFlight: MAX_SERVED_IN_FLIGHT_PER_PEER,
      rateLimiter: this.#requestLimiter,
      isPenalised: (from) => penalties.isPenalised(from),
      handlerFor: (protocol) => this.#handlers.get(protocol),
      onViolation: (from) => reject(from),
      signal: stopping,
      traffic,
    }).serve()
  }
}
