/**
 * The messaging interface the TrustChain node speaks through: request/response plus broadcast, and nothing else.
 *
 * It is deliberately small so that any transport can drive it — a `MessageNetwork` such as the gossip package's
 * `Network` (through `createNetworkMessenger`), an in-memory network in tests, or a plain socket. Peers are named by
 * their `PeerId`, the hex of their public key, which is also their chain's identity.
 */
import type { PeerId } from '@constellation/interface'

export type RequestHandler = (from: PeerId, request: Uint8Array) => Promise<Uint8Array>
export type BroadcastHandler = (from: PeerId, message: Uint8Array) => void

export interface TrustChainMessenger {
  /** Sends `request` to `peer`; resolves with its response, rejects if it cannot be delivered or answered. */
  request(peer: PeerId, request: Uint8Array): Promise<Uint8Array>
  /** Installs the handler of requests from other peers (one per messenger). */
  handle(handler: RequestHandler): void
  /** Sends `message` to every peer, best effort. */
  broadcast(message: Uint8Array): void
  /** Installs the handler of broadcasts from other peers. */
  onBroadcast(handler: BroadcastHandler): void
}
