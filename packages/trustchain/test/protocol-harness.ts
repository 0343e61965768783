/**
 * Builds TrustChain nodes on a `SimNetwork`, each with its own memory store seeded with a genesis block.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { expect } from 'vitest'
import {
  blockHash,
  type BlockStore,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createTrustChainNode,
  type HalfBlock,
  type SigningPolicy,
  type TrustChainNode,
  ValidationLevel,
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

/**
 * Checks a peer's own chain in its own store and returns it: one block per sequence number from 1, each linked to
 * the one before, none invalid, ending at the engine's head.
 */
export async function checkOwnChain(crypto: Crypto, peer: SimPeer): Promise<HalfBlock[]> {
  const head = peer.node.head()
  const chain = await peer.store.range(peer.node.publicKey, 1, head.sequenceNumber)
  expect(chain.map((block) => block.sequenceNumber)).toEqual(Array.from({ length: head.sequenceNumber }, (_, i) => i + 1))
  for (let i = 1; i < chain.length; i++) expect(toHex(chain[i]!.previousHash)).toBe(toHex(blockHash(crypto, chain[i - 1]!)))
  expect(toHex(blockHash(crypto, chain.at(-1)!))).toBe(toHex(head.hash))
  const ledger = createLedger({ crypto, store: peer.store })
  for (const block of chain) expect((await ledger.validate(block)).level).not.toBe(ValidationLevel.INVALID)
  return chain
}
