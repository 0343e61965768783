/**
 * The gossip half of `Libp2pNetwork`: publish and subscribe over Gossipsub's one carrier topic (gossip-envelope.ts),
 * the screen that runs on each inbound RPC before Gossipsub's dedupe (penalised, over-rate and oversize messages
 * dropped), the topic validator where local handlers judge a message and their verdict becomes Gossipsub's Accept,
 * Ignore or Reject (a reject counting against the neighbour), and the mesh queries (`meshPeers`, `gossipReady`).
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import type { RPC } from '@libp2p/gossipsub/message'
import type { PeerId as Libp2pPeerId } from '@libp2p/interface'
import { checkName, checkPayload, checkPeerId } from '../checks.js'
import type { Clock } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { PenaltyBox } from '../limits/penalty-box.js'
import { PeerRateLimiter } from '../limits/rate-limiter.js'
import { SeenCache } from '../limits/seen-cache.js'
import type { NetworkLimits, PeerId, TopicHandler, Verdict } from '../network.js'
import type { TrafficCounter } from '../network-traffic.js'
// Registrations are kept as on the simulator, so both networks judge and dispatch alike.
import { TopicSubscriptions } from '../registrations.js'
import { decodeGossipEnvelope, encodeGossipEnvelope, GOSSIP_CARRIER_TOPIC } from './gossip-envelope.js'
import { meshPeerIds } from './gossipsub-internals.js'
import type { GossipTuning } from './libp2p-options.js'
import type { Libp2pNode } from './libp2p-node.js'
import { networkIdOf } from './peer-identity.js'
import { PublishBackpressure } from './publish-backpressure.js'

export interface GossipLayerComponents {
  readonly crypto: Crypto
  readonly clock: Clock
  readonly limits: NetworkLimits
  readonly tuning: GossipTuning
  readonly penalties: PenaltyBox
  readonly traffic: TrafficCounter
  /** Aborted when the network stops. */
  readonly stopping: AbortSignal
  /** Whether the network is running (started, not stopping). */
  isRunning(): boolean
  /** The running libp2p node; throws NETWORK_CLOSED when the network is not running. */
  running(): Libp2pNode
  /** Counts a misbehaviour against `peer` (and announces its penalty when that is one too many). */
  reject(peer: PeerId): void
}

const GOSSIPSUB_VERDICT: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
}

export class GossipLayer {
  readonly #components: GossipLayerComponents
  readonly #subscriptions = new TopicSubscriptions()
  readonly #seen: SeenCache
  readonly #gossipLimiter: PeerRateLimiter
  readonly #backpressure: PublishBackpressure
  /** Message ids computed by Gossipsub's msgIdFn, for the validator that sees the same message object next. */
  readonly #ids = new WeakMap<Message, string>()

  constructor(components: GossipLayerComponents) {
    this.#components = components
    const { clock, limits, tuning, stopping } = components
    this.#seen = new SeenCache(limits.seenCacheSize)
    this.#gossipLimiter = new PeerRateLimiter(clock, limits.maxMessagesPerPeerPerSecond)
    this.#backpressure = new PublishBackpressure({ clock, publishWaitMs: tuning.publishWaitMs, maxQueuedMessages: limits.maxQueuedMessages, stopping })
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    const { crypto, limits, running } = this.#components
    checkName('topic', topic)
    checkPayload(data, limits, 'message')
    const node = running()
    const envelope = encodeGossipEnvelope(topic, data)
    const id = toHex(crypto.sha256(envelope))
    if (this.#seen.has(id)) return // already spread
    const backedUp = this.#backpressure.backedUpStreams(node)
    if (backedUp.length > 0) {
      await this.#backpressure.waitForRoom(backedUp)
      running()
    }
    if (!this.#seen.add(id)) return // published by a concurrent call while this one waited
    await node.services.pubsub.publish(GOSSIP_CARRIER_TOPIC, envelope)
  }

  subscribe(topic: string, handler: TopicHandler): () => void {
    return this.#subscriptions.add(topic, handler)
  }

  /** Gossipsub's message id (`msgIdFn`): the SHA-256 of the envelope, kept for the validator as hex. */
  messageId(message: Message): Uint8Array {
    const digest = this.#components.crypto.sha256(message.data)
    this.#ids.set(message, toHex(digest))
    return digest
  }

  /**
   * Drops what a neighbour may not send us from each RPC, before Gossipsub sees it: the messages of a penalised
   * peer, those over its rate limit, and oversize ones (rejected and counted against it: the size limit is
   * network-wide, so forwarding one is misbehaviour, as on the simulator). This must come before Gossipsub's
   * dedupe: Gossipsub marks a message seen, and tells its mesh it has it (IDONTWANT), before our validator
   * runs, so a copy dropped there for its sender's sake would also drop the honest copies of other peers.
   */
  screen(source: Libp2pPeerId, rpc: RPC): RPC {
    const { limits, penalties, traffic, reject } = this.#components
    // Everything that arrived counts as received, whatever the screen then drops.
    for (const message of rpc.messages) traffic.received('gossip', message.data?.length ?? 0)
    const from = networkIdOf(source)
    if (from === undefined || rpc.messages.length === 0) return rpc
    const messages = rpc.messages.filter((message) => {
      if (message.topic !== GOSSIP_CARRIER_TOPIC) return true // Gossipsub drops topics it does not allow
      if (penalties.isPenalised(from)) return false
      if (isOversize(message.data, limits.maxMessageBytes)) {
        reject(from)
        return false
      }
      return this.#gossipLimiter.tryTake(from)
    })
    return messages.length === rpc.messages.length ? rpc : { ...rpc, messages }
  }

  /**
   * Gossipsub's topic validator: where a message from neighbour `source` is judged and delivered. Whatever it
   * ignores for the sender's sake would censor other peers' copies (see `screen`), so it ignores only what no
   * one should deliver: duplicates, and anything once the node is stopping.
   */
  async validate(source: Libp2pPeerId, message: Message): Promise<TopicValidatorResult> {
    const { crypto, isRunning, reject } = this.#components
    const from = networkIdOf(source)
    if (from === undefined || !isRunning()) return TopicValidatorResult.Ignore
    let envelope: ReturnType<typeof decodeGossipEnvelope>
    try {
      envelope = decodeGossipEnvelope(message.data)
    } catch {
      reject(from)
      return TopicValidatorResult.Reject
    }
    const id = this.#ids.get(message) ?? toHex(crypto.sha256(message.data))
    if (!this.#seen.add(id)) return TopicValidatorResult.Ignore
    if (!this.#subscriptions.has(envelope.topic)) return TopicValidatorResult.Accept // relay what we do not read
    const verdict = await this.#subscriptions.judge({ topic: envelope.topic, data: envelope.data, from, id })
    if (!isRunning()) return TopicValidatorResult.Ignore
    if (verdict === 'reject') reject(from)
    return GOSSIPSUB_VERDICT[verdict]
  }

  /** See `Libp2pNetwork.meshPeers`. */
  meshPeers(): PeerId[] {
    const node = this.#components.running()
    const ids = new Set(meshPeerIds(node.services.pubsub, GOSSIP_CARRIER_TOPIC))
    return node
      .getPeers()
      .filter((peer) => ids.has(peer.toString()))
      .map((peer) => networkIdOf(peer))
      .filter((peer): peer is PeerId => peer !== undefined)
  }

  /** See `Libp2pNetwork.gossipReady`. */
  async gossipReady(peers: readonly PeerId[], options: { signal?: AbortSignal } = {}): Promise<void> {
    for (const peer of peers) checkPeerId(peer)
    const { tuning, stopping, isRunning, running } = this.#components
    const pubsub = running().services.pubsub
    const meshLowerBound = Math.max(1, tuning.meshDegree - 2)
    const ready = () => {
      const subscribers = new Set(pubsub.getSubscribers(GOSSIP_CARRIER_TOPIC).map((peer) => networkIdOf(peer)))
      const mesh = new Set(this.meshPeers())
      const meshed = peers.filter((peer) => mesh.has(peer)).length
      return peers.every((peer) => subscribers.has(peer)) && meshed >= Math.min(peers.length, meshLowerBound)
    }
    if (ready()) return
    await new Promise<void>((resolve, reject) => {
      const signals = [stopping, ...(options.signal ? [options.signal] : [])]
      const events = ['subscription-change', 'gossipsub:graft', 'gossipsub:heartbeat'] as const
      const cleanup = () => {
        for (const event of events) pubsub.removeEventListener(event, check)
        for (const signal of signals) signal.removeEventListener('abort', onAbort)
      }
      const check = () => {
        if (!isRunning() || !ready()) return
        cleanup()
        resolve()
      }
      const onAbort = () => {
        cleanup()
        reject(
          stopping.aborted
            ? stopping.reason
            : new GossipError(GossipErrorCode.ABORTED, 'waiting for gossip peers aborted', {}, { cause: options.signal?.reason }),
        )
      }
      for (const signal of signals) {
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
      }
      for (const event of events) pubsub.addEventListener(event, check)
    })
  }
}

/** Whether a carrier message's payload is over `maxMessageBytes`; malformed envelopes are left to the validator. */
function isOversize(data: Uint8Array | undefined, maxMessageBytes: number): boolean {
  if (data === undefined || data.length <= maxMessageBytes) return false
  try {
    return decodeGossipEnvelope(data).data.length > maxMessageBytes
  } catch {
    return false
  }
}
