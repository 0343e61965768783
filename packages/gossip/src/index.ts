/**
 * @constellation/gossip — how Constellation nodes talk.
 *
 * Data flow: protocol code holds a `Network` (publish/subscribe with verdicts, request/response, peers,
 * signed resource adverts) and a `Clock`; tests and experiments give it a node of a `SimNetwork` (one process,
 * virtual time, seeded), real nodes a `Libp2pNetwork` (TCP + Noise + Yamux + Gossipsub). Same protocol code,
 * either transport.
 */
export { GossipError, GossipErrorCode, isGossipError } from './errors.js'
export { type Clock, sleep, systemClock, type TimerHandle } from './clock.js'
export { createRandom, type Random } from './random.js'
export {
  DEFAULT_LIMITS,
  type GossipMessage,
  type InboundRequest,
  type Network,
  type NetworkEvent,
  type NetworkLimits,
  type NetworkListener,
  type PeerId,
  type RequestHandler,
  type RequestOptions,
  type TopicHandler,
  type Verdict,
} from './network.js'
export {
  NETWORK_TRAFFIC_KINDS,
  type NetworkTraffic,
  type NetworkTrafficKind,
  trafficBytes,
  type TrafficTally,
} from './network-traffic.js'
export type { ResourceAdvert, SignedResourceAdvert } from './advert/resource-advert.js'
export { messageId } from './checks.js'
export { constantLatency, type LatencyModel, logNormalLatency, uniformLatency } from './sim/latency.js'
export type { RunOptions } from './sim/run-loop.js'
export { SimNetwork } from './sim/sim-network.js'
export type { SimNetworkOptions } from './sim/sim-options.js'
export type { SimNode } from './sim/sim-node.js'
export type { SimStats } from './sim/sim-world.js'
export { VirtualClock } from './sim/virtual-clock.js'
export { createLibp2pNetwork, Libp2pNetwork } from './libp2p/libp2p-network.js'
export type { GossipTuning, Libp2pNetworkOptions } from './libp2p/libp2p-options.js'
export { libp2pPeerIdOf } from './libp2p/peer-identity.js'
export { MAX_ANNOUNCED_ADDRESSES } from './libp2p/node-addresses.js'
