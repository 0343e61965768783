/**
 * A TCP proxy in front of every node of a local network, so that one node's network can be cut and restored while
 * its process runs (the soak's `disconnect`). Linux routes all of 127.0.0.0/8 to the loopback interface, so each node
 * gets a loopback address of its own, unprivileged:
 *
 *   node i   listens on  <its host>:<port>      (127.0.0.(i+2), see `nodeHost`; told to nobody)
 *            dials from  <its host>             (p2p.dialFrom)
 *            announces   127.0.0.1:<proxy port> (p2p.announce; the others' bootstrap lists name it too)
 *   proxy i  listens on  127.0.0.1:<proxy port> and forwards each connection to node i's own port
 *
 * Every connection between two nodes then passes the proxy of the node dialled, which knows the dialler by the
 * connection's source address. `disconnect(i)` resets every connection from or to node i and refuses new ones
 * (accepted and reset at once), which its peers see as a pulled cable; `reconnect(i)` accepts again, and the nodes
 * find each other by themselves. Connections from an address that is no node's (a tool on 127.0.0.1) pass unless
 * the node dialled is cut.
 */
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net'

/** One node behind the proxy. */
export interface ProxyRoute {
  /** Where the proxy listens for this node (what the node announces): a port on 127.0.0.1 (0: one the OS chooses). */
  readonly port: number
  /** The node's own listen socket, where its proxy forwards. */
  readonly target: { readonly host: string; readonly port: number }
  /** The address the node dials from: connections from it are the node's. */
  readonly source: string
}

/** A connection the proxy carries, from the dialler's socket to the dialled node's. */
interface Carried {
  /** The dialling node, when the source address is a node's. */
  readonly from: number | undefined
  readonly to: number
  readonly inbound: Socket
  readonly outbound: Socket
}

/** The address the proxy listens on for every node. */
export const PROXY_HOST = '127.0.0.1'
/** Nodes behind proxies take loopback addresses from 127.0.0.2 up (127.0.0.1 is the proxy's and the APIs'). */
export const MAX_PROXIED_NODES = 253

/** Node `index`'s own loopback address behind a proxy: 127.0.0.2 for node 0, 127.0.0.3 for node 1, … */
export function nodeHost(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_PROXIED_NODES)
    throw new RangeError(`no loopback address for node ${index} (0 to ${MAX_PROXIED_NODES - 1})`)
  return `127.0.0.${index + 2}`
}

export class LoopbackProxy {
  readonly routes: readonly ProxyRoute[]
  readonly #servers: Server[] = []
  readonly #ports: number[] = []
  readonly #carried = new Set<Carried>()
  readonly #cut = new Set<number>()
  readonly #bySource: ReadonlyMap<string, number>
  /** Sockets accepted or opened and not closed yet, carried or not: all are destroyed on close. */
  readonly #sockets = new Set<Socket>()

  private constructor(routes: readonly ProxyRoute[]) {
    this.routes = routes
    this.#bySource = new Map(routes.map((route, index) => [route.source, index]))
    if (this.#bySource.size !== routes.length) throw new RangeError('every node behind the proxy needs a source address of its own')
  }

  /** Listens for every route (on 127.0.0.1, its `port`) and resolves once all are listening; none is on failure. */
  static async start(routes: readonly ProxyRoute[]): Promise<LoopbackProxy> {
    const proxy = new LoopbackProxy([...routes])
    try {
      for (const [index, route] of routes.entries()) {
        const server = createServer({ noDelay: true }, (socket) => proxy.#accept(index, socket))
        proxy.#servers.push(server)
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen({ host: PROXY_HOST, port: route.port, exclusive: true }, () => {
            server.off('error', reject)
            proxy.#ports.push((server.address() as AddressInfo).port)
            resolve()
          })
        })
      }
    } catch (error) {
      await proxy.close()
      throw error
    }
    return proxy
  }

  /** The port on 127.0.0.1 the proxy of node `index` listens on. */
  portOf(index: number): number {
    this.#route(index)
    return this.#ports[index] as number
  }

  /** Cuts node `index` off: resets every connection from or to it and refuses new ones until `reconnect`. */
  disconnect(index: number): void {
    this.#route(index)
    this.#cut.add(index)
    for (const carried of this.#carried) if (carried.to === index || carried.from === index) this.#reset(carried)
  }

  /** Lets node `index`'s connections through again. */
  reconnect(index: number): void {
    this.#route(index)
    this.#cut.delete(index)
  }

  isDisconnected(index: number): boolean {
    return this.#cut.has(index)
  }

  /** The connections carried now that come from or go to node `index`. */
  connectionsOf(index: number): number {
    let count = 0
    for (const carried of this.#carried) if (carried.to === index || carried.from === index) count++
    return count
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await Promise.all(this.#servers.filter((server) => server.listening).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
  }

  #accept(to: number, inbound: Socket): void {
    this.#track(inbound)
    const from = this.#bySource.get(inbound.remoteAddress ?? '')
    if (this.#cut.has(to) || (from !== undefined && this.#cut.has(from))) {
      resetConnection(inbound)
      return
    }
    const { target } = this.routes[to] as ProxyRoute
    const outbound = createConnection({ host: target.host, port: target.port, noDelay: true })
    this.#track(outbound)
    const carried: Carried = { from, to, inbound, outbound }
    this.#carried.add(carried)
    inbound.pipe(outbound)
    outbound.pipe(inbound)
    // A side that fails is reset to the other (as a node that is down refuses a dial); one that closes is ended to
    // the other once what it sent is through (the pipe's end), so no last bytes are lost.
    inbound.once('error', () => resetConnection(outbound))
    outbound.once('error', () => resetConnection(inbound))
    inbound.once('close', () => outbound.end())
    outbound.once('close', () => inbound.end())
    let open = 2
    const closed = () => {
      if (--open === 0) this.#carried.delete(carried)
    }
    inbound.once('close', closed)
    outbound.once('close', closed)
  }

  #reset(carried: Carried): void {
    this.#carried.delete(carried)
    resetConnection(carried.inbound)
    resetConnection(carried.outbound)
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    // Resets are what a cut is made of: an error here is the connection ending, which 'close' handles.
    socket.on('error', () => {})
  }

  #route(index: number): ProxyRoute {
    const route = this.routes[index]
    if (route === undefined) throw new RangeError(`no node ${index} behind this proxy`)
    return route
  }
}

/**
 * Resets a connection (RST), or closes it when it is still connecting or already ending. libuv cannot reset a socket
 * whose shutdown is under way, and Node 20 then drops the socket's handle without closing it (a leaked handle that
 * keeps the event loop busy); a connecting socket would be reset only once connected, by when it may be ending.
 */
export function resetConnection(socket: Socket): void {
  if (socket.writableEnded || socket.connecting) socket.destroy()
  else socket.resetAndDestroy()
}
