/**
 * Test helper: starts Libp2pNetwork nodes on 127.0.0.1 (OS-chosen ports), connects them in a topology, and
 * resolves once they are ready for traffic: every link is up and every node's gossip mesh holds all of its
 * neighbours (test networks are smaller than the mesh's lower bound, so `gossipReady` means all of them), so
 * that the first message a test publishes is relayed like any later one.
 */
import type { Crypto } from '@constellation/crypto'
import { createLibp2pNetwork, type Libp2pNetwork, type NetworkLimits, type PeerId } from '../../src/index.js'

export type LocalTopology = 'full' | 'line'

/** Heartbeats fast enough that a fresh mesh forms in a fraction of a second. */
const TEST_GOSSIP = { heartbeatIntervalMs: 100 }

export async function startLocalNetwork(crypto: Crypto, count: number, topology: LocalTopology, limits?: Partial<NetworkLimits>): Promise<Libp2pNetwork[]> {
  const nodes = Array.from({ length: count }, () =>
    createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), gossip: TEST_GOSSIP, ...(limits && { limits }) }),
  )
  try {
    await Promise.all(nodes.map((node) => node.start()))
    const links: [Libp2pNetwork, Libp2pNetwork][] = []
    nodes.forEach((node, i) => {
      if (topology === 'full') for (const other of nodes.slice(0, i)) links.push([node, other])
      else if (i > 0) links.push([node, nodes[i - 1] as Libp2pNetwork])
    })
    await Promise.all(links.map(([from, to]) => from.dial(to.listenAddresses()[0] as string)))
    const neighbours = new Map<Libp2pNetwork, PeerId[]>(nodes.map((node) => [node, []]))
    for (const [a, b] of links) {
      neighbours.get(a)?.push(b.peerId)
      neighbours.get(b)?.push(a.peerId)
    }
    await Promise.all(nodes.map((node) => node.gossipReady(neighbours.get(node) ?? [])))
    return nodes
  } catch (error) {
    await Promise.allSettled(nodes.map((node) => node.stop()))
    throw error
  }
}
