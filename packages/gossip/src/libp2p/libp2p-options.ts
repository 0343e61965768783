/**
 * `Libp2pNetwork`'s options and their checks. A bad option fails at construction with a typed INVALID_INPUT error
 * naming it, not later at start, and the checks run in a fixed order so that of several bad options the same one is
 * reported as always.
 */
import { type Crypto, equalBytes, type KeyPair } from '@constellation/crypto'
import { multiaddr } from '@multiformats/multiaddr'
import type { Clock } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { NetworkLimits, PeerId } from '../network.js'
import { checkAnnounce, checkDialFrom } from './node-addresses.js'

export interface Libp2pNetworkOptions {
  readonly crypto: Crypto
  /** The node's identity; its public key is the peer id, and its libp2p key is built from the seed. */
  readonly keyPair: KeyPair
  /** Multiaddrs to listen on (default `/ip4/127.0.0.1/tcp/0`: loopback, an OS-chosen port). */
  readonly listen?: readonly string[]
  /** Multiaddrs (ending in `/p2p/<libp2p id>`) dialled once at start; failures are not fatal (see `dial`). */
  readonly bootstrap?: readonly string[]
  /**
   * Multiaddrs announced to peers instead of the listen addresses (libp2p's `addresses.announce`), for a node reached
   * through a proxy, a port forward or a NAT mapping: identify, the signed peer record that peer exchange passes on
   * and `listenAddresses()` then carry these only, never the bound ones (default: none, the listen addresses are
   * announced). At most 16; one naming a `/p2p/` id must name this node.
   */
  readonly announce?: readonly string[]
  /**
   * An IPv4 or IPv6 address every outgoing TCP connection is bound to (`localAddress` of `net.connect`), so that the
   * dialled side sees this node come from it (default: the OS chooses per route). It must be an address of this
   * machine, and dials to addresses of the other IP family fail.
   */
  readonly dialFrom?: string
  readonly limits?: Partial<NetworkLimits>
  /** Time for request timeouts and limits (default: the system clock). */
  readonly clock?: Clock
  readonly gossip?: Partial<GossipTuning>
  /** New inbound connections accepted per second from one host (libp2p's default of 5 starves local devnets). */
  readonly inboundConnectionThreshold?: number
  /** Inbound connections still upgrading at once (libp2p's default is 10). */
  readonly maxIncomingPendingConnections?: number
  /**
   * IP addresses exempt from Gossipsub's penalty for many peers behind one address (default: the loopback
   * addresses). The penalty guards against Sybils sharing a host on the internet; a devnet puts every node on
   * 127.0.0.1, where past ~10 peers it would make each node ignore all of them.
   */
  readonly ipColocationWhitelist?: readonly string[]
  /**
   * Which peers learnt through peer exchange (peer-exchange.ts) to connect to at once (default: none; every learnt
   * peer can still be reached by id, connected on demand). The full node connects to the facilitators.
   */
  readonly connectToDiscovered?: (peer: PeerId) => boolean
}

/** Gossipsub settings worth changing. The defaults are Gossipsub's, but for a shorter heartbeat (700 ms, as
 * Ethereum's consensus clients use, against 1 s) so that meshes form sooner after peers connect. */
export interface GossipTuning {
  /** Milliseconds between Gossipsub heartbeats (mesh upkeep and lazy gossip; default 700). */
  readonly heartbeatIntervalMs: number
  /** Target mesh degree D; Dlo = D - 2 and Dhi = 2 D (default 6). */
  readonly meshDegree: number
  /**
   * Longest a `publish` waits for a neighbour's backed-up gossip stream to drain (default 1,000 ms). A neighbour
   * still backed up then is passed over until it drains: Gossipsub buffers for it, up to its own cap, so one
   * stalled neighbour cannot hold up publishing to the others.
   */
  readonly publishWaitMs: number
}

const DEFAULT_GOSSIP: GossipTuning = { heartbeatIntervalMs: 700, meshDegree: 6, publishWaitMs: 1_000 }

/** The transport-level options with their defaults filled in, all checked. */
export interface Libp2pSettings {
  readonly listen: readonly string[]
  readonly bootstrap: readonly string[]
  readonly announce: readonly string[]
  readonly dialFrom: string | undefined
  readonly gossip: GossipTuning
  readonly inboundConnectionThreshold: number
  readonly maxIncomingPendingConnections: number
  readonly ipColocationWhitelist: ReadonlySet<string>
  readonly connectToDiscovered: (peer: PeerId) => boolean
}

/** Checks `crypto` and that `keyPair` is a seed with its own public key, so that a wrong one fails now, not at start. */
export function checkIdentity(crypto: Crypto, keyPair: KeyPair): void {
  if (typeof crypto?.sha256 !== 'function') throw new GossipError(GossipErrorCode.INVALID_INPUT, 'crypto must be a Crypto')
  let derived: Uint8Array
  try {
    derived = crypto.keyPairFromSeed(keyPair?.seed).publicKey
  } catch (cause) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, 'keyPair.seed must be a 32-byte seed', {}, { cause })
  }
  if (!(keyPair.publicKey instanceof Uint8Array) || !equalBytes(derived, keyPair.publicKey)) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, 'keyPair.publicKey is not the public key of keyPair.seed')
  }
}

/** Fills in the defaults of everything but identity, limits and clock, and checks it; `self` is the libp2p id as text. */
export function resolveLibp2pSettings(options: Libp2pNetworkOptions, self: string): Libp2pSettings {
  const listen = checkAddresses(options.listen ?? ['/ip4/127.0.0.1/tcp/0'], 'listen')
  const bootstrap = checkAddresses(options.bootstrap ?? [], 'bootstrap')
  const announce = checkAnnounce(options.announce ?? [], self)
  const dialFrom = options.dialFrom === undefined ? undefined : checkDialFrom(options.dialFrom)
  const gossip = { ...DEFAULT_GOSSIP, ...options.gossip }
  if (!Number.isSafeInteger(gossip.meshDegree) || gossip.meshDegree < 2) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `gossip.meshDegree must be an integer >= 2`)
  }
  if (!(gossip.publishWaitMs >= 0 && Number.isFinite(gossip.publishWaitMs))) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `gossip.publishWaitMs must be a finite number >= 0`)
  }
  if (!(gossip.heartbeatIntervalMs >= 10)) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `gossip.heartbeatIntervalMs must be at least 10`)
  }
  const inboundConnectionThreshold = options.inboundConnectionThreshold ?? 1_000
  const maxIncomingPendingConnections = options.maxIncomingPendingConnections ?? 256
  const whitelist = options.ipColocationWhitelist ?? ['127.0.0.1', '::1']
  if (!Array.isArray(whitelist) || !whitelist.every((ip) => typeof ip === 'string' && ip.length > 0 && ip.length <= 64)) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, 'ipColocationWhitelist must be a list of IP address strings')
  }
  const connectToDiscovered = options.connectToDiscovered ?? (() => false)
  if (typeof connectToDiscovered !== 'function') throw new GossipError(GossipErrorCode.INVALID_INPUT, 'connectToDiscovered must be a function')
  return {
    listen,
    bootstrap,
    announce,
    dialFrom,
    gossip,
    inboundConnectionThreshold,
    maxIncomingPendingConnections,
    ipColocationWhitelist: new Set(whitelist),
    connectToDiscovered,
  }
}

/** Checks that every address parses as a multiaddr; returns a frozen copy. */
export function checkAddresses(addresses: readonly string[], what: string): readonly string[] {
  if (!Array.isArray(addresses)) throw new GossipError(GossipErrorCode.INVALID_INPUT, `${what} must be an array of multiaddrs`)
  for (const address of addresses) {
    try {
      multiaddr(address)
    } catch (cause) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `${what}: ${String(address)} is not a multiaddr`, {}, { cause })
    }
  }
  return Object.freeze([...addresses])
}
