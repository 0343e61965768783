/**
 * Where a `Libp2pNetwork` is reached and where it dials from, when that is not simply where it listens: a node behind
 * a proxy, a port forward or a NAT mapping announces the address in front of it (`announce`), and a node that must be
 * told apart by its source address dials from one local address (`dialFrom`). Both are checked here, before libp2p
 * sees them, and turned into what libp2p and its TCP transport take.
 */
import { isIP, type TcpNetConnectOpts } from 'node:net'
import type { tcp } from '@libp2p/tcp'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { GossipError, GossipErrorCode } from '../errors.js'

/** Addresses in `announce`: a few per node (one per interface or mapping), not a list to flood peers with. */
export const MAX_ANNOUNCED_ADDRESSES = 16

/**
 * Checks `announce`: multiaddrs (at most `MAX_ANNOUNCED_ADDRESSES`) that name this node if they name one at all, so a
 * node cannot announce itself as someone else. `self` is this node's libp2p peer id as text (`12D3KooW…`).
 */
export function checkAnnounce(addresses: readonly string[], self: string): readonly string[] {
  if (!Array.isArray(addresses)) throw new GossipError(GossipErrorCode.INVALID_INPUT, 'announce must be an array of multiaddrs')
  if (addresses.length > MAX_ANNOUNCED_ADDRESSES) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `announce: at most ${MAX_ANNOUNCED_ADDRESSES} addresses, got ${addresses.length}`)
  }
  for (const address of addresses) {
    let parsed: Multiaddr
    try {
      parsed = multiaddr(address)
    } catch (cause) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `announce: ${String(address)} is not a multiaddr`, {}, { cause })
    }
    const named = parsed.getComponents().find((component) => component.name === 'p2p')?.value
    if (named !== undefined && named !== self) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `announce: ${address} names peer ${named}, not this node (${self})`, { address })
    }
  }
  return Object.freeze([...addresses])
}

/** Checks `dialFrom`: an IPv4 or IPv6 address literal (`127.0.0.3`, `::1`), not a host name or a multiaddr. */
export function checkDialFrom(address: string): string {
  if (typeof address !== 'string' || isIP(address) === 0) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `dialFrom must be an IPv4 or IPv6 address, got ${JSON.stringify(address)}`)
  }
  return address
}

type TcpDialOptions = NonNullable<NonNullable<Parameters<typeof tcp>[0]>['dialOpts']>

/**
 * The TCP transport's dial options that bind every outgoing connection to `localAddress`. @libp2p/tcp spreads
 * `dialOpts` into the options of `net.connect` as they are, but its type names only a few socket options, so the
 * field it lacks is typed here, against Node's own `net.connect` options.
 */
export function boundDialOptions(localAddress: string): TcpDialOptions {
  const options: TcpDialOptions & Pick<TcpNetConnectOpts, 'localAddress'> = { localAddress }
  return options
}

/** What the listener-address service needs of libp2p's components: the transports' bound addresses. */
export interface ListenerAddressComponents {
  readonly transportManager: { getAddrs(): Multiaddr[] }
}

/** The addresses the transports are bound to, which libp2p's public API hides once announce addresses are set. */
export interface ListenerAddresses {
  bound(): Multiaddr[]
}

/** A libp2p service that reads the transports' bound addresses: libp2p hands every service its components. */
export function listenerAddresses(): (components: ListenerAddressComponents) => ListenerAddresses {
  return (components) => ({ bound: () => components.transportManager.getAddrs() })
}
