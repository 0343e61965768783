/**
 * Wire and hash encoding of half-blocks.
 *
 * The hash of a block is SHA-256 of the canonical CBOR of the block without its signature, and the signature signs
 * that hash. On the wire (and on disk) a block travels as the canonical CBOR pair `[unsignedBytes, signature]`, so
 * a receiver hashes exactly the bytes it received instead of re-encoding the decoded value (one encode saved per
 * block, which matters at tens of thousands of blocks per second). Decoding checks the sizes first (whole block,
 * then payload), then canonical form and shape, and fails with typed errors; it never checks the signature, which
 * is validation's job.
 *
 * Blocks are frozen, and their hash and encodings are remembered per object (a `WeakMap`), so validating, storing
 * and forwarding one block encodes and hashes it once.
 */
import { type Crypto, type KeyPair, decodeCanonical, encodeCanonical, isCryptoError } from '@constellation/crypto'
import { isLeft } from 'fp-ts/lib/Either.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { describeErrors } from './field-codecs.js'
import { readWireBlock } from './wire-reader.js'
import { type HalfBlock, HalfBlockCodec, type UnsignedHalfBlock, UnsignedHalfBlockCodec } from './half-block.js'

export interface BlockLimits {
  /** Largest encoded block (wire form) accepted, in bytes. */
  readonly maxBlockBytes: number
  /** Largest canonical encoding of a payload accepted, in bytes. */
  readonly maxPayloadBytes: number
}

export const DEFAULT_BLOCK_LIMITS: BlockLimits = Object.freeze({ maxBlockBytes: 16_384, maxPayloadBytes: 8_192 })

/** Deepest nesting allowed inside a block (the block map is level 1, a payload may nest a little). */
const MAX_BLOCK_DEPTH = 16

const unsignedBytesOf = new WeakMap<UnsignedHalfBlock, Uint8Array>()
const hashOf = new WeakMap<UnsignedHalfBlock, Uint8Array>()
const wireOf = new WeakMap<HalfBlock, Uint8Array>()

/** Length of a CBOR head carrying `n`. */
function headLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9
}
const textLength = (s: string): number => headLength(s.length) + s.length // keys and types are ASCII
const BYTES32_LENGTH = 2 + 32
const FIXED_KEYS_LENGTH = [
  'publicKey',
  'sequenceNumber',
  'linkPublicKey',
  'linkSequenceNumber',
  'previousHash',
  'timestamp',
  'type',
  'payload',
].reduce((sum, key) => sum + textLength(key), 1) // + the one-byte map head of 8 entries

/**
 * Size of the payload's canonical encoding inside an encoded unsigned block, by subtracting the exactly known
 * sizes of the other fields: cheaper than encoding the payload again.
 */
function payloadLength(block: UnsignedHalfBlock, unsignedLength: number): number {
  return (
    unsignedLength -
    FIXED_KEYS_LENGTH -
    3 * BYTES32_LENGTH -
    headLength(block.sequenceNumber) -
    headLength(block.linkSequenceNumber) -
    headLength(block.timestamp) -
    textLength(block.type)
  )
}

function checkSizes(block: UnsignedHalfBlock, unsignedLength: number, limits: BlockLimits): void {
  const payloadBytes = payloadLength(block, unsignedLength)
  if (payloadBytes > limits.maxPayloadBytes) {
    throw new TrustChainError(
      TrustChainErrorCode.PAYLOAD_TOO_LARGE,
      `payload is ${payloadBytes} bytes, over the limit of ${limits.maxPayloadBytes}`,
      { size: payloadBytes, maxPayloadBytes: limits.maxPayloadBytes },
    )
  }
}

/** The canonical encoding of the unsigned part: the bytes that are hashed. */
export function encodeUnsigned(block: UnsignedHalfBlock, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  const cached = unsignedBytesOf.get(block)
  if (cached !== undefined) return cached
  const checked = UnsignedHalfBlockCodec.decode({
    publicKey: block.publicKey,
    sequenceNumber: block.sequenceNumber,
    linkPublicKey: block.linkPublicKey,
    linkSequenceNumber: block.linkSequenceNumber,
    previousHash: block.previousHash,
    timestamp: block.timestamp,
    type: block.type,
    payload: block.payload,
  })
  if (isLeft(checked)) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'not a valid unsigned half-block', {
      errors: describeErrors(checked.left),
    })
  }
  let bytes: Uint8Array
  try {
    bytes = encodeCanonical(UnsignedHalfBlockCodec.encode(checked.right), { maxBytes: limits.maxBlockBytes })
  } catch (cause) {
    if (isCryptoError(cause)) {
      throw new TrustChainError(TrustChainErrorCode.BLOCK_TOO_LARGE, `cannot encode block: ${cause.message}`, {}, { cause })
    }
    throw cause
  }
  checkSizes(block, bytes.length, limits)
  unsignedBytesOf.set(block, bytes)
  return bytes
}

/** SHA-256 of the unsigned encoding; the block's identity and what its signature signs. */
export function blockHash(crypto: Crypto, block: UnsignedHalfBlock): Uint8Array {
  let hash = hashOf.get(block)
  if (hash === undefined) {
    hash = crypto.sha256(encodeUnsigned(block))
    hashOf.set(block, hash)
  }
  return hash
}

/** Signs an unsigned block with its author's key pair and returns the frozen half-block. */
export function signBlock(
  crypto: Crypto,
  keyPair: KeyPair,
  unsigned: UnsignedHalfBlock,
  limits: BlockLimits = DEFAULT_BLOCK_LIMITS,
): HalfBlock {
  const bytes = encodeUnsigned(unsigned, limits)
  const hash = crypto.sha256(bytes)
  const block: HalfBlock = Object.freeze({
    publicKey: unsigned.publicKey,
    sequenceNumber: unsigned.sequenceNumber,
    linkPublicKey: unsigned.linkPublicKey,
    linkSequenceNumber: unsigned.linkSequenceNumber,
    previousHash: unsigned.previousHash,
    timestamp: unsigned.timestamp,
    type: unsigned.type,
    payload: unsigned.payload,
    signature: crypto.sign(hash, keyPair),
  })
  unsignedBytesOf.set(block, bytes)
  hashOf.set(block, hash)
  // The limit applies to what travels and is stored: a block whose wire form is too large is refused here, by its
  // author, rather than signed and then impossible to send.
  encodeBlock(block, limits)
  return block
}

/** The wire (and disk) form: canonical CBOR `[unsignedBytes, signature]`. */
export function encodeBlock(block: HalfBlock, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  let wire = wireOf.get(block)
  if (wire === undefined) {
    const unsigned = encodeUnsigned(block, limits)
    if (!HalfBlockCodec.is(block)) {
      throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'not a valid half-block (signature must be 64 bytes)')
    }
    try {
      wire = encodeCanonical([unsigned, block.signature], { maxBytes: limits.maxBlockBytes })
    } catch (cause) {
      if (isCryptoError(cause)) {
        throw new TrustChainError(TrustChainErrorCode.BLOCK_TOO_LARGE, `the block's wire form exceeds ${limits.maxBlockBytes} bytes`, { maxBlockBytes: limits.maxBlockBytes }, { cause })
      }
      throw cause
    }
    wireOf.set(block, wire)
  } else if (wire.length > limits.maxBlockBytes) {
    // Cached under other limits: the caller's limit still holds.
    throw new TrustChainError(TrustChainErrorCode.BLOCK_TOO_LARGE, `the block's wire form exceeds ${limits.maxBlockBytes} bytes`, { maxBlockBytes: limits.maxBlockBytes })
  }
  return wire
}

function malformed(message: string, detail: Record<string, unknown> = {}, cause?: unknown): TrustChainError {
  return new TrustChainError(TrustChainErrorCode.MALFORMED_BLOCK, message, detail, cause === undefined ? undefined : { cause })
}

/**
 * Decodes a block from its wire form. Checks, in order: total size, canonical CBOR of the envelope and of the
 * unsigned part, the half-block shape, the payload size. Throws `TrustChainError` (BLOCK_TOO_LARGE,
 * PAYLOAD_TOO_LARGE, MALFORMED_BLOCK); the signature is left to validation.
 */
export function decodeBlock(crypto: Crypto, bytes: unknown, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): HalfBlock {
  if (!(bytes instanceof Uint8Array)) throw malformed('a block must be given as a Uint8Array')
  if (bytes.length > limits.maxBlockBytes) {
    throw new TrustChainError(
      TrustChainErrorCode.BLOCK_TOO_LARGE,
      `block is ${bytes.length} bytes, over the limit of ${limits.maxBlockBytes}`,
      { size: bytes.length, maxBlockBytes: limits.maxBlockBytes },
    )
  }
  const fast = readWireBlock(bytes, limits.maxBlockBytes)
  if (fast !== undefined) {
    const decoded = HalfBlockCodec.decode(fast.fields)
    if (!isLeft(decoded)) {
      const block = Object.freeze(decoded.right)
      checkSizes(block, fast.unsignedBytes.length, limits)
      unsignedBytesOf.set(block, fast.unsignedBytes)
      hashOf.set(block, crypto.sha256(fast.unsignedBytes))
      wireOf.set(block, fast.wire)
      return block
    }
  }
  let envelope: unknown
  let fields: unknown
  try {
    envelope = decodeCanonical(bytes, { maxBytes: limits.maxBlockBytes, maxDepth: 1 })
    if (!Array.isArray(envelope) || envelope.length !== 2 || !(envelope[0] instanceof Uint8Array)) {
      throw malformed('a block must be the pair [unsignedBytes, signature]')
    }
    fields = decodeCanonical(envelope[0], { maxBytes: limits.maxBlockBytes, maxDepth: MAX_BLOCK_DEPTH })
  } catch (cause) {
    if (cause instanceof TrustChainError) throw cause
    const message = cause instanceof Error ? cause.message : String(cause)
    throw malformed(`block is not canonical CBOR: ${message}`, { cryptoCode: isCryptoError(cause) ? cause.code : undefined }, cause)
  }
  const unsignedBytes = envelope[0] as Uint8Array
  // A `signature` key inside the hashed part would be overwritten below and the hash would cover a different block.
  if (typeof fields === 'object' && fields !== null && Object.hasOwn(fields, 'signature')) {
    throw malformed('the hashed part of a block must not contain a signature')
  }
  const decoded = HalfBlockCodec.decode(
    typeof fields === 'object' && fields !== null && !Array.isArray(fields)
      ? { ...(fields as Record<string, unknown>), signature: (envelope as unknown[])[1] }
      : fields,
  )
  if (isLeft(decoded)) {
    throw malformed('bytes are not a half-block', { errors: describeErrors(decoded.left) })
  }
  const block = Object.freeze(decoded.right)
  checkSizes(block, unsignedBytes.length, limits)
  unsignedBytesOf.set(block, unsignedBytes)
  hashOf.set(block, crypto.sha256(unsignedBytes))
  wireOf.set(block, bytes)
  return block
}
