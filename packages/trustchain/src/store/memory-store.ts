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
import { type FraudProof, fraudProofId } from '../validation/fraud-proof.js'
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

  return {
    async write(batch: BlockBatch): Promise<void> {
      open()
      const fresh = new Map<string, HalfBlock>()
      for (const block of batch.blocks) {
        const key = positionKey(block.publicKey, block.sequenceNumber)
        const held = fresh.get(key) ?? lookup(block.publicKey, block.sequenceNumber)
        if (held === undefined) fresh.set(key, block)
        else if (!equalBytes(blockHash(crypto, held), blockHash(crypto, block))) {
          throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `a different block is already at ${toHex(block.publicKey)}:${block.sequenceNumber}`, {
            publicKey: toHex(block.publicKey),
            sequenceNumber: block.sequenceNumber,
          })
        }
      }
      for (const block of fresh.values()) {
        const pk = chainKey(block.publicKey)
        let chain = chains.get(pk)
        if (chain === undefined) {
          chain = { blocks: new Map(), maxSequenceNumber: 0 }
          chains.set(pk, chain)
        }
        chain.blocks.set(block.sequenceNumber, block)
        chain.maxSequenceNumber = Math.max(chain.maxSequenceNumber, block.sequenceNumber)
        byHash.set(chainKey(blockHash(crypto, block)), block)
        if (block.linkSequenceNumber > 0) {
          const target = positionKey(block.linkPublicKey, block.linkSequenceNumber)
          linked.set(target, [...(linked.get(target) ?? []), block])
        }
      }
      for (const proof of batch.fraudProofs ?? []) proofs.set(toHex(fraudProofId(crypto, proof)), proof)
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
