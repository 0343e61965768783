/**
 * How a half-block appears in the API's JSON: every field readable (binary values as lower-case hex, numbers as
 * JSON numbers), its hash, and its wire encoding in hex so that a client can check the signature itself or submit
 * the block elsewhere.
 */
import { type CborValue, type Crypto, toHex } from '@constellation/crypto'
import { type BlockLimits, blockHash, encodeBlock, type HalfBlock } from '@constellation/trustchain'

/** A JSON value: what a CBOR payload becomes in a response. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue }

export interface HalfBlockView {
  readonly hash: string
  readonly publicKey: string
  readonly sequenceNumber: number
  readonly linkPublicKey: string
  readonly linkSequenceNumber: number
  readonly previousHash: string
  readonly timestamp: number
  readonly type: HalfBlock['type']
  readonly payload: JsonValue
  readonly signature: string
  /** The block's wire encoding (canonical CBOR), hex. */
  readonly hex: string
}

/**
 * A payload as JSON: byte strings become hex and integers beyond the safe range become decimal strings (JSON
 * numbers would lose their digits). Payloads are bounded in size and depth by the block codec, so this recursion is.
 */
export function cborToJson(value: CborValue): JsonValue {
  if (value instanceof Uint8Array) return toHex(value)
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (Array.isArray(value)) return value.map((item: CborValue) => cborToJson(item))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as { readonly [key: string]: CborValue }).map(([key, item]) => [key, cborToJson(item)]))
  }
  return value as null | boolean | number | string
}

export function halfBlockView(crypto: Crypto, block: HalfBlock, limits?: BlockLimits): HalfBlockView {
  return {
    hash: toHex(blockHash(crypto, block)),
    publicKey: toHex(block.publicKey),
    sequenceNumber: block.sequenceNumber,
    linkPublicKey: toHex(block.linkPublicKey),
    linkSequenceNumber: block.linkSequenceNumber,
    previousHash: toHex(block.previousHash),
    timestamp: block.timestamp,
    type: block.type,
    payload: cborToJson(block.payload),
    signature: toHex(block.signature),
    hex: toHex(encodeBlock(block, limits)),
  }
}
