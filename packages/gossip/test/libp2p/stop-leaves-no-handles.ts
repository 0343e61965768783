/**
 * Fixture run in a child process by libp2p-network.test.ts: starts three nodes, exchanges gossip and requests,
 * stops them, and prints the process's active resources. The process must then exit by itself: a socket,
 * server or timer left behind would keep it alive.
 */
import { loadCrypto } from '@constellation/crypto'
import { startLocalNetwork } from './local-network.js'

const crypto = await loadCrypto()
const before = process.getActiveResourcesInfo()
const nodes = await startLocalNetwork(crypto, 3, 'full')
const [a, b, c] = nodes as [(typeof nodes)[number], (typeof nodes)[number], (typeof nodes)[number]]
const delivered = new Promise<void>((resolve) => c.subscribe('/fixture/t', () => (resolve(), 'accept')))
b.handle('/fixture/echo/1', ({ data }) => data)
await a.publish('/fixture/t', new Uint8Array([1, 2, 3]))
await a.request(b.peerId, '/fixture/echo/1', new Uint8Array([4]))
await delivered
const during = process.getActiveResourcesInfo()
await Promise.all(nodes.map((node) => node.stop()))
await new Promise((resolve) => setImmediate(resolve))
console.log(JSON.stringify({ before, during, after: process.getActiveResourcesInfo() }))
