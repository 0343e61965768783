/**
 * Reading a chain's head (newest block, running balance) back from a store, e.g. when a node restarts.
 */
import type { Crypto } from '@constellation/crypto'
import { type ChainHead, EMPTY_CHAIN_HEAD } from '../block/block-builder.js'
import { blockHash } from '../block/block-encoding.js'
import { GenesisPayloadCodec, transferOf } from '../block/payloads.js'
import type { BlockStore } from './block-store.js'

export async function readChainHead(crypto: Crypto, store: BlockStore, publicKey: Uint8Array): Promise<ChainHead> {
  const latest = await store.latest(publicKey)
  if (latest === undefined) return EMPTY_CHAIN_HEAD
  let balance = 0
  // Walk down to the newest block that states a balance; a node's own chain has no gaps.
  for (let seq = latest.sequenceNumber; seq >= 1; seq--) {
    const block = seq === latest.sequenceNumber ? latest : await store.get(publicKey, seq)
    if (block === undefined) break
    const transfer = transferOf(block.type, block.payload)
    if (transfer !== undefined) {
      balance = transfer.balance
      break
    }
    if (block.type === 'genesis' && GenesisPayloadCodec.is(block.payload)) {
      balance = block.payload.balance
      break
    }
  }
  return { sequenceNumber: latest.sequenceNumber, hash: blockHash(crypto, latest), balance, timestamp: latest.timestamp }
}
