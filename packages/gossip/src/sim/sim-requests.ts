/**
 * Request/response for one simulated node: the requests it has outstanding (each settled once, by its response,
 * its timeout, its signal or the node's end) and the ones it is serving (penalty and rate limit checked, answered
 * with the handler's bytes or a typed error). Requests and responses are transmissions on the simulator's links,
 * which never lose them; a node that crashes or stops in between drops them, as over a dead connection.
 */
import type { Clock } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { PenaltyBox } from '../limits/penalty-box.js'
import { PeerRateLimiter } from '../limits/rate-limiter.js'
import type { NetworkLimits, PeerId, RequestHandler } from '../network.js'
import { answerRequest, isThenable, type RequestAnswer, RequestHandlers } from '../registrations.js'
import type { SimWorld } from './sim-world.js'

export type RequestOutcome = { readonly ok: true; readonly data: Uint8Array } | { readonly ok: false; readonly error: GossipError }

/** What the request layer needs of its own node and of the nodes it asks and answers. */
export interface SimRequestPeer<Node> {
  readonly peerId: PeerId
  /** True while the node is started and not crashed. */
  readonly running: boolean
  /** The node's current life: bumped on crash and stop, so that what an earlier life sent is void. */
  readonly epoch: number
  receiveRequest(from: Node, fromEpoch: number, id: number, protocol: string, data: Uint8Array): void
  receiveResponse(epoch: number, id: number, outcome: RequestOutcome): void
}

export interface SimRequestsComponents<Node extends SimRequestPeer<Node>> {
  readonly self: Node
  readonly world: Pick<SimWorld<Node>, 'clock' | 'transmit' | 'track'>
  /** The node's own clock, whose timers die with its life. */
  readonly clock: Clock
  readonly limits: NetworkLimits
  /** Shared with gossip: a peer penalised for its gossip has its requests refused too. */
  readonly penalties: PenaltyBox
}

export class SimRequests<Node extends SimRequestPeer<Node>> {
  readonly #components: SimRequestsComponents<Node>
  readonly #handlers = new RequestHandlers()
  readonly #requestLimiter: PeerRateLimiter
  readonly #pending = new Map<number, (outcome: RequestOutcome) => void>()
  readonly #inbound = new Set<AbortController>()
  #nextRequestId = 0

  constructor(components: SimRequestsComponents<Node>) {
    this.#components = components
    this.#requestLimiter = new PeerRateLimiter(components.world.clock, components.limits.maxRequestsPerPeerPerSecond)
  }

  handle(protocol: string, handler: RequestHandler): () => void {
    return this.#handlers.add(protocol, handler)
  }

  /** Sends a checked request to `target`; settles with its answer, or TIMEOUT, ABORTED or NETWORK_CLOSED. */
  send(target: Node, protocol: string, data: Uint8Array, timeout: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const { self, world, clock } = this.#components
    const id = this.#nextRequestId++
    return new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = () => settle({ ok: false, error: new GossipError(GossipErrorCode.ABORTED, 'request aborted', {}, { cause: signal?.reason }) })
      const timer = clock.setTimer(timeout, () =>
        settle({
          ok: false,
          error: new GossipError(GossipErrorCode.TIMEOUT, `no response to ${protocol} from ${target.peerId.slice(0, 16)} within ${timeout} ms`),
        }),
      )
      const settle = (outcome: RequestOutcome) => {
        if (!this.#pending.delete(id)) return
        timer.cancel()
        signal?.removeEventListener('abort', onAbort)
        if (outcome.ok) resolve(outcome.data)
        else reject(outcome.error)
      }
      this.#pending.set(id, settle)
      signal?.addEventListener('abort', onAbort, { once: true })
      const epoch = self.epoch
      world.transmit(self, target, data.length, 'request', () => target.receiveRequest(self, epoch, id, protocol, data))
    })
  }

  /** A request from `from` (in its life `fromEpoch`) arrived: refuse it or run its handler, and send the answer. */
  receive(from: Node, fromEpoch: number, id: number, protocol: string, data: Uint8Array): void {
    const { self, world, limits, penalties } = this.#components
    if (!self.running) return // the requester will time out, as over a dead connection
    const reply = (outcome: RequestOutcome) => {
      const size = outcome.ok ? outcome.data.length : 64
      world.transmit(self, from, size, 'response', () => from.receiveResponse(fromEpoch, id, outcome))
    }
    const fail = (code: GossipErrorCode, message: string) => reply({ ok: false, error: new GossipError(code, message) })
    // A penalised peer's requests are refused for the penalty window, as on libp2p.
    if (penalties.isPenalised(from.peerId) || !this.#requestLimiter.tryTake(from.peerId)) {
      fail(GossipErrorCode.RATE_LIMITED, `peer ${self.peerId.slice(0, 16)} is rate limiting requests`)
      return
    }
    const handler = this.#handlers.get(protocol)
    if (handler === undefined) {
      fail(GossipErrorCode.UNKNOWN_PROTOCOL, `peer ${self.peerId.slice(0, 16)} does not handle ${protocol}`)
      return
    }
    const controller = new AbortController()
    this.#inbound.add(controller)
    const epoch = self.epoch
    const settle = (answer: RequestAnswer) => {
      this.#inbound.delete(controller)
      if (self.epoch !== epoch) return
      if (answer.ok) reply(answer)
      else fail(answer.code, answer.message)
    }
    const answer = answerRequest(handler, { from: from.peerId, protocol, data, signal: controller.signal }, limits.maxMessageBytes)
    if (isThenable(answer)) world.track(answer.then(settle))
    else settle(answer)
  }

  /** The answer to request `id`, sent in this node's life `epoch`, arrived. */
  receiveResponse(epoch: number, id: number, outcome: RequestOutcome): void {
    const { self } = this.#components
    if (self.epoch !== epoch || !self.running) return
    this.#pending.get(id)?.(outcome)
  }

  /** The node's life ended: outstanding requests fail with `error`, handlers still running are aborted with it. */
  close(error: GossipError): void {
    for (const settle of this.#pending.values()) settle({ ok: false, error })
    this.#pending.clear()
    for (const controller of this.#inbound) controller.abort(error)
    this.#inbound.clear()
  }
}
