/**
 * Many nodes on one host: Gossipsub scores down peers that share an IP address, and past ~13 of them on 127.0.0.1 a
 * node would ignore everything its neighbours send. Loopback is exempt by default (`ipColocationWhitelist`).
 */
import { loadCrypto } from '@constellation/crypto'
import { afterEach, expect, it } from 'vitest'
import { createLibp2pNetwork, type Libp2pNetwork } from '../src/index.js'

const crypto = await loadCrypto()
let running: Libp2pNetwork[] = []
afterEach(async () => {
  await Promise.allSettled(running.map((node) => node.stop()))
  running = []
})

it('a hub with 16 neighbours on 127.0.0.1 takes in what every one of them publishes', async () => {
  const start = () => {
    const node = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), gossip: { heartbeatIntervalMs: 100 } })
    running.push(node)
    return node
  }
  const hub = start()
  const leaves = Array.from({ length: 16 }, start)
  await Promise.all([hub, ...leaves].map((node) => node.start()))
  const received = new Set<string>()
  const all = new Promise<void>((resolve) => {
    hub.subscribe('/test/colocation/1', (message) => {
      received.add(new TextDecoder().decode(message.data))
      if (received.size === leaves.length) resolve()
      return 'accept'
    })
  })
  for (const leaf of leaves) leaf.subscribe('/test/colocation/1', () => 'accept')
  await Promise.all(leaves.map((leaf) => leaf.dial(hub.listenAddresses()[0] as string)))
  await Promise.all(leaves.map((leaf) => leaf.gossipReady([hub.peerId])))
  await Promise.all(leaves.map((leaf, i) => leaf.publish('/test/colocation/1', new TextEncoder().encode(`leaf ${i}`))))
  await all
  expect(received.size).toBe(16)
}, 60_000)
