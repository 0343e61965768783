/**
 * Half-blocks as this package makes them (built and signed, or decoded): the nine fields, frozen, with what is
 * known of their encodings kept beside them, so that validating, storing and forwarding a block encodes and hashes
 * it once.
 *
 * The encodings live in a private field of a small class rather than in a `WeakMap` or a hidden property: a
 * `WeakMap` entry costs more than decoding the block, and more again in every garbage collection, and a hidden
 * property costs a property store of its own per block. To its users a sealed block is an ordinary `HalfBlock`:
 * exactly its nine enumerable fields (spreading or serialising it sees nothing else, and a spread copy is a plain
 * object, encoded afresh). Objects made elsewhere get their encodings remembered in a `WeakMap`, as before.
 */
import type { BlockType, HalfBlock } from './half-block.js'

/**
 * What is known of a block's encodings: the bytes that are hashed (as a range of the array holding the wire form
 * when there is one, so that a block holds one array for both), their hash once asked for, the wire form.
 */
export interface Encodings {
  /** The array holding the unsigned part at [start, end), and the wire form at [wireStart, wireEnd) if it is there. */
  readonly source: Uint8Array
  readonly start: number
  readonly end: number
  readonly wireStart: number
  /** `NOT_THERE` when the wire form is not in `source`. */
  readonly wireEnd: number
  hash: Uint8Array | undefined
  /** The wire form, when it is not in `source`. */
  wire: Uint8Array | undefined
}

export const NOT_THERE = -1

export class SealedBlock implements HalfBlock {
  readonly publicKey: Uint8Array
  readonly sequenceNumber: number
  readonly linkPublicKey: Uint8Array
  readonly linkSequenceNumber: number
  readonly previousHash: Uint8Array
  readonly timestamp: number
  readonly type: BlockType
  readonly payload: HalfBlock['payload']
  readonly signature: Uint8Array
  readonly #encodings: Encodings

  constructor(
    publicKey: Uint8Array,
    sequenceNumber: number,
    linkPublicKey: Uint8Array,
    linkSequenceNumber: number,
    previousHash: Uint8Array,
    timestamp: number,
    type: BlockType,
    payload: HalfBlock['payload'],
    signature: Uint8Array,
    encodings: Encodings,
  ) {
    this.publicKey = publicKey
    this.sequenceNumber = sequenceNumber
    this.linkPublicKey = linkPublicKey
    this.linkSequenceNumber = linkSequenceNumber
    this.previousHash = previousHash
    this.timestamp = timestamp
    this.type = type
    this.payload = payload
    this.signature = signature
    this.#encodings = encodings
    Object.freeze(this)
  }

  /** The encodings of a sealed block; undefined for any other object. */
  static encodingsOf(block: object): Encodings | undefined {
    return #encodings in block ? block.#encodings : undefined
  }
}

/** A sealed block with the fields of `fields`. */
export const seal = (fields: HalfBlock, encodings: Encodings): SealedBlock =>
  new SealedBlock(
    fields.publicKey,
    fields.sequenceNumber,
    fields.linkPublicKey,
    fields.linkSequenceNumber,
    fields.previousHash,
    fields.timestamp,
    fields.type,
    fields.payload,
    fields.signature,
    encodings,
  )
