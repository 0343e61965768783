/**
 * How many connections each client address holds on the API, so that one client (a script gone wrong, or a
 * thousand half-sent uploads) cannot take every socket the node has: a connection past `api.maxConnectionsPerClient`
 * from the same address is answered 429 and closed (see api-server.ts). On loopback every local client shares one
 * address, so the default leaves room for the devnet's keep-alive pools.
 */
import type { Socket } from 'node:net'

export class ClientConnections {
  readonly #open = new Map<string, number>()
  constructor(readonly maxPerClient: number) {}

  /** Counts `socket` against its address until it closes; false (not counted) when the address is at the limit. */
  admit(socket: Socket): boolean {
    const client = clientAddressOf(socket)
    const open = this.#open.get(client) ?? 0
    if (open >= this.maxPerClient) return false
    this.#open.set(client, open + 1)
    socket.once('close', () => {
      const left = (this.#open.get(client) ?? 1) - 1
      if (left === 0) this.#open.delete(client)
      else this.#open.set(client, left)
    })
    return true
  }
}

/** The client's address, an IPv4 one mapped into IPv6 (`::ffff:10.0.0.1`) counted as the IPv4 one it is. */
export function clientAddressOf(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown'
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address
}
