/**
 * An in-memory `BlockStore`: for tests, simulations and nodes that keep nothing across restarts.
 *
 * Chains are maps from sequence number to block, with hash and link indexes beside them. A batch is checked in
 * full before anything is applied, which is what makes it atomic here. Whether a position already holds the same
 * block is decided by comparing hashes, which every block remembers, so a write hashes nothing twice.
 */
import { type Crypto, equalBytes, toHex } from '@constellation/crypto'
import { blockHash } from '../block/block-encoding.js'
import type { BlockKey, HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { type FraudProof, fraudProofId, verifyFraudProof } from '../validation/fraud-proof.js'
import type { BlockBatch, BlockStore } from './block-store.js'
import { chainKey, PositionMap } from './position-key.js'

interface Chain {
  readonly blocks: Map<number, HalfBlock>
  maxSequenceNumber: number
}

export interface MemoryBlockStoreOptions {
  readonly crypto: Crypto
}

/**
 * The hash index is keyed by a hash's first 30 bits (a small integer: no string to build per block); the rare
 * blocks that share them sit in a list.
 */
const hashTag = (hash: Uint8Array): number =>
  (hash[0] as number) | ((hash[1] as number) << 8) | ((hash[2] as number) << 16) | (((hash[3] as number) & 0x3f) << 24)

export function createMemoryBlockStore(options: MemoryBlockStoreOptions): BlockStore {
  return new MemoryBlockStore(options.crypto)
}

class MemoryBlockStore implements BlockStore {
  readonly #crypto: Crypto
  readonly #chains = new Map<string, Chain>()
  readonly #byHash = new Map<number, HalfBlock | HalfBlock[]>()
  readonly #linked = new PositionMap<HalfBlock[]>()
  readonly #proofs = new Map<string, FraudProof>()
  #closed = false

  constructor(crypto: Crypto) {
    this.#crypto = crypto
  }

  async write(batch: BlockBatch): Promise<void> {
    this.#open()
    const crypto = this.#crypto
    // Everything that can fail (hashing a malformed block, a conflict) happens before the first change, so a
    // batch is written whole or not at all.
    const fresh: { block: HalfBlock; hash: Uint8Array; chain: string }[] = []
    const inBatch = new PositionMap<Uint8Array>()
    for (const block of batch.blocks) {
      const hash = blockHash(crypto, block)
      const chain = chainKey(block.publicKey)
      const stored = this.#chains.get(chain)?.blocks.get(block.sequenceNumber)
      const held = inBatch.get(block.publicKey, block.sequenceNumber) ?? (stored === undefined ? undefined : blockHash(crypto, stored))
      if (held === undefined) {
        inBatch.set(block.publicKey, block.sequenceNumber, hash)
        fresh.push({ block, hash, chain })
      } else if (!equalBytes(held, hash)) {
        throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `a different block is already at ${toHex(block.publicKey)}:${block.sequenceNumber}`, {
          publicKey: toHex(block.publicKey),
          sequenceNumber: block.sequenceNumber,
        })
      }
    }
    const newProofs = (batch.fraudProofs ?? []).map((proof) => {
      // As in the LevelDB store: a proof that proves nothing is refused, never stored.
      if (!verifyFraudProof(crypto, proof)) throw new TrustChainError(TrustChainErrorCode.INVALID_FRAUD_PROOF, 'the fraud proof does not prove fraud')
      return [toHex(fraudProofId(crypto, proof)), proof] as const
    })
    for (const { block, hash, chain: key } of fresh) {
      let chain = this.#chains.get(key)
      if (chain === undefined) {
        chain = { blocks: new Map(), maxSequenceNumber: 0 }
        this.#chains.set(key, chain)
      }
      chain.blocks.set(block.sequenceNumber, block)
      if (block.sequenceNumber > chain.maxSequenceNumber) chain.maxSequenceNumber = block.sequenceNumber
      this.#indexHash(hash, block)
      if (block.linkSequenceNumber > 0) {
        const list = this.#linked.get(block.linkPublicKey, block.linkSequenceNumber)
        if (list === undefined) this.#linked.set(block.linkPublicKey, block.linkSequenceNumber, [block])
        else list.push(block) // lists are copied on the way out, so growing them in place is safe
      }
    }
    for (const [id, proof] of newProofs) this.#proofs.set(id, proof)
  }

  async get(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock | undefined> {
    this.#open()
    return this.#lookup(publicKey, sequenceNumber)
  }

  async getMany(keys: readonly BlockKey[]): Promise<(HalfBlock | undefined)[]> {
    this.#open()
    return keys.map((key) => this.#lookup(key.publicKey, key.sequenceNumber))
  }

  async getByHash(hash: Uint8Array): Promise<HalfBlock | undefined> {
    this.#open()
    if (!(hash instanceof Uint8Array)) return undefined
    const held = this.#byHash.get(hashTag(hash))
    if (held === undefined) return undefined
    for (const block of Array.isArray(held) ? held : [held]) if (equalBytes(blockHash(this.#crypto, block), hash)) return block
    return undefined
  }

  async getLinked(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock[]> {
    this.#open()
    return [...(this.#linked.get(publicKey, sequenceNumber) ?? [])]
  }

  async getLinkedMany(targets: readonly BlockKey[]): Promise<HalfBlock[][]> {
    this.#open()
    return targets.map((target) => [...(this.#linked.get(target.publicKey, target.sequenceNumber) ?? [])])
  }

  async latest(publicKey: Uint8Array): Promise<HalfBlock | undefined> {
    this.#open()
    const chain = this.#chains.get(chainKey(publicKey))
    return chain === undefined ? undefined : chain.blocks.get(chain.maxSequenceNumber)
  }

  async range(publicKey: Uint8Array, from: number, to: number): Promise<HalfBlock[]> {
    this.#open()
    const chain = this.#chains.get(chainKey(publicKey))
    if (chain === undefined || to < from) return []
    // Walk whichever is shorter: the requested interval or the chain itself.
    if (to - from + 1 <= chain.blocks.size) {
      const found: HalfBlock[] = []
      for (let seq = from; seq <= to; seq++) {
        const block = chain.blocks.get(seq)
        if (block !== undefined) found.push(block)
      }
      return found
    }
    return [...chain.blocks.values()]
      .filter((block) => block.sequenceNumber >= from && block.sequenceNumber <= to)
      .sort((a, b) => a.sequenceNumber - b.sequenceNumber)
  }

  async fraudProofs(publicKey?: Uint8Array): Promise<FraudProof[]> {
    this.#open()
    const all = [...this.#proofs.values()]
    return publicKey === undefined ? all : all.filter((proof) => equalBytes(proof.publicKey, publicKey))
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #open(): void {
    if (this.#closed) throw new TrustChainError(TrustChainErrorCode.STORE_CLOSED, 'the block store is closed')
  }

  #lookup(publicKey: Uint8Array, sequenceNumber: number): HalfBlock | undefined {
    return this.#chains.get(chainKey(publicKey))?.blocks.get(sequenceNumber)
  }

  #indexHash(hash: Uint8Array, block: HalfBlock): void {
    const tag = hashTag(hash)
    const held = this.#byHash.get(tag)
    if (held === undefined) this.#byHash.set(tag, block)
    else if (Array.isArray(held)) held.push(block)
    else this.#byHash.set(tag, [held, block])
  }
}
