/**
 * The soak's loopback proxy (src/devnet/loopback-proxy.ts) on its own, with TCP echo servers standing in for three
 * nodes on their own loopback addresses (OS-chosen ports): it carries connections both ways and knows the dialler by
 * its source address; `disconnect` resets the connections from and to the node on both of their sides and refuses
 * new ones, leaving the others' alone; `reconnect` lets new ones through again. A connection cut while its end is
 * under way is closed rather than reset (libuv cannot reset it, and Node 20 would leak its handle).
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { LoopbackProxy, nodeHost, resetConnection } from '../src/devnet/loopback-proxy.js'

/** A node's listen socket: echoes what it reads, and keeps its side of every connection for the test to watch. */
interface EchoNode {
  readonly server: Server
  readonly host: string
  readonly port: number
  readonly accepted: Socket[]
}

let cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()))
  cleanups = []
})

async function echoNode(index: number): Promise<EchoNode> {
  const accepted: Socket[] = []
  const server = createServer((socket) => {
    accepted.push(socket)
    socket.on('error', () => {})
    socket.pipe(socket)
  })
  const host = nodeHost(index)
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve))
  cleanups.push(async () => {
    for (const socket of accepted) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { server, host, port: (server.address() as AddressInfo).port, accepted }
}

async function proxyFor(nodes: readonly EchoNode[]): Promise<LoopbackProxy> {
  const proxy = await LoopbackProxy.start(nodes.map((node) => ({ port: 0, target: { host: node.host, port: node.port }, source: node.host })))
  cleanups.push(() => proxy.close())
  return proxy
}

/** A connection from node `from`'s address (or 127.0.0.1) to the proxy of node `to`, once connected. */
async function dial(proxy: LoopbackProxy, to: number, from?: string): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port: proxy.portOf(to), ...(from !== undefined && { localAddress: from }) })
  socket.on('error', () => {})
  cleanups.push(async () => void socket.destroy())
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return socket
}

/** Sends `text` and resolves with the echo (the whole of it). */
function echo(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let heard = ''
    const onData = (chunk: Buffer) => {
      heard += chunk.toString()
      if (heard.length >= text.length) {
        socket.off('data', onData)
        resolve(heard)
      }
    }
    socket.on('data', onData)
    socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(heard)}`)))
    socket.write(text)
  })
}

/** Resolves once the socket is closed, with whether it was reset and what it read meanwhile. */
function closed(socket: Socket): Promise<{ readonly reset: boolean; readonly read: string }> {
  let read = ''
  let reset = false
  socket.on('data', (chunk: Buffer) => (read += chunk.toString()))
  socket.on('error', (error: NodeJS.ErrnoException) => (reset ||= error.code === 'ECONNRESET'))
  return socket.destroyed ? Promise.resolve({ reset, read }) : new Promise((resolve) => socket.once('close', () => resolve({ reset, read })))
}

/**
 * A dial the proxy refuses, to the end: the kernel completes the handshake before the proxy's accept resets it, so the
 * reset comes after the dialler's connect or, when it is quicker, fails the connect itself.
 */
function refusedDial(proxy: LoopbackProxy, to: number, from?: string): Promise<{ readonly reset: boolean; readonly read: string }> {
  const socket = connect({ host: '127.0.0.1', port: proxy.portOf(to), ...(from !== undefined && { localAddress: from }) })
  cleanups.push(async () => void socket.destroy())
  socket.once('connect', () => socket.write('anyone?'))
  return closed(socket)
}

describe('loopback proxy', () => {
  it('gives each node its own loopback address', () => {
    expect([0, 1, 15].map(nodeHost)).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.17'])
    expect(() => nodeHost(253)).toThrow(RangeError)
  })

  it('carries connections both ways and counts them for the dialler and the node dialled', async () => {
    const nodes = await Promise.all([0, 1].map(echoNode))
    const proxy = await proxyFor(nodes)
    const aToB = await dial(proxy, 1, nodes[0]?.host)
    expect(await echo(aToB, 'hello b')).toBe('hello b')
    const bToA = await dial(proxy, 0, nodes[1]?.host)
    expect(await echo(bToA, 'hello a')).toBe('hello a')
    expect([proxy.connectionsOf(0), proxy.connectionsOf(1)]).toEqual([2, 2])
    // The node behind the proxy sees the proxy, not the dialler: only the proxy knows who dialled.
    expect(nodes[1]?.accepted.map((socket) => socket.remoteAddress)).toEqual(['127.0.0.1'])
  })

  it('disconnect cuts both directions: connections reset on both sides, new ones refused; reconnect accepts again', async () => {
    const nodes = await Promise.all([0, 1, 2].map(echoNode))
    const [a, b, c] = nodes as [EchoNode, EchoNode, EchoNode]
    const proxy = await proxyFor(nodes)
    const aToB = await dial(proxy, 1, a.host)
    const bToA = await dial(proxy, 0, b.host)
    const cToB = await dial(proxy, 1, c.host)
    for (const socket of [aToB, bToA, cToB]) expect(await echo(socket, 'before')).toBe('before')
    const behindA = a.accepted[0] as Socket
    const behindB = b.accepted[0] as Socket // the far end of a -> b

    const cut = [closed(aToB), closed(bToA), closed(behindA), closed(behindB)]
    proxy.disconnect(0)
    expect(proxy.isDisconnected(0)).toBe(true)
    const ends = await Promise.all(cut)
    // Reset, as the peers of a pulled cable find out, on the dialler's side and on the node behind the proxy.
    expect(ends.map((end) => end.reset)).toEqual([true, true, true, true])
    expect(proxy.connectionsOf(0)).toBe(0)
    // c's connection to b does not touch a: it carries on.
    expect(await echo(cToB, 'still here')).toBe('still here')

    // New connections from a, to a (from b, and from an address that is no node's) are accepted and reset at once.
    for (const [to, from] of [
      [1, a.host],
      [0, b.host],
      [0, undefined],
    ] as const)
      expect(await refusedDial(proxy, to, from)).toEqual({ reset: true, read: '' })
    expect([a.accepted.length, b.accepted.length]).toEqual([1, 2])

    proxy.reconnect(0)
    expect(proxy.isDisconnected(0)).toBe(false)
    expect(await echo(await dial(proxy, 1, a.host), 'back')).toBe('back')
    expect(await echo(await dial(proxy, 0, b.host), 'back too')).toBe('back too')
  })

  it('resets a dialler when the node behind the proxy is down, as a refused dial', async () => {
    const [a, b] = (await Promise.all([0, 1].map(echoNode))) as [EchoNode, EchoNode]
    const proxy = await proxyFor([a, b])
    await new Promise<void>((resolve) => b.server.close(() => resolve()))
    expect(await refusedDial(proxy, 1, a.host)).toEqual({ reset: true, read: '' })
  })

  it('closes a connection whose end is under way instead of resetting it, and leaves no handle behind', async () => {
    // The end (a shutdown, once what was written is handed to the kernel) is under way when the cut comes, in the
    // same tick; the peer does not read, so nothing of it finishes early.
    const held: Socket[] = []
    const sink = createServer((socket) => {
      socket.pause()
      held.push(socket)
    })
    await new Promise<void>((resolve) => sink.listen({ host: '127.0.0.1', port: 0 }, resolve))
    cleanups.push(async () => {
      for (const socket of held) socket.destroy()
      await new Promise<void>((resolve) => sink.close(() => resolve()))
    })
    const socket = connect({ host: '127.0.0.1', port: (sink.address() as AddressInfo).port })
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    const errors: string[] = []
    socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message))
    socket.write(Buffer.alloc(64 << 10))
    socket.end()
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    resetConnection(socket)
    await gone
    expect(errors).toEqual([])
    expect(socket.destroyed).toBe(true)
  })
})
