/**
 * Test helper: a TCP port forward on 127.0.0.1 (an OS-chosen port) in front of a node, the way a proxy or a NAT
 * mapping stands in front of one. It is listening before the node behind it starts, so the node can announce it;
 * `forwardTo` then names the node's bound port. It records the source address of every connection it accepted,
 * which is how a test sees where a dialler came from.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export interface TcpForwarder {
  readonly port: number
  /** `/ip4/127.0.0.1/tcp/<port>`: what the node behind it announces. */
  readonly address: string
  /** The source addresses of the connections accepted so far, in order. */
  readonly sources: readonly string[]
  forwardTo(port: number): void
  close(): Promise<void>
}

export async function startTcpForwarder(): Promise<TcpForwarder> {
  let target: number | undefined
  const sources: string[] = []
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  const server: Server = createServer((inbound) => {
    track(inbound)
    sources.push(inbound.remoteAddress ?? '')
    if (target === undefined) return void inbound.destroy()
    const outbound = createConnection({ host: '127.0.0.1', port: target })
    track(outbound)
    inbound.pipe(outbound).pipe(inbound)
    // Either side ending takes the other with it, as a closed connection does.
    inbound.once('close', () => outbound.destroy())
    outbound.once('close', () => inbound.destroy())
    inbound.on('error', () => {})
    outbound.on('error', () => {})
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, resolve)
  })
  const port = (server.address() as { port: number }).port
  return {
    port,
    address: `/ip4/127.0.0.1/tcp/${port}`,
    sources,
    forwardTo(port) {
      target = port
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
