/**
 * Signatures a ledger has verified, so that it never verifies one twice. A block refused for a missing dependency
 * comes back once the dependency is fetched (often several times while a crawl walks a chain's history), and a batch
 * retries its waiting blocks after each pass: verifying the same signature again each time was most of a crawling
 * node's work.
 */
import { type Crypto, equalBytes, HASH_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '@constellation/crypto'
import { blockHash } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'

export class SignatureMemo {
  readonly #crypto: Crypto
  /** By block object, the bytes its signature was verified over: a copy, in case a caller reuses a block's buffers. */
  readonly #verified = new WeakMap<HalfBlock, Uint8Array>()

  constructor(crypto: Crypto) {
    this.#crypto = crypto
  }

  /**
   * Remembers that the block's signature verified. Called only for blocks that are not stored (refused, or waiting
   * for a dependency): a stored block is known by the store itself, and a memo per stored block would cost more than
   * the rest of its bookkeeping.
   */
  remember(block: HalfBlock): void {
    if (!this.#verified.has(block)) this.#verified.set(block, this.#signedBytes(block))
  }

  /**
   * True when the block's signature needs no verifying: this ledger verified it before, or the block is byte for
   * byte the one already stored at its position (same hash and same signature), which was verified when it was
   * stored. Otherwise undefined and validation verifies it; a different block at the position (double-sign fraud)
   * is always verified before it is compared with the stored one.
   */
  known(block: HalfBlock, existing: HalfBlock | undefined): true | undefined {
    const remembered = this.#verified.get(block)
    if (remembered !== undefined && equalBytes(remembered, this.#signedBytes(block))) return true
    if (
      existing !== undefined &&
      equalBytes(existing.signature, block.signature) &&
      equalBytes(blockHash(this.#crypto, existing), blockHash(this.#crypto, block))
    ) {
      return true
    }
    return undefined
  }

  #signedBytes(block: HalfBlock): Uint8Array {
    const bytes = new Uint8Array(PUBLIC_KEY_LENGTH + HASH_LENGTH + SIGNATURE_LENGTH)
    bytes.set(block.publicKey, 0)
    bytes.set(blockHash(this.#crypto, block), PUBLIC_KEY_LENGTH)
    bytes.set(block.signature, PUBLIC_KEY_LENGTH + HASH_LENGTH)
    return bytes
  }
}
