/**
 * A `TrustChainMessenger` over a `MessageNetwork` (@constellation/interface): requests travel on one request/response
 * protocol and broadcasts on one topic. Any network with those four methods fits — @constellation/gossip's
 * `SimNetwork` nodes and `Libp2pNetwork` among them — so this package depends on no transport.
 */
import type { MessageNetwork, PeerId } from '@constellation/interface'
import type { BroadcastHandler, RequestHandler, TrustChainMessenger } from './messenger.js'

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

/** The part of a `MessageNetwork` the messenger uses. */
type MessengerTransport = Pick<MessageNetwork, 'request' | 'handle' | 'publish' | 'subscribe'>

export interface NetworkMessenger extends TrustChainMessenger {
  /** Removes the handler and the subscription. */
  close(): void
}

export function createNetworkMessenger(network: MessengerTransport, options: NetworkMessengerOptions = {}): NetworkMessenger {
  return new MessageNetworkMessenger(network, options)
}

class MessageNetworkMessenger implements NetworkMessenger {
  readonly #network: MessengerTransport
  readonly #options: NetworkMessengerOptions
  readonly #protocol: string
  readonly #topic: string
  readonly #closers: (() => void)[] = []

  constructor(network: MessengerTransport, options: NetworkMessengerOptions) {
    this.#network = network
    this.#options = options
    this.#protocol = options.protocol ?? TRUSTCHAIN_PROTOCOL
    this.#topic = options.topic ?? TRUSTCHAIN_TOPIC
  }

  request(peer: PeerId, request: Uint8Array): Promise<Uint8Array> {
    return this.#network.request(peer, this.#protocol, request)
  }

  handle(handler: RequestHandler): void {
    this.#closers.push(this.#network.handle(this.#protocol, (request) => handler(request.from, request.data)))
  }

  broadcast(message: Uint8Array): void {
    if (this.#options.broadcasts === false) return
    this.#network.publish(this.#topic, message).catch((error: unknown) => this.#options.onError?.(error))
  }

  onBroadcast(handler: BroadcastHandler): void {
    if (this.#options.broadcasts === false) return
    // Blocks are checked by the ledger behind the handler; the network forwards what decodes as a message.
    this.#closers.push(
      this.#network.subscribe(this.#topic, (message) => {
        handler(message.from, message.data)
        return 'accept'
      }),
    )
  }

  close(): void {
    for (const close of this.#closers.splice(0)) close()
  }
}
