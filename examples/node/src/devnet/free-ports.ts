/**
 * Ports for a devnet's nodes, chosen by the OS before any node runs: every node's bootstrap list must name the
 * others' addresses, so the ports are decided up front. All the sockets are held open until the last one is bound,
 * so the OS hands out distinct ports; they are closed before the nodes bind them again. (Another program could take
 * one in between: on a developer's loopback that race is rare, and the node that loses it fails to start, loudly.)
 */
import { createServer, type Server } from 'node:net'

export async function reserveFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ host, port: 0, exclusive: true }, resolve)
      })
      const address = server.address()
      if (address === null || typeof address === 'string') throw new Error(`no TCP port for ${host}`)
      ports.push(address.port)
    }
    return ports
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
  }
}
