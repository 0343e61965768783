/**
 * Anchored nodes on @constellation/gossip's seeded SimNetwork, with a stand-in for the consensus: `TestAnchors`
 * certifies what a test tells it to (a chain's checkpoint and spendable balance), as a consensus would after checking
 * the stretch. The consensus package's tests run the real thing.
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { SimNetwork, type SimNode } from '@constellation/gossip'
import {
  type AnchoredNode,
  type AnchoredNodeOptions,
  blockHash,
  type BlockStore,
  type CertifiedAnchor,
  type CertifiedAnchors,
  createAnchoredNode,
  createGenesisBlock,
  createMemoryBlockStore,
  type HalfBlock,
  openingAnchor,
} from '../src/index.js'
import { keyPairOf } from './helpers.js'

export class TestAnchors implements CertifiedAnchors {
  #round = 0
  readonly #anchors = new Map<string, CertifiedAnchor>()

  round(): number {
    return this.#round
  }

  anchorOf(publicKey: Uint8Array): CertifiedAnchor | undefined {
    return this.#anchors.get(toHex(publicKey))
  }

  /** A member with no certified checkpoint yet, opening with `balance`. */
  open(publicKey: Uint8Array, balance: number): void {
    this.#anchors.set(toHex(publicKey), openingAnchor(balance, this.#round))
  }

  /** Certifies `checkpoint` (a block of its chain stating its balance) with `spendable`, in a new round. */
  certify(crypto: Crypto, checkpoint: HalfBlock, spendable: number): void {
    this.#round++
    const balance = (checkpoint.payload as { balance: number }).balance
    this.#anchors.set(toHex(checkpoint.publicKey), {
      sequenceNumber: checkpoint.sequenceNumber,
      hash: blockHash(crypto, checkpoint),
      balance,
      spendable,
      round: this.#round,
    })
  }
}

export interface AnchoredPeer {
  readonly keyPair: KeyPair
  readonly sim: SimNode
  readonly store: BlockStore
  node: AnchoredNode
}

export async function anchoredPeers(
  crypto: Crypto,
  count: number,
  options: {
    seed: number
    balance?: number
    node?: Partial<AnchoredNodeOptions>
    crypto?: Crypto
    /** The anchors peer `i` reads (default: the shared ones), e.g. a view of several consensuses. */
    anchorsFor?: (i: number, shared: TestAnchors) => CertifiedAnchors
  } = { seed: 1 },
): Promise<{ net: SimNetwork; anchors: TestAnchors; peers: AnchoredPeer[]; restart: (peer: AnchoredPeer) => Promise<void> }> {
  const net = new SimNetwork({ crypto, seed: options.seed })
  const anchors = new TestAnchors()
  const peers: AnchoredPeer[] = []
  const build = (keyPair: KeyPair, sim: SimNode, store: BlockStore, i: number) =>
    createAnchoredNode({
      crypto: options.crypto ?? crypto,
      keyPair,
      store,
      network: sim,
      anchors: options.anchorsFor?.(i, anchors) ?? anchors,
      clock: net.clock,
      ...options.node,
    })
  for (let i = 0; i < count; i++) {
    const keyPair = keyPairOf(crypto, 500 + i)
    const sim = net.addNode(keyPair)
    await sim.start()
    const store = createMemoryBlockStore({ crypto })
    const balance = options.balance ?? 1_000
    await store.write({ blocks: [createGenesisBlock({ crypto, keyPair }, { balance, timestamp: 1 })] })
    anchors.open(keyPair.publicKey, balance)
    const node = build(keyPair, sim, store, i)
    await node.start()
    peers.push({ keyPair, sim, store, node })
  }
  const restart = async (peer: AnchoredPeer) => {
    await peer.node.stop()
    peer.node = build(peer.keyPair, peer.sim, peer.store, peers.indexOf(peer))
    await peer.node.start()
  }
  return { net, anchors, peers, restart }
}
