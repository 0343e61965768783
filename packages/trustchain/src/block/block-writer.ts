/**
 * A fast writer of the canonical encodings of half-blocks: the counterpart of `wire-reader.ts`.
 *
 * The generic canonical encoder builds a token tree and sorts every map by encoding its keys, which costs about
 * half as much as signing the block. The unsigned part of a half-block has a fixed layout (eight known keys in
 * canonical order), so this module writes it byte by byte, and writes payloads of the usual kinds (maps with ASCII
 * keys, safe integers, ASCII text, byte strings, arrays, booleans, null) directly. A payload with anything else in
 * it (floats, bigints, non-ASCII text, other objects, deep nesting) is encoded by the generic encoder, which also
 * refuses what has no encoding. The bytes are exactly the generic encoder's (a property test compares them).
 */
import type { CborValue } from '@constellation/crypto'
import { reserve, reservedIn } from './byte-slab.js'
import type { HalfBlock, UnsignedHalfBlock } from './half-block.js'
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
} from './block-layout.js'

/** Nesting this writer handles itself (payload containers; the generic encoder takes deeper ones). */
const MAX_DEPTH = 14

// Scratch space the unsigned part is written into before it is copied out; it grows for large payloads.
let out = new Uint8Array(2048)
let at = 0

function room(length: number): void {
  if (at + length <= out.length) return
  const larger = new Uint8Array(Math.max(2 * out.length, at + length))
  larger.set(out.subarray(0, at))
  out = larger
}

/** A head of the given major type in shortest form (`n` a safe integer). */
function head(major: number, n: number): void {
  room(9)
  const type = major << 5
  if (n < 24) out[at++] = type | n
  else if (n < 0x100) {
    out[at++] = type | 24
    out[at++] = n
  } else if (n < 0x10000) {
    out[at++] = type | 25
    out[at++] = n >>> 8
    out[at++] = n & 0xff
  } else if (n < 0x100000000) {
    out[at++] = type | 26
    out[at++] = n >>> 24
    out[at++] = (n >>> 16) & 0xff
    out[at++] = (n >>> 8) & 0xff
    out[at++] = n & 0xff
  } else {
    const high = Math.floor(n / 0x100000000)
    const low = n >>> 0
    out[at++] = type | 27
    out[at++] = high >>> 24
    out[at++] = (high >>> 16) & 0xff
    out[at++] = (high >>> 8) & 0xff
    out[at++] = high & 0xff
    out[at++] = low >>> 24
    out[at++] = (low >>> 16) & 0xff
    out[at++] = (low >>> 8) & 0xff
    out[at++] = low & 0xff
  }
}

function bytes(value: Uint8Array): void {
  head(2, value.length)
  room(value.length)
  out.set(value, at)
  at += value.length
}

/** ASCII text; false (nothing written) for any other character. */
function text(value: string): boolean {
  const length = value.length
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) > 0x7f) return false
  head(3, length)
  room(length)
  for (let i = 0; i < length; i++) out[at++] = value.charCodeAt(i)
  return true
}

/** Canonical map order for ASCII keys: the bytewise order of their encodings, i.e. shorter first, then bytewise. */
const keyOrder = (a: string, b: string): number => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)

function inKeyOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keyOrder(keys[i - 1] as string, keys[i] as string) > 0) return false
  return true
}

/** Writes `value` if it is of the usual kinds; false otherwise (the caller then rewinds and uses the generic encoder). */
function value(item: unknown, depth: number): boolean {
  switch (typeof item) {
    case 'number':
      if (!Number.isSafeInteger(item)) return false // floats: the generic encoder picks their width
      if (item >= 0) head(0, item)
      else head(1, -1 - item)
      return true
    case 'string':
      return text(item)
    case 'boolean':
      room(1)
      out[at++] = item ? 0xf5 : 0xf4
      return true
    case 'object': {
      if (item === null) {
        room(1)
        out[at++] = 0xf6
        return true
      }
      if (item instanceof Uint8Array) {
        bytes(item)
        return true
      }
      if (depth > MAX_DEPTH) return false
      if (Array.isArray(item)) {
        head(4, item.length)
        for (let i = 0; i < item.length; i++) if (!value(item[i], depth + 1)) return false
        return true
      }
      if (Object.getPrototypeOf(item) !== Object.prototype) return false
      const map = item as Record<string, unknown>
      const keys = Object.keys(map)
      // Most payloads are built with their keys in canonical order already (`{ kind, amount, balance }`).
      if (!inKeyOrder(keys)) keys.sort(keyOrder)
      head(5, keys.length)
      for (const key of keys) if (!text(key) || !value(map[key], depth + 1)) return false
      return true
    }
    default:
      return false
  }
}

const MAP_HEAD = Uint8Array.of(MAP_OF_EIGHT)

function raw(part: Uint8Array): void {
  room(part.length)
  out.set(part, at)
  at += part.length
}

/**
 * The canonical encoding of an unsigned half-block whose fields have been checked (keys and hashes of 32 bytes,
 * safe integers, a known type), and the length of its payload's encoding. `encodePayload` is the generic encoder,
 * for payloads this writer leaves to it (it checks them and throws what it throws). The bytes are scratch space,
 * valid until the next call: copy them to keep them.
 */
export function writeUnsigned(block: UnsignedHalfBlock, encodePayload: (payload: CborValue) => Uint8Array): { bytes: Uint8Array; payloadLength: number } {
  at = 0
  raw(MAP_HEAD)
  raw(KEY_TYPE)
  text(block.type)
  raw(KEY_PAYLOAD)
  const payloadStart = at
  if (!value(block.payload, 1)) {
    at = payloadStart
    raw(encodePayload(block.payload))
  }
  const payloadLength = at - payloadStart
  raw(KEY_PUBLIC_KEY)
  bytes(block.publicKey)
  raw(KEY_TIMESTAMP)
  head(0, block.timestamp)
  raw(KEY_PREVIOUS_HASH)
  bytes(block.previousHash)
  raw(KEY_LINK_PUBLIC_KEY)
  bytes(block.linkPublicKey)
  raw(KEY_SEQUENCE_NUMBER)
  head(0, block.sequenceNumber)
  raw(KEY_LINK_SEQUENCE_NUMBER)
  head(0, block.linkSequenceNumber)
  return { bytes: out.subarray(0, at), payloadLength }
}

/** Length of the wire form `[unsigned, signature(64)]` of an unsigned part of `unsignedLength` bytes. */
export function wireLength(unsignedLength: number): number {
  const headLength = unsignedLength < 24 ? 1 : unsignedLength < 0x100 ? 2 : unsignedLength < 0x10000 ? 3 : 5
  return 1 + headLength + unsignedLength + 2 + 64
}

/** Where `writeWire` put a wire form: in `source` at [wireStart, wireEnd), its unsigned part from `unsignedStart`. */
export interface WrittenWire {
  readonly source: Uint8Array
  readonly wireStart: number
  readonly wireEnd: number
  readonly unsignedStart: number
}

/** The wire form, canonical CBOR `[unsignedBytes, signature]`, written into a slab (see `byte-slab.ts`). */
export function writeWire(unsigned: Uint8Array, signature: HalfBlock['signature']): WrittenWire {
  const length = unsigned.length
  const total = wireLength(length)
  const wireStart = reserve(total)
  const wire = reservedIn()
  let offset = wireStart
  wire[offset++] = 0x82
  if (length < 24) wire[offset++] = 0x40 | length
  else if (length < 0x100) {
    wire[offset++] = 0x58
    wire[offset++] = length
  } else if (length < 0x10000) {
    wire[offset++] = 0x59
    wire[offset++] = length >>> 8
    wire[offset++] = length & 0xff
  } else {
    wire[offset++] = 0x5a
    wire[offset++] = length >>> 24
    wire[offset++] = (length >>> 16) & 0xff
    wire[offset++] = (length >>> 8) & 0xff
    wire[offset++] = length & 0xff
  }
  const unsignedStart = offset
  wire.set(unsigned, offset)
  offset += length
  wire[offset++] = 0x58
  wire[offset++] = 64
  wire.set(signature, offset)
  return { source: wire, wireStart, wireEnd: wireStart + total, unsignedStart }
}
