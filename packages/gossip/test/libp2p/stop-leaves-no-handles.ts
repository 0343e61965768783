/**
 * Fixture run in a child process by libp2p-network.test.ts: starts three nodes, exchanges gossip and requests,
 * stops them (and one node while it is still starting), and prints the process's active resources. The process must then exit by itself: a socket,
 * server or timer left behind would keep it alive.
 */
import { loadCrypto } from '@constellation/crypto'
import { createLibp2pNetwork } from '../../src/index.js'
import { startLocalNetwork } from './local-network.js'

const crypto = await loadCrypto()
const before = process.getActiveResourcesInfo()
const nodes = await startLocalNetwork(crypto, 3, 'full')
const [a, b, c] = nodes as [(typeof nodes)[number], (typeof nodes)[number], (typeof nodes)[number]]
const delivered = new Promise<void>((resolve) =>
  c.subscribe('/fixture/t', () => {
    resolve()
    return 'accept'
  }),
)
b.handle('/fixture/echo/1', ({ data }) => data)
await a.publish('/fixture/t', new Uint8Array([1, 2, 3]))
await a.request(b.peerId, '/fixture/echo/1', new Uint8Array([4]))
await delivered
const during = process.getActiveResourcesInfo()
// A node stopped while it is still starting: start fails with NETWORK_CLOSED and nothing is left running.
const hasty = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair() })
const started = hasty.start().then(
  () => 'started',
  (error: { code?: string }) => error.code,
)
await hasty.stop()
const hastyOutcome = await started
await Promise.all(nodes.map((node) => node.stop()))
await new Promise((resolve) => setImmediate(resolve))
console.log(JSON.stringify({ before, during, after: process.getActiveResourcesInfo(), hastyOutcome }))
