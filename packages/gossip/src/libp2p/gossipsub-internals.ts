/**
 * Every use `Libp2pNetwork` makes of Gossipsub (@libp2p/gossipsub 17.1) beyond its exported `GossipSub` interface,
 * in one place, so that an upgrade has one file to check. Each is read or wrapped on the instance at run time and
 * is either checked for at construction or harmless when missing:
 *   - `handleReceivedRpc(from, rpc)`, public on the class: every RPC a neighbour sends enters here. The screen in front
 *     of it drops penalised, over-rate and oversize messages before Gossipsub's dedupe marks them seen; a Gossipsub
 *     without it fails at construction rather than leaving penalties and rate limits unenforced.
 *   - `sendRpc(id, rpc)`, private in its types: every RPC sent to one neighbour (own publishes, relays, answers to
 *     IWANT) leaves here, which is where gossip sent is counted; a Gossipsub without it fails at construction rather
 *     than reporting no gossip sent.
 *   - `getMeshPeers(topic)`, public on the class: the mesh, for `meshPeers()` and `gossipReady()`; none when missing.
 *   - `status.heartbeatTimeout`, private: 17.1's `stop()` leaves its next heartbeat timer armed (up to one heartbeat
 *     interval, holding the process open), so it is read before stopping and cleared after; nothing when missing.
 */
import type { GossipSub } from '@libp2p/gossipsub'
import type { RPC } from '@libp2p/gossipsub/message'
import type { PeerId as Libp2pPeerId } from '@libp2p/interface'
import type { TrafficCounter } from '../network-traffic.js'

/** Gossipsub's mesh query: on its class, though not on the `GossipSub` interface it exports. */
type MeshQuery = { getMeshPeers(topic: string): string[] }
/** Gossipsub's entry for every RPC a neighbour sends: public on its class, not on the exported interface. */
type RpcIntake = { handleReceivedRpc(from: Libp2pPeerId, rpc: RPC): Promise<void> }
/** Gossipsub's exit for every RPC it sends one neighbour (publishes, relays, answers to IWANT): private in its types. */
type RpcOutlet = { sendRpc(id: string, rpc: RPC): boolean }
/** Gossipsub's run state, holding the timer of its next heartbeat: private in its types. */
type HeartbeatStatus = { status?: { heartbeatTimeout?: ReturnType<typeof setTimeout> } }

/**
 * Puts `screen` in front of Gossipsub's handling of each inbound RPC. Fails at construction when a later
 * Gossipsub lacks the entry point, rather than leaving penalties and rate limits unenforced.
 */
export function screenInboundRpcs(pubsub: GossipSub, screen: (from: Libp2pPeerId, rpc: RPC) => RPC): GossipSub {
  const intake = pubsub as GossipSub & Partial<RpcIntake>
  const handle = intake.handleReceivedRpc
  if (typeof handle !== 'function') throw new Error('this Gossipsub has no handleReceivedRpc to screen inbound gossip')
  intake.handleReceivedRpc = (from: Libp2pPeerId, rpc: RPC) => handle.call(pubsub, from, screen(from, rpc))
  return pubsub
}

/**
 * Counts the gossip messages of each RPC Gossipsub sends a neighbour (own publishes, relays, answers to IWANT), as
 * it sends them; control-only RPCs carry no messages and count nothing. Fails at construction when a later
 * Gossipsub lacks the exit, rather than reporting no gossip sent.
 */
export function countOutboundRpcs(pubsub: GossipSub, traffic: TrafficCounter): GossipSub {
  const outlet = pubsub as GossipSub & Partial<RpcOutlet>
  const send = outlet.sendRpc
  if (typeof send !== 'function') throw new Error('this Gossipsub has no sendRpc to count outbound gossip')
  outlet.sendRpc = (id: string, rpc: RPC) => {
    const sent = send.call(pubsub, id, rpc)
    if (sent) for (const message of rpc.messages) traffic.sent('gossip', message.data?.length ?? 0)
    return sent
  }
  return pubsub
}

/** The libp2p peer ids (as text) in Gossipsub's mesh for `topic`; none when this Gossipsub has no mesh query. */
export function meshPeerIds(pubsub: GossipSub, topic: string): string[] {
  const query = pubsub as GossipSub & Partial<MeshQuery>
  if (typeof query.getMeshPeers !== 'function') return []
  return query.getMeshPeers(topic)
}

/**
 * Gossipsub 17.1's `stop()` marks itself stopped but leaves its next heartbeat timer armed (up to one heartbeat
 * interval, holding the process open). Read it before stopping so that it can be cleared after; undefined when
 * the internal is not there.
 */
export function pendingHeartbeat(pubsub: GossipSub): ReturnType<typeof setTimeout> | undefined {
  return (pubsub as unknown as HeartbeatStatus).status?.heartbeatTimeout
}
