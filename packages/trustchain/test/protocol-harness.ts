/**
 * Builds TrustChain nodes on a `SimNetwork`, each with its own memory store seeded with a genesis block.
 */
import type { Crypto } from '@constellation/crypto'
import {
  type BlockStore,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createTrustChainNode,
  type SigningPolicy,
  type TrustChainNode,
} from '../src/index.js'
import { keyPairOf } from './helpers.js'
import { SimNetwork, type SimNetworkOptions } from './sim-network.js'

export interface SimPeer {
  readonly node: TrustChainNode
  readonly store: BlockStore
}

export async function simPeers(
  crypto: Crypto,
  count: number,
  network: SimNetworkOptions,
  options: { balance?: number; shouldSign?: SigningPolicy; deadlineMs?: number; maxClockSkewMs?: number } = {},
): Promise<{ net: SimNetwork; peers: SimPeer[]; errors: unknown[]; run: () => Promise<void> }> {
  const net = new SimNetwork(network)
  const peers: SimPeer[] = []
  const errors: unknown[] = []
  for (let i = 0; i < count; i++) {
    const keyPair = keyPairOf(crypto, 100 + i)
    const store = createMemoryBlockStore({ crypto })
    await createLedger({ crypto, store }).ingest([createGenesisBlock({ crypto, keyPair }, { balance: options.balance ?? 1_000, timestamp: 1 })])
    const node = createTrustChainNode({
      crypto,
      keyPair,
      store,
      messenger: net.messenger(Buffer.from(keyPair.publicKey).toString('hex')),
      clock: net.clock,
      seed: network.seed + i,
      retry: { initialDelayMs: 200, maxDelayMs: 2_000, jitter: 0.25, deadlineMs: options.deadlineMs ?? 60_000 },
      ...(options.shouldSign === undefined ? {} : { shouldSign: options.shouldSign }),
      ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
      onError: (error) => errors.push(error),
    })
    await node.start()
    peers.push({ node, store })
  }
  return {
    net,
    peers,
    errors,
    // A node that failed must fail the test, not leave it waiting.
    run: async () => {
      await net.run(() => errors.length === 0 && peers.some((peer) => !peer.node.idle()))
      if (errors.length > 0) throw errors[0]
    },
  }
}
