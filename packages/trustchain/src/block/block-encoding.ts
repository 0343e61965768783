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
 * Blocks are frozen, and their encodings and hash are remembered with the object, so validating, storing and
 * forwarding one block encodes and hashes it once. A decoded block keeps the bytes it came in and is hashed only
 * when something asks for its hash. Blocks this module creates carry that memo in a hidden (non-enumerable, symbol
 * keyed) property — a `WeakMap` entry costs more than decoding the block, and more again in every garbage
 * collection — and other objects given to these functions get a `WeakMap` entry as before. Spreading a block into
 * a new object does not copy the memo: the copy is encoded afresh.
 */
import { type CborValue, type Crypto, type KeyPair, decodeCanonical, encodeCanonical, isCryptoError } from '@constellation/crypto'
import { isLeft } from 'fp-ts/lib/Either.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { wireLength, writeUnsigned, writeWire } from './block-writer.js'
import { CborValueCodec, describeErrors } from './field-codecs.js'
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

/**
 * What is remembered of a block object: the bytes that are hashed (as a range of the wire form when there is one,
 * so that a block holds one array for both), their hash once asked for, the wire form.
 */
interface Encodings {
  /** The object these belong to (a memo reached through an object's prototype is not its own). */
  readonly owner: object
  /** The array holding the unsigned part, at [start, end). */
  readonly source: Uint8Array
  readonly start: number
  readonly end: number
  hash: Uint8Array | undefined
  wire: Uint8Array | undefined
}

const unsignedOf = (encodings: Encodings): Uint8Array =>
  encodings.start === 0 && encodings.end === encodings.source.length ? encodings.source : encodings.source.subarray(encodings.start, encodings.end)
const ENCODINGS: unique symbol = Symbol('trustchain.encodings')
type Memoised = { readonly [ENCODINGS]?: Encodings }
/** Memos of objects this module did not create. */
const foreign = new WeakMap<object, Encodings>()

/**
 * True for a block this module built, signed or decoded (frozen, and checked when it was made): its shape needs no
 * checking again.
 */
export function isSealedBlock(block: unknown): block is HalfBlock {
  if (typeof block !== 'object' || block === null) return false
  const own = (block as Memoised)[ENCODINGS]
  return own !== undefined && own.owner === block && own.wire !== undefined && Object.isFrozen(block)
}

function encodingsOf(block: UnsignedHalfBlock): Encodings | undefined {
  const own = (block as Memoised)[ENCODINGS]
  return own !== undefined && own.owner === block ? own : foreign.get(block)
}

/** A frozen block of this module's making, with its memo. */
function sealed<B extends UnsignedHalfBlock>(
  block: B,
  source: Uint8Array,
  start: number,
  end: number,
  hash: Uint8Array | undefined,
  wire: Uint8Array | undefined,
): B {
  const encodings: Encodings = { owner: block, source, start, end, hash, wire }
  Object.defineProperty(block, ENCODINGS, { value: encodings })
  return Object.freeze(block)
}

function payloadTooLarge(payloadBytes: number, limits: BlockLimits): TrustChainError {
  return new TrustChainError(
    TrustChainErrorCode.PAYLOAD_TOO_LARGE,
    `payload is ${payloadBytes} bytes, over the limit of ${limits.maxPayloadBytes}`,
    { size: payloadBytes, maxPayloadBytes: limits.maxPayloadBytes },
  )
}

const isBytes32 = (value: unknown): boolean => value instanceof Uint8Array && value.length === 32
const isIntegerFrom = (value: unknown, min: number): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= min

/** `UnsignedHalfBlockCodec.is` on the block's eight fields, without io-ts's allocations. */
function hasUnsignedShape(block: UnsignedHalfBlock): boolean {
  const type = block.type as unknown
  return (
    isBytes32(block.publicKey) &&
    isIntegerFrom(block.sequenceNumber, 1) &&
    isBytes32(block.linkPublicKey) &&
    isIntegerFrom(block.linkSequenceNumber, 0) &&
    isBytes32(block.previousHash) &&
    isIntegerFrom(block.timestamp, 0) &&
    (type === 'tx' || type === 'genesis' || type === 'checkpoint' || type === 'void') &&
    CborValueCodec.is(block.payload)
  )
}

const encodePayload = (limits: BlockLimits) => (payload: CborValue) =>
  encodeCanonical(payload, { maxBytes: limits.maxBlockBytes, maxDepth: MAX_PAYLOAD_ENCODE_DEPTH })

/** The canonical encoding of the unsigned part, checked against the limits; nothing remembered. */
function unsignedBytesOf(block: UnsignedHalfBlock, limits: BlockLimits): Uint8Array {
  if (!hasUnsignedShape(block)) {
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
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'not a valid unsigned half-block', {
      errors: isLeft(checked) ? describeErrors(checked.left) : [],
    })
  }
  let written: { bytes: Uint8Array; payloadLength: number }
  try {
    written = writeUnsigned(block, encodePayload(limits))
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
  const bytes = unsignedBytesOf(block, limits)
  foreign.set(block, { owner: block, source: bytes, start: 0, end: bytes.length, hash: undefined, wire: undefined })
  return bytes
}

/** SHA-256 of the unsigned encoding; the block's identity and what its signature signs. */
export function blockHash(crypto: Crypto, block: UnsignedHalfBlock): Uint8Array {
  let encodings = encodingsOf(block)
  if (encodings === undefined) {
    encodeUnsigned(block)
    encodings = encodingsOf(block) as Encodings
  }
  return (encodings.hash ??= crypto.sha256(unsignedOf(encodings)))
}

function wireTooLarge(limits: BlockLimits): TrustChainError {
  return new TrustChainError(TrustChainErrorCode.BLOCK_TOO_LARGE, `the block's wire form exceeds ${limits.maxBlockBytes} bytes`, {
    maxBlockBytes: limits.maxBlockBytes,
  })
}

/** Signs an unsigned block with its author's key pair and returns the frozen half-block. */
export function signBlock(
  crypto: Crypto,
  keyPair: KeyPair,
  unsigned: UnsignedHalfBlock,
  limits: BlockLimits = DEFAULT_BLOCK_LIMITS,
): HalfBlock {
  // A block of this module's making is checked and frozen: its bytes can be taken as they are.
  const memo = isSealedBlock(unsigned) ? encodingsOf(unsigned) : undefined
  const bytes = memo === undefined ? unsignedBytesOf(unsigned, limits) : unsignedOf(memo)
  // The limit applies to what travels and is stored: a block whose wire form is too large is refused here, by its
  // author, rather than signed and then impossible to send.
  if (wireLength(bytes.length) > limits.maxBlockBytes) throw wireTooLarge(limits)
  const hash = crypto.sha256(bytes)
  const signature = crypto.sign(hash, keyPair)
  const { wire, unsignedStart } = writeWire(bytes, signature)
  return sealed<HalfBlock>(
    {
      publicKey: unsigned.publicKey,
      sequenceNumber: unsigned.sequenceNumber,
      linkPublicKey: unsigned.linkPublicKey,
      linkSequenceNumber: unsigned.linkSequenceNumber,
      previousHash: unsigned.previousHash,
      timestamp: unsigned.timestamp,
      type: unsigned.type,
      payload: unsigned.payload,
      signature,
    },
    wire,
    unsignedStart,
    unsignedStart + bytes.length,
    hash,
    wire,
  )
}

/** The wire (and disk) form: canonical CBOR `[unsignedBytes, signature]`. */
export function encodeBlock(block: HalfBlock, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  let wire = encodingsOf(block)?.wire
  if (wire === undefined) {
    const unsigned = encodeUnsigned(block, limits)
    if (!HalfBlockCodec.is(block)) {
      throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'not a valid half-block (signature must be 64 bytes)')
    }
    if (wireLength(unsigned.length) > limits.maxBlockBytes) throw wireTooLarge(limits)
    wire = writeWire(unsigned, block.signature).wire
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
    throw new TrustChainError(
      TrustChainErrorCode.BLOCK_TOO_LARGE,
      `block is ${bytes.length} bytes, over the limit of ${limits.maxBlockBytes}`,
      { size: bytes.length, maxBlockBytes: limits.maxBlockBytes },
    )
  }
  const fast = readWireBlock(bytes, limits.maxBlockBytes)
  if (fast !== undefined) {
    // The reader vouches for the half-block's shape; only the payload limit is left to check.
    if (fast.payloadLength > limits.maxPayloadBytes) throw payloadTooLarge(fast.payloadLength, limits)
    return sealed(fast.fields, fast.wire, fast.unsignedStart, fast.unsignedStart + fast.unsignedLength, undefined, fast.wire)
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
  // io-ts hands back the object it was given, which is this function's own: it can carry the memo.
  return sealed(block, unsignedBytes, 0, unsignedBytes.length, undefined, bytes)
}
