/**
 * An in-memory `BlockStore`: for tests, simulations and nodes that keep nothing across restarts.
 *
 * Chains are maps from sequence number to block, with hash and link indexes beside them. A batch is checked in
 * full before anything is applied, which is what makes it atomic here.
 */
import { type Crypto, equalBytes, toHex } from '@constellation/crypto'
import { chainKey, positionKey } from './position-key.js'
import { blockHash } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { type FraudProof, fraudProofId, verifyFraudProof } from '../validation/fraud-proof.js'
import type { BlockBatch, BlockStore } from './block-store.js'

interface Chain {
  readonly blocks: Map<number, HalfBlock>
  maxSequenceNumber: number
}


export interface MemoryBlockStoreOptions {
  readonly crypto: Crypto
}

export function createMemoryBlockStore(options: MemoryBlockStoreOptions): BlockStore {
  const { crypto } = options
  const chains = new Map<string, Chain>()
  const byHash = new Map<string, HalfBlock>()
  const linked = new Map<string, HalfBlock[]>()
  const proofs = new Map<string, FraudProof>()
  let closed = false

  const open = (): void => {
    if (closed) throw new TrustChainError(TrustChainErrorCode.STORE_CLOSED, 'the block store is closed')
  }
  const lookup = (publicKey: Uint8Array, sequenceNumber: number): HalfBlock | undefined =>
    chains.get(chainKey(publicKey))?.blocks.get(sequenceNumber)
  /** Hashes of stored blocks by position, so that "already stored" is decided by hash without rehashing. */
  const hashes = new Map<string, Uint8Array>()
  const heldHash = (publicKey: Uint8Array, sequenceNumber: number): Uint8Array | undefined => hashes.get(positionKey(publicKey, sequenceNumber))

  return {
    async write(batch: BlockBatch): Promise<void> {
      open()
      // Everything that can fail (hashing a malformed block, a conflict) happens before the first change, so a
      // batch is written whole or not at all.
      const fresh = new Map<string, { block: HalfBlock; hash: Uint8Array }>()
      for (const block of batch.blocks) {
        const key = positionKey(block.publicKey, block.sequenceNumber)
        const hash = blockHash(crypto, block)
        const held = fresh.get(key)?.hash ?? heldHash(block.publicKey, block.sequenceNumber)
        if (held === undefined) fresh.set(key, { block, hash })
        else if (!equalBytes(held, hash)) {
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
      for (const { block, hash } of fresh.values()) {
        const pk = chainKey(block.publicKey)
        let chain = chains.get(pk)
        if (chain === undefined) {
          chain = { blocks: new Map(), maxSequenceNumber: 0 }
          chains.set(pk, chain)
        }
        chain.blocks.set(block.sequenceNumber, block)
        chain.maxSequenceNumber = Math.max(chain.maxSequenceNumber, block.sequenceNumber)
        byHash.set(chainKey(hash), block)
        hashes.set(positionKey(block.publicKey, block.sequenceNumber), hash)
        if (block.linkSequenceNumber > 0) {
          const target = positionKey(block.linkPublicKey, block.linkSequenceNumber)
          linked.set(target, [...(linked.get(target) ?? []), block])
        }
      }
      for (const [id, proof] of newProofs) proofs.set(id, proof)
    },
    async get(publicKey, sequenceNumber) {
      open()
      return lookup(publicKey, sequenceNumber)
    },
    async getMany(keys) {
      open()
      return keys.map((key) => lookup(key.publicKey, key.sequenceNumber))
    },
    async getByHash(hash) {
      open()
      return byHash.get(chainKey(hash))
    },
    async getLinked(publicKey, sequenceNumber) {
      open()
      return [...(linked.get(positionKey(publicKey, sequenceNumber)) ?? [])]
    },
    async getLinkedMany(targets) {
      open()
      return targets.map((target) => [...(linked.get(positionKey(target.publicKey, target.sequenceNumber)) ?? [])])
    },
    async latest(publicKey) {
      open()
      const chain = chains.get(chainKey(publicKey))
      return chain === undefined ? undefined : chain.blocks.get(chain.maxSequenceNumber)
    },
    async range(publicKey, from, to) {
      open()
      const chain = chains.get(chainKey(publicKey))
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
    },
    async fraudProofs(publicKey) {
      open()
      const all = [...proofs.values()]
      return publicKey === undefined ? all : all.filter((proof) => equalBytes(proof.publicKey, publicKey))
    },
    async close() {
      closed = true
    },
  }
}
