/**
 * Builds the js-libp2p node under a `Libp2pNetwork`: TCP (bound to `dialFrom` when set) + Noise + Yamux, identify
 * (which carries the signed peer records that peer exchange passes on), the listen and announce addresses, a gater
 * that admits Constellation identities (Ed25519 keys) only, connection limits fit for devnets, and Gossipsub on the
 * one carrier topic, its inbound RPCs screened and its outbound gossip counted (gossipsub-internals.ts).
 */
import { toHex } from '@constellation/crypto'
import { type GossipSub, type GossipSubComponents, gossipsub, type Message } from '@libp2p/gossipsub'
import type { RPC } from '@libp2p/gossipsub/message'
import { identify } from '@libp2p/identify'
import type { Ed25519PrivateKey, Libp2p, PeerId as Libp2pPeerId, PeerRouting } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { TrafficCounter } from '../network-traffic.js'
import { GOSSIP_CARRIER_TOPIC } from './gossip-envelope.js'
import { countOutboundRpcs, screenInboundRpcs } from './gossipsub-internals.js'
import type { Libp2pSettings } from './libp2p-options.js'
import { boundDialOptions, type ListenerAddresses, listenerAddresses } from './node-addresses.js'
import { networkIdOf } from './peer-identity.js'

export type Libp2pServices = { identify: unknown; pubsub: GossipSub; listenerAddresses: ListenerAddresses }
export type Libp2pNode = Libp2p<Libp2pServices>

export interface Libp2pNodeComponents {
  readonly privateKey: Ed25519PrivateKey
  readonly settings: Libp2pSettings
  /** Our own per-message limit: Gossipsub's per-RPC limit is set to leave room for one such message. */
  readonly maxMessageBytes: number
  /** Gossipsub's message id: the SHA-256 of the message's data (our gossip envelope). */
  messageId(message: Message): Uint8Array
  /** Filters each RPC a neighbour sends before Gossipsub sees it. */
  screen(from: Libp2pPeerId, rpc: RPC): RPC
  readonly traffic: TrafficCounter
  /** The router libp2p consults when it dials a peer id it has no addresses for. */
  peerRouter(): PeerRouting
}

/** A libp2p node, not yet started. */
export function createLibp2pNode(components: Libp2pNodeComponents): Promise<Libp2pNode> {
  const { privateKey, settings, maxMessageBytes, traffic } = components
  const gossip = settings.gossip
  const denyForeignKeys = (peer: Libp2pPeerId) => networkIdOf(peer) === undefined
  return createLibp2p<Libp2pServices>({
    start: false,
    privateKey,
    addresses: { listen: [...settings.listen], announce: [...settings.announce] },
    transports: [tcp(settings.dialFrom === undefined ? {} : { dialOpts: boundDialOptions(settings.dialFrom) })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Only Constellation identities (Ed25519 keys) may connect.
    connectionGater: {
      denyInboundEncryptedConnection: denyForeignKeys,
      denyOutboundEncryptedConnection: denyForeignKeys,
    },
    connectionManager: {
      inboundConnectionThreshold: settings.inboundConnectionThreshold,
      maxIncomingPendingConnections: settings.maxIncomingPendingConnections,
    },
    // Consulted by libp2p when it dials a peer id it has no addresses for.
    peerRouters: [() => components.peerRouter()],
    services: {
      identify: identify(),
      listenerAddresses: listenerAddresses(),
      pubsub: (libp2pComponents: GossipSubComponents) =>
        countOutboundRpcs(
          screenInboundRpcs(
            gossipsub({
              globalSignaturePolicy: 'StrictNoSign',
              allowedTopics: [GOSSIP_CARRIER_TOPIC],
              fallbackToFloodsub: false,
              emitSelf: false,
              // Our own messages go to every subscribed neighbour, not just the mesh: a small network then needs
              // no mesh for first-hop delivery, and the mesh carries the relaying.
              floodPublish: true,
              allowPublishToZeroTopicPeers: true,
              ignoreDuplicatePublishError: true,
              heartbeatInterval: gossip.heartbeatIntervalMs,
              scoreParams: { IPColocationFactorWhitelist: new Set(settings.ipColocationWhitelist) },
              D: gossip.meshDegree,
              Dlo: Math.max(1, gossip.meshDegree - 2),
              Dhi: gossip.meshDegree * 2,
              Dout: Math.max(0, Math.min(Math.floor(gossip.meshDegree / 2), gossip.meshDegree - 3)),
              // This bounds a whole Gossipsub RPC (messages plus piggybacked control), not one message: room for a
              // largest message and control traffic, and never under Gossipsub's own 4 MiB default. Our
              // maxMessageBytes is enforced per message by the validator.
              maxInboundDataLength: Math.max(4 << 20, maxMessageBytes + (1 << 20)),
              msgIdFn: (message: Message) => components.messageId(message),
              msgIdToStrFn: (id: Uint8Array) => toHex(id),
            })(libp2pComponents),
            (from, rpc) => components.screen(from, rpc),
          ),
          traffic,
        ),
    },
  })
}

/**
 * libp2p 3.3's address manager re-arms a 1 s debounce timer when its transports close during `stop()` and never
 * clears it, so a stopped node still holds the process open for a second. Clear it when that internal is there;
 * when a later libp2p changes the shape, this does nothing (and test/libp2p-network.test.ts notices the timer).
 */
export function disarmAddressManager(node: Libp2pNode): void {
  type Debounced = { stop?: () => void }
  const components = (node as unknown as { components?: { addressManager?: { _updatePeerStoreAddresses?: Debounced } } }).components
  const debounced = components?.addressManager?._updatePeerStoreAddresses
  if (typeof debounced?.stop === 'function') debounced.stop()
}

/**
 * The addresses `node`'s sockets are bound to, each ending in `/p2p/<libp2p id>`: what libp2p's public API hides once
 * announce addresses are set.
 */
export function boundAddressesOf(node: Libp2pNode): string[] {
  const self = node.peerId.toString()
  return node.services.listenerAddresses
    .bound()
    .map((address) => (address.getComponents().at(-1)?.name === 'p2p' ? address : address.encapsulate(`/p2p/${self}`)).toString())
}
