/**
 * A `TrustChainMessenger` over a gossip-style network: requests travel on one request/response protocol and
 * broadcasts on one topic. The network is described structurally (the few methods used), so this package needs
 * no dependency on a transport: @constellation/gossip's `Network` — `SimNetwork` nodes and `Libp2pNetwork` — fits.
 */
import type { BroadcastHandler, PeerId, RequestHandler, TrustChainMessenger } from './messenger.js'

/** The part of a network the messenger uses; @constellation/gossip's `Network` has it. */
export interface MessengerNetwork {
  request(peer: PeerId, protocol: string, data: Uint8Array, options?: { readonly timeout?: number }): Promise<Uint8Array>
  handle(protocol: string, handler: (request: { readonly from: PeerId; readonly data: Uint8Array }) => Uint8Array | Promise<Uint8Array>): () => void
  publish(topic: string, data: Uint8Array): Promise<void>
  subscribe(
    topic: string,
    handler: (message: { readonly from: PeerId; readonly data: Uint8Array }) => 'accept' | 'ignore' | 'reject' | Promise<'accept' | 'ignore' | 'reject'>,
  ): () => void
}

export const TRUSTCHAIN_PROTOCOL = '/constellation/trustchain/1'
export const TRUSTCHAIN_TOPIC = '/constellation/trustchain/blocks/1'

export interface NetworkMessengerOptions {
  readonly protocol?: string
  readonly topic?: string
  /** Called when a broadcast cannot be published (the network stopped, a queue is full). */
  readonly onError?: (error: unknown) => void
  /**
   * Whether to publish the node's blocks to everyone and take in others' (default true). Without broadcasts, blocks
   * travel only between counterparties and to those who crawl them, so each half-block is checked only where it
   * is needed: the choice for large networks, where replicating every block everywhere costs O(N) checks each.
   */
  readonly broadcasts?: boolean
}

export interface NetworkMessenger extends TrustChainMessenger {
  /** Removes the handler and the subscription. */
  close(): void
}

export function createNetworkMessenger(network: MessengerNetwork, options: NetworkMessengerOptions = {}): NetworkMessenger {
  const protocol = options.protocol ?? TRUSTCHAIN_PROTOCOL
  const topic = options.topic ?? TRUSTCHAIN_TOPIC
  const closers: (() => void)[] = []
  return {
    request: (peer, request) => network.request(peer, protocol, request),
    handle(handler: RequestHandler) {
      closers.push(network.handle(protocol, (request) => handler(request.from, request.data)))
    },
    broadcast(message) {
      if (options.broadcasts === false) return
      network.publish(topic, message).catch((error: unknown) => options.onError?.(error))
    },
    onBroadcast(handler: BroadcastHandler) {
      if (options.broadcasts === false) return
      // Blocks are checked by the ledger behind the handler; the network forwards what decodes as a message.
      closers.push(
        network.subscribe(topic, (message) => {
          handler(message.from, message.data)
          return 'accept'
        }),
      )
    },
    close() {
      for (const close of closers.splice(0)) close()
    },
  }
}
