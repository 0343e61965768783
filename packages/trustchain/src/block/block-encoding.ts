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
 * Blocks this module makes (built and signed, or decoded) are frozen `SealedBlock`s that keep their encodings and
 * hash beside them (`sealed-block.ts`), so validating, storing and forwarding one block encodes and hashes it once.
 * A decoded block keeps the bytes it came in and is hashed only when something asks for its hash. Other objects
 * given to these functions get their encodings remembered in a `WeakMap`.
 */
import { type CborValue, type Crypto, type KeyPair, decodeCanonical, encodeCanonical, isCryptoError } from '@constellation/crypto'
import { isLeft } from 'fp-ts/lib/Either.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { wireLength, writeUnsigned, writeWire } from './block-writer.js'
import { copyBytes } from './byte-slab.js'
import { CborValueCodec, describeErrors } from './field-codecs.js'
import { type Encodings, NOT_THERE, seal, SealedBlock } from './sealed-block.js'
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
/** The generic encoder's nesting limit for the whole unsigned part, of which the payload is one level down. */
const MAX_PAYLOAD_ENCODE_DEPTH = 63

const wireOf = (encodings: Encodings): Uint8Array | undefined =>
  encodings.wire ?? (encodings.wireEnd === NOT_THERE ? undefined : encodings.source.subarray(encodings.wireStart, encodings.wireEnd))

const unsignedOf = (encodings: Encodings): Uint8Array =>
  encodings.start === 0 && encodings.end === encodings.source.length ? encodings.source : encodings.source.subarray(encodings.start, encodings.end)

/** Encodings of objects this module did not make. */
const foreign = new WeakMap<object, Encodings>()

/**
 * True for a block this module built, signed or decoded (frozen, and checked when it was made): its shape needs no
 * checking again.
 */
export function isSealedBlock(block: unknown): block is HalfBlock {
  return block instanceof SealedBlock
}

function encodingsOf(block: UnsignedHalfBlock): Encodings | undefined {
  return SealedBlock.encodingsOf(block) ?? foreign.get(block)
}

function payloadTooLarge(payloadBytes: number, limits: BlockLimits): TrustChainError {
  return new TrustChainError(TrustChainErrorCode.PAYLOAD_TOO_LARGE, `payload is ${payloadBytes} bytes, over the limit of ${limits.maxPayloadBytes}`, {
    size: payloadBytes,
    maxPayloadBytes: limits.maxPayloadBytes,
  })
}

const isBytes32 = (value: unknown): boolean => value instanceof Uint8Array && value.length === 32
const isIntegerFrom = (value: unknown, min: number): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= min

/**
 * `UnsignedHalfBlockCodec.is` on the block's fields but the payload, without io-ts's allocations. The payload is
 * checked as it is written (`writeUnsigned` writes only values of the canonical model, and hands anything else to
 * `encodePayload`, which checks it against `CborValueCodec` first).
 */
function hasUnsignedFields(block: UnsignedHalfBlock): boolean {
  const type = block.type as unknown
  return (
    isBytes32(block.publicKey) &&
    isIntegerFrom(block.sequenceNumber, 1) &&
    isBytes32(block.linkPublicKey) &&
    isIntegerFrom(block.linkSequenceNumber, 0) &&
    isBytes32(block.previousHash) &&
    isIntegerFrom(block.timestamp, 0) &&
    (type === 'tx' || type === 'genesis' || type === 'checkpoint' || type === 'void')
  )
}

function notAnUnsignedBlock(block: UnsignedHalfBlock): TrustChainError {
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
  return new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'not a valid unsigned half-block', {
    errors: isLeft(checked) ? describeErrors(checked.left) : [],
  })
}

/** A payload the fast writer left: checked against the value model, then encoded by the generic encoder. */
const encodePayload = (block: UnsignedHalfBlock, limits: BlockLimits) => (payload: CborValue) => {
  if (!CborValueCodec.is(payload)) throw notAnUnsignedBlock(block)
  return encodeCanonical(payload, { maxBytes: limits.maxBlockBytes, maxDepth: MAX_PAYLOAD_ENCODE_DEPTH })
}

/**
 * The canonical encoding of the unsigned part, checked against the limits; nothing remembered. The bytes are the
 * writer's scratch space, valid until the next encoding: copy them to keep them.
 */
function unsignedBytesOf(block: UnsignedHalfBlock, limits: BlockLimits): Uint8Array {
  if (!hasUnsignedFields(block)) throw notAnUnsignedBlock(block)
  let written: { bytes: Uint8Array; payloadLength: number }
  try {
    written = writeUnsigned(block, encodePayload(block, limits))
  } catch (cause) {
    if (isCryptoError(cause)) {
      throw new TrustChainError(TrustChainErrorCode.BLOCK_TOO_LARGE, `cannot encode block: ${cause.message}`, {}, { cause })
    }
    throw cause
  }
  if (written.bytes.length > limits.maxBlockBytes) {
    throw new TrustChainError(
      TrustChainErrorCode.BLOCK_TOO_LARGE,
      `cannot encode block: encoding is ${written.bytes.length} bytes, over the limit of ${limits.maxBlockBytes}`,
      { size: written.bytes.length, maxBlockBytes: limits.maxBlockBytes },
    )
  }
  if (written.payloadLength > limits.maxPayloadBytes) throw payloadTooLarge(written.payloadLength, limits)
  return written.bytes
}

/** The canonical encoding of the unsigned part: the bytes that are hashed. */
export function encodeUnsigned(block: UnsignedHalfBlock, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  const cached = encodingsOf(block)
  if (cached !== undefined) return unsignedOf(cached)
  const bytes = copyBytes(unsignedBytesOf(block, limits))
  foreign.set(block, { source: bytes, start: 0, end: bytes.length, wireStart: 0, wireEnd: NOT_THERE, hash: undefined, wire: undefined })
  return bytes
}

/** SHA-256 of the unsigned encoding; the block's identity and what its signature signs. */
export function blockHash(crypto: Crypto, block: UnsignedHalfBlock): Uint8Array {
  let encodings = encodingsOf(block)
  if (encodings === undefined) {
    encodeUnsigned(block)
    encodings = encodingsOf(block) as Encodings
  }
  encodings.hash ??= crypto.sha256(unsignedOf(encodings))
  return encodings.hash
}

function wireTooLarge(limits: BlockLimits): TrustChainError {
  return new TrustChainError(TrustChainErrorCode.BLOCK_TOO_LARGE, `the block's wire form exceeds ${limits.maxBlockBytes} bytes`, {
    maxBlockBytes: limits.maxBlockBytes,
  })
}

/** Signs an unsigned block with its author's key pair and returns the frozen half-block. */
export function signBlock(crypto: Crypto, keyPair: KeyPair, unsigned: UnsignedHalfBlock, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): HalfBlock {
  // A block of this module's making is checked and frozen: its bytes can be taken as they are.
  const memo = isSealedBlock(unsigned) ? encodingsOf(unsigned) : undefined
  const bytes = memo === undefined ? unsignedBytesOf(unsigned, limits) : unsignedOf(memo)
  // The limit applies to what travels and is stored: a block whose wire form is too large is refused here, by its
  // author, rather than signed and then impossible to send.
  if (wireLength(bytes.length) > limits.maxBlockBytes) throw wireTooLarge(limits)
  const hash = crypto.sha256(bytes)
  const signature = crypto.sign(hash, keyPair)
  const { source, wireStart, wireEnd, unsignedStart } = writeWire(bytes, signature)
  return new SealedBlock(
    unsigned.publicKey,
    unsigned.sequenceNumber,
    unsigned.linkPublicKey,
    unsigned.linkSequenceNumber,
    unsigned.previousHash,
    unsigned.timestamp,
    unsigned.type,
    unsigned.payload,
    signature,
    { source, start: unsignedStart, end: unsignedStart + bytes.length, wireStart, wireEnd, hash, wire: undefined },
  )
}

/** The wire (and disk) form: canonical CBOR `[unsignedBytes, signature]`. */
export function encodeBlock(block: HalfBlock, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  const memo = encodingsOf(block)
  let wire = memo === undefined ? undefined : wireOf(memo)
  if (wire === undefined) {
    const unsigned = encodeUnsigned(block, limits)
    if (!HalfBlockCodec.is(block)) {
      throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'not a valid half-block (signature must be 64 bytes)')
    }
    if (wireLength(unsigned.length) > limits.maxBlockBytes) throw wireTooLarge(limits)
    const written = writeWire(unsigned, block.signature)
    wire = written.source.subarray(written.wireStart, written.wireEnd)
    ;(encodingsOf(block) as Encodings).wire = wire
  } else if (wire.length > limits.maxBlockBytes) {
    // Cached under other limits: the caller's limit still holds.
    throw wireTooLarge(limits)
  }
  return wire
}

function malformed(message: string, detail: Record<string, unknown> = {}, cause?: unknown): TrustChainError {
  return new TrustChainError(TrustChainErrorCode.MALFORMED_BLOCK, message, detail, cause === undefined ? undefined : { cause })
}

/** Size of a CBOR head carrying `n`. */
const headLength = (n: number): number => (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9)

/**
 * Size of the payload's encoding inside a canonical unsigned part, by subtracting the exactly known sizes of the
 * other fields (their keys, three 32-byte strings, three integers, the type): cheaper than encoding it again.
 */
function payloadLength(block: UnsignedHalfBlock, unsignedLength: number): number {
  const keys = 1 + 5 + 8 + 10 + 10 + 13 + 14 + 15 + 19 // the map head and the eight keys' encodings
  return (
    unsignedLength -
    keys -
    3 * 34 -
    headLength(block.sequenceNumber) -
    headLength(block.linkSequenceNumber) -
    headLength(block.timestamp) -
    (1 + block.type.length)
  )
}

/**
 * Decodes a block from its wire form. Checks, in order: total size, canonical CBOR of the envelope and of the
 * unsigned part, the half-block shape, the payload size. Throws `TrustChainError` (BLOCK_TOO_LARGE,
 * PAYLOAD_TOO_LARGE, MALFORMED_BLOCK); the signature is left to validation. The block's hash is computed (with
 * whichever `Crypto` asks, see `blockHash`) only when something needs it, from the bytes received.
 */
export function decodeBlock(_crypto: Crypto, bytes: unknown, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): HalfBlock {
  if (!(bytes instanceof Uint8Array)) throw malformed('a block must be given as a Uint8Array')
  if (bytes.length > limits.maxBlockBytes) {
    throw new TrustChainError(TrustChainErrorCode.BLOCK_TOO_LARGE, `block is ${bytes.length} bytes, over the limit of ${limits.maxBlockBytes}`, {
      size: bytes.length,
      maxBlockBytes: limits.maxBlockBytes,
    })
  }
  const fast = readWireBlock(bytes, limits.maxBlockBytes)
  if (fast !== undefined) {
    // The reader vouches for the half-block's shape; only the payload limit is left to check.
    if (fast.payloadLength > limits.maxPayloadBytes) throw payloadTooLarge(fast.payloadLength, limits)
    return fast.fields
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
  const block = decoded.right
  const payloadBytes = payloadLength(block, unsignedBytes.length)
  if (payloadBytes > limits.maxPayloadBytes) throw payloadTooLarge(payloadBytes, limits)
  return seal(block, { source: unsignedBytes, start: 0, end: unsignedBytes.length, wireStart: 0, wireEnd: NOT_THERE, hash: undefined, wire: bytes })
}
