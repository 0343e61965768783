/**
 * A fast reader for the usual wire form of a half-block.
 *
 * The strict canonical CBOR decoder proves canonical form by re-encoding what it decoded, and io-ts then checks
 * every field again: together several times the cost of hashing the block. A half-block has a fixed layout — the
 * envelope `[bytes, bytes(64)]` and a map of eight known keys in canonical order with fixed-type values — so this
 * reader checks that layout byte by byte (shortest-form heads, exact key bytes, field sizes and ranges) and reads
 * the payload with a small canonical reader of its own (integers, floats in their shortest form, byte and ASCII
 * text strings, arrays, maps with their keys in canonical order, booleans, null).
 *
 * It is an optimisation, never the judge: it returns undefined for anything it is not sure about (a different
 * layout, an integer beyond the safe range, a float it cannot place, non-ASCII text, a `__proto__` key, a deep payload, a sequence
 * number of 0), and the caller then runs the generic strict path, which accepts or rejects with a precise error.
 * Whatever it does return is exactly what the strict path returns, and already has the half-block's shape (a
 * property test checks this on random and mutated blocks), so the caller needs no further check of the fields.
 * Public keys come from the key table (`key-table.ts`), shared with the other blocks of their chains.
 */
import type { CborValue } from '@constellation/crypto'
import { reserve, reservedIn, unreserve } from './byte-slab.js'
import { keyAt } from './key-table.js'
import type { BlockType, HalfBlock } from './half-block.js'
import { SealedBlock } from './sealed-block.js'
import {
  KEY_LINK_PUBLIC_KEY,
  KEY_LINK_SEQUENCE_NUMBER,
  KEY_PAYLOAD,
  KEY_PREVIOUS_HASH,
  KEY_PUBLIC_KEY,
  KEY_SEQUENCE_NUMBER,
  KEY_TIMESTAMP,
  KEY_TYPE,
  MAP_OF_EIGHT,
  textBytes,
} from './block-layout.js'

/** The hashed part and the fields, as the strict decoder would give them. */
export class WireParts {
  constructor(
    /** The array holding a private copy of the whole input (a slab shared with other blocks), at [wireStart, wireEnd). */
    readonly source: Uint8Array,
    readonly wireStart: number,
    readonly wireEnd: number,
    /** Where the hashed part sits in `source`. */
    readonly unsignedStart: number,
    readonly unsignedEnd: number,
    /** The half-block, sealed with its encodings (see `sealed-block.ts`). */
    readonly fields: HalfBlock,
    /** Length of the payload's canonical encoding inside the hashed part. */
    readonly payloadLength: number,
  ) {}

  /** The copy of the input (so later changes to the caller's buffer cannot reach cached blocks). */
  get wire(): Uint8Array {
    return this.source.subarray(this.wireStart, this.wireEnd)
  }

  /** The hashed part: the block without its signature, in canonical form. */
  get unsignedBytes(): Uint8Array {
    return this.source.subarray(this.unsignedStart, this.unsignedEnd)
  }
}

/** Stricter than the generic path's limit for a block (16 levels with the block map), so anything accepted here is accepted there. */
const PAYLOAD_MAX_DEPTH = 14

/** The block types by the head byte of their encoding (their lengths differ). */
const TYPES = new Map<number, { readonly type: BlockType; readonly bytes: Uint8Array }>(
  (['tx', 'genesis', 'checkpoint', 'void'] as const).map((type) => [0x60 + type.length, { type, bytes: textBytes(type) }]),
)

// The reader's cursor: module state rather than an object, so that reading allocates nothing but the values.
const NOTHING: Uint8Array = new Uint8Array(0)
let data = NOTHING
let pos = 0
let end = 0

/** Marks a value the reader will not vouch for. */
const FAIL: unique symbol = Symbol('fail')
type Read = CborValue | typeof FAIL

/** Consumes `expected` if the input continues with it. */
function match(expected: Uint8Array): boolean {
  const length = expected.length
  if (pos + length > end) return false
  for (let i = 0; i < length; i++) if (data[pos + i] !== expected[i]) return false
  pos += length
  return true
}

/** The argument of a head of the given major type in shortest form, or -1. Safe integers only. */
function head(major: number): number {
  if (pos >= end) return -1
  const initial = data[pos] as number
  if (initial >> 5 !== major) return -1
  pos++
  const info = initial & 31
  if (info < 24) return info
  if (info === 24) {
    if (pos + 1 > end) return -1
    const value = data[pos] as number
    pos += 1
    return value >= 24 ? value : -1
  }
  if (info === 25) {
    if (pos + 2 > end) return -1
    const value = ((data[pos] as number) << 8) | (data[pos + 1] as number)
    pos += 2
    return value >= 0x100 ? value : -1
  }
  if (info === 26) {
    if (pos + 4 > end) return -1
    const value = (data[pos] as number) * 0x1000000 + (((data[pos + 1] as number) << 16) | ((data[pos + 2] as number) << 8) | (data[pos + 3] as number))
    pos += 4
    return value >= 0x10000 ? value : -1
  }
  if (info === 27) {
    if (pos + 8 > end) return -1
    const high = (data[pos] as number) * 0x1000000 + (((data[pos + 1] as number) << 16) | ((data[pos + 2] as number) << 8) | (data[pos + 3] as number))
    const low = (data[pos + 4] as number) * 0x1000000 + (((data[pos + 5] as number) << 16) | ((data[pos + 6] as number) << 8) | (data[pos + 7] as number))
    pos += 8
    // Shortest form needs at least 2^32; a safe integer is below 2^53.
    return high !== 0 && high <= 0x1fffff ? high * 0x100000000 + low : -1
  }
  return -1
}

/** A 32-byte string (hashes), as a view of the input. */
function bytes32(): Uint8Array | undefined {
  if (pos + 34 > end || data[pos] !== 0x58 || data[pos + 1] !== 32) return undefined
  pos += 34
  return data.subarray(pos - 32, pos)
}

/** A 32-byte public key, as the key table's shared copy when it has one. */
function publicKey32(): Uint8Array | undefined {
  if (pos + 34 > end || data[pos] !== 0x58 || data[pos + 1] !== 32) return undefined
  pos += 34
  return keyAt(data, pos - 32).bytes
}

/** Short texts read lately (payload keys and kinds repeat in every block), by a hash of their bytes. */
const texts = new Map<number, string>()
const MAX_TEXTS = 4096
const MAX_REMEMBERED_TEXT = 24

/** Text of `length` ASCII bytes at the cursor, or undefined (non-ASCII text is left to the strict decoder's UTF-8 rules). */
function asciiText(length: number): string | undefined {
  const start = pos
  const stop = pos + length
  let hash = length
  for (let i = start; i < stop; i++) {
    const code = data[i] as number
    if (code > 0x7f) return undefined
    hash = (Math.imul(hash, 31) + code) | 0
  }
  pos = stop
  if (length <= MAX_REMEMBERED_TEXT) {
    const known = texts.get(hash)
    if (known !== undefined && sameText(known, start, length)) return known
  }
  let text = ''
  for (let i = start; i < stop; i++) text += String.fromCharCode(data[i] as number)
  if (length <= MAX_REMEMBERED_TEXT) {
    if (texts.size >= MAX_TEXTS) texts.clear()
    texts.set(hash, text)
  }
  return text
}

function sameText(text: string, start: number, length: number): boolean {
  if (text.length !== length) return false
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) !== data[start + i]) return false
  return true
}

/*
 * Floats. The canonical encoder writes a number as an integer when it is a safe integer, otherwise in the shortest
 * of half, single and double precision that holds it exactly; NaN and infinities are refused. The reader accepts a
 * float only where it is sure that is the encoding the encoder would have chosen, and leaves the rest (including
 * every half-precision subnormal) to the strict decoder.
 */

/** A finite number that is not a safe integer (a safe integer must have been written as an integer). */
const floatValue = (value: number): Read => (Number.isFinite(value) && !Number.isSafeInteger(value) ? value : FAIL)

function half(): Read {
  if (pos + 2 > end) return FAIL
  const bits = ((data[pos] as number) << 8) | (data[pos + 1] as number)
  pos += 2
  const exponent = (bits >> 10) & 0x1f
  // Zero and subnormals (exponent 0), infinities and NaN (31): not for this reader.
  if (exponent === 0 || exponent === 0x1f) return FAIL
  const magnitude = (1 + (bits & 0x3ff) / 1024) * 2 ** (exponent - 15)
  return floatValue(bits & 0x8000 ? -magnitude : magnitude)
}

/** True when `value` (finite, not zero) is exactly a half-precision number, normal or subnormal. */
function fitsHalf(value: number): boolean {
  const magnitude = Math.abs(value)
  if (magnitude > 65504) return false
  if (magnitude < 2 ** -14) return Number.isInteger(magnitude * 2 ** 24)
  let exponent = Math.floor(Math.log2(magnitude))
  if (2 ** exponent > magnitude) exponent--
  else if (2 ** (exponent + 1) <= magnitude) exponent++
  return Number.isInteger(magnitude * 2 ** (10 - exponent))
}

function single(): Read {
  if (pos + 4 > end) return FAIL
  const value = new DataView(data.buffer, data.byteOffset + pos, 4).getFloat32(0)
  pos += 4
  // A single that a half holds exactly must have been written as the half (or is left to the strict decoder).
  return value === 0 || !Number.isFinite(value) || fitsHalf(value) ? FAIL : floatValue(value)
}

function double(): Read {
  if (pos + 8 > end) return FAIL
  const value = new DataView(data.buffer, data.byteOffset + pos, 8).getFloat64(0)
  pos += 8
  // A double that a single holds exactly (and so every half) must have been written shorter.
  return Math.fround(value) === value ? FAIL : floatValue(value)
}

/** True when the encoded key at [start, stop) sorts strictly after the one at [previousStart, previousStop). */
function keyAfter(previousStart: number, previousStop: number, start: number, stop: number): boolean {
  const previousLength = previousStop - previousStart
  const length = stop - start
  const common = Math.min(previousLength, length)
  for (let i = 0; i < common; i++) {
    const difference = (data[start + i] as number) - (data[previousStart + i] as number)
    if (difference !== 0) return difference > 0
  }
  return length > previousLength
}

/** One value of the canonical CBOR model; `depth` is the nesting level a container here would have. */
function readValue(depth: number): Read {
  if (pos >= end) return FAIL
  const initial = data[pos] as number
  switch (initial >> 5) {
    case 0: {
      const value = head(0)
      return value < 0 ? FAIL : value
    }
    case 1: {
      // -1 - n stays a safe integer (the strict decoder's `number`) only for n below 2^53 - 1.
      const n = head(1)
      return n < 0 || n >= Number.MAX_SAFE_INTEGER ? FAIL : -1 - n
    }
    case 2: {
      const length = head(2)
      if (length < 0 || length > end - pos) return FAIL
      pos += length
      return data.slice(pos - length, pos)
    }
    case 3: {
      const length = head(3)
      if (length < 0 || length > end - pos) return FAIL
      return asciiText(length) ?? FAIL
    }
    case 4: {
      const count = head(4)
      if (count < 0 || count > end - pos || depth > PAYLOAD_MAX_DEPTH) return FAIL
      const items: CborValue[] = []
      for (let i = 0; i < count; i++) {
        const item = readValue(depth + 1)
        if (item === FAIL) return FAIL
        items.push(item)
      }
      return items
    }
    case 5: {
      const count = head(5)
      if (count < 0 || 2 * count > end - pos || depth > PAYLOAD_MAX_DEPTH) return FAIL
      const map: Record<string, CborValue> = {}
      let previousStart = 0
      let previousStop = 0
      for (let i = 0; i < count; i++) {
        const keyStart = pos
        const length = head(3)
        if (length < 0 || length > end - pos) return FAIL
        const key = asciiText(length)
        // Canonical maps have their keys in the bytewise order of their encodings, hence no duplicates.
        if (key === undefined || key === '__proto__' || (i > 0 && !keyAfter(previousStart, previousStop, keyStart, pos))) return FAIL
        previousStart = keyStart
        previousStop = pos
        const value = readValue(depth + 1)
        if (value === FAIL) return FAIL
        map[key] = value
      }
      return map
    }
    case 7:
      pos++
      if (initial === 0xf4) return false
      if (initial === 0xf5) return true
      if (initial === 0xf6) return null
      return initial === 0xf9 ? half() : initial === 0xfa ? single() : initial === 0xfb ? double() : FAIL // undefined, simple values: strict path
    default:
      return FAIL // tags
  }
}

/** The block's type at the cursor. */
function blockType(): BlockType | undefined {
  const known = TYPES.get(data[pos] as number)
  return known !== undefined && match(known.bytes) ? known.type : undefined
}

/** Reads a block in the usual layout, or returns undefined (then use the strict path). Copies its input. */
export function readWireBlock(input: Uint8Array, maxBytes: number): WireParts | undefined {
  if (input.length > maxBytes) return undefined
  const start = reserve(input.length)
  data = reservedIn()
  data.set(input, start)
  pos = start
  end = start + input.length
  try {
    const parts = readBlock(start, end)
    if (parts === undefined) unreserve(start)
    return parts
  } finally {
    data = NOTHING // no reference to the block kept
  }
}

function readBlock(wireStart: number, wireEnd: number): WireParts | undefined {
  // The envelope: [unsignedBytes, signature(64)], nothing after it.
  if (data[pos++] !== 0x82) return undefined
  const unsignedLength = head(2)
  if (unsignedLength < 0 || unsignedLength > end - pos) return undefined
  const unsignedStart = pos
  const unsignedEnd = unsignedStart + unsignedLength
  pos = unsignedEnd
  if (end - pos !== 66 || data[pos] !== 0x58 || data[pos + 1] !== 64) return undefined
  const signature = data.subarray(pos + 2, end)

  pos = unsignedStart
  end = unsignedEnd
  if (data[pos++] !== MAP_OF_EIGHT || !match(KEY_TYPE)) return undefined
  const type = blockType()
  if (type === undefined || !match(KEY_PAYLOAD)) return undefined
  const payloadStart = pos
  const payload = readValue(1)
  if (payload === FAIL) return undefined
  const payloadLength = pos - payloadStart
  if (!match(KEY_PUBLIC_KEY)) return undefined
  const publicKey = publicKey32()
  if (publicKey === undefined || !match(KEY_TIMESTAMP)) return undefined
  const timestamp = head(0)
  if (timestamp < 0 || !match(KEY_PREVIOUS_HASH)) return undefined
  const previousHash = bytes32()
  if (previousHash === undefined || !match(KEY_LINK_PUBLIC_KEY)) return undefined
  const linkPublicKey = publicKey32()
  if (linkPublicKey === undefined || !match(KEY_SEQUENCE_NUMBER)) return undefined
  const sequenceNumber = head(0)
  // Sequence numbers start at 1: a 0 is the strict path's to refuse, with its message.
  if (sequenceNumber < 1 || !match(KEY_LINK_SEQUENCE_NUMBER)) return undefined
  const linkSequenceNumber = head(0)
  if (linkSequenceNumber < 0 || pos !== end) return undefined
  const fields = new SealedBlock(publicKey, sequenceNumber, linkPublicKey, linkSequenceNumber, previousHash, timestamp, type, payload, signature, {
    source: data,
    start: unsignedStart,
    end: unsignedEnd,
    wireStart,
    wireEnd,
    hash: undefined,
    wire: undefined,
  })
  return new WireParts(data, wireStart, wireEnd, unsignedStart, unsignedEnd, fields, payloadLength)
}
