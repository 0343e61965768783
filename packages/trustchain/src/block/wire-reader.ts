/**
 * A fast reader for the usual wire form of a half-block.
 *
 * The strict canonical CBOR decoder proves canonical form by re-encoding what it decoded, which costs about half
 * as much as verifying the block's signature. A half-block has a fixed layout — the envelope `[bytes, bytes(64)]`
 * and a map of eight known keys in canonical order with fixed-type values — so this reader checks that layout
 * byte by byte (shortest-form heads, exact key bytes) and hands only the payload to the strict decoder.
 *
 * It is an optimisation, never the judge: it returns undefined for anything it is not sure about (a different
 * layout, an integer beyond the safe range, a deep payload), and the caller then runs the generic strict path,
 * which accepts or rejects with a precise error. Whatever it does return is exactly what the strict path returns
 * (a property test checks this on random and mutated blocks). The result still goes through `HalfBlockCodec`.
 */
import { decodeCanonical } from '@constellation/crypto'

/** The hashed part and the fields, as the strict decoder would give them (before the codec). */
export interface WireParts {
  /** A private copy of the whole input (so later changes to the caller's buffer cannot reach cached blocks). */
  readonly wire: Uint8Array
  readonly unsignedBytes: Uint8Array
  readonly fields: Record<string, unknown>
}

const encoder = new TextEncoder()
const keyBytes = (key: string): Uint8Array => Uint8Array.of(0x60 + key.length, ...encoder.encode(key))
const TYPES = new Map(['genesis', 'tx', 'checkpoint', 'void'].map((type) => [type, keyBytes(type)] as const))
const KEYS = {
  type: keyBytes('type'),
  payload: keyBytes('payload'),
  publicKey: keyBytes('publicKey'),
  timestamp: keyBytes('timestamp'),
  previousHash: keyBytes('previousHash'),
  linkPublicKey: keyBytes('linkPublicKey'),
  sequenceNumber: keyBytes('sequenceNumber'),
  linkSequenceNumber: keyBytes('linkSequenceNumber'),
}
/** Stricter than the generic path's limit for a block (16 levels with the block map), so anything accepted here is accepted there. */
const PAYLOAD_MAX_DEPTH = 14

class Cursor {
  pos: number
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start
  }

  expect(expected: Uint8Array): boolean {
    if (this.pos + expected.length > this.end) return false
    for (let i = 0; i < expected.length; i++) if (this.bytes[this.pos + i] !== expected[i]) return false
    this.pos += expected.length
    return true
  }

  /** The argument of a head of the given major type in shortest form, or -1. Safe integers only. */
  head(major: number): number {
    if (this.pos >= this.end) return -1
    const initial = this.bytes[this.pos++] as number
    if (initial >> 5 !== major) return -1
    const info = initial & 31
    if (info < 24) return info
    const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0
    if (width === 0 || this.pos + width > this.end) return -1
    let value = 0
    for (let i = 0; i < width; i++) value = value * 256 + (this.bytes[this.pos + i] as number)
    this.pos += width
    const minimum = width === 1 ? 24 : width === 2 ? 0x100 : width === 4 ? 0x10000 : 0x100000000
    return value >= minimum && value <= Number.MAX_SAFE_INTEGER ? value : -1
  }

  bytes32(): Uint8Array | undefined {
    if (this.pos + 34 > this.end || this.bytes[this.pos] !== 0x58 || this.bytes[this.pos + 1] !== 32) return undefined
    this.pos += 34
    return this.bytes.subarray(this.pos - 32, this.pos)
  }

  /** Skips one well-formed item with definite lengths; false if it cannot. */
  skipItem(): boolean {
    let items = 1
    while (items > 0) {
      items--
      if (this.pos >= this.end) return false
      const initial = this.bytes[this.pos] as number
      const major = initial >> 5
      if ((initial & 31) === 31) return false
      const argument = major === 7 ? this.simple() : this.head(major)
      if (argument < 0) return false
      if (major === 2 || major === 3) {
        if (argument > this.end - this.pos) return false
        this.pos += argument
      } else if (major === 4) items += argument
      else if (major === 5) items += 2 * argument
      else if (major === 6) return false
    }
    return true
  }

  private simple(): number {
    const info = (this.bytes[this.pos] as number) & 31
    const width = info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : info < 24 ? 0 : -1
    if (width < 0 || this.pos + 1 + width > this.end) return -1
    this.pos += 1 + width
    return 0
  }
}

/** Reads a block in the usual layout, or returns undefined (then use the strict path). Copies its input. */
export function readWireBlock(input: Uint8Array, maxBytes: number): WireParts | undefined {
  const bytes = Uint8Array.from(input)
  const envelope = new Cursor(bytes, 0, bytes.length)
  if (!envelope.expect(Uint8Array.of(0x82))) return undefined
  const unsignedLength = envelope.head(2)
  if (unsignedLength < 0 || unsignedLength > bytes.length - envelope.pos) return undefined
  const unsignedStart = envelope.pos
  envelope.pos += unsignedLength
  if (!envelope.expect(Uint8Array.of(0x58, 64)) || envelope.pos + 64 !== bytes.length) return undefined
  const signature = bytes.subarray(envelope.pos, envelope.pos + 64)

  const c = new Cursor(bytes, unsignedStart, unsignedStart + unsignedLength)
  if (!c.expect(Uint8Array.of(0xa8)) || !c.expect(KEYS.type)) return undefined
  let type: string | undefined
  for (const [name, encoded] of TYPES) {
    if (c.expect(encoded)) {
      type = name
      break
    }
  }
  if (type === undefined || !c.expect(KEYS.payload)) return undefined
  const payloadStart = c.pos
  if (!c.skipItem()) return undefined
  let payload: unknown
  try {
    payload = decodeCanonical(bytes.subarray(payloadStart, c.pos), { maxBytes, maxDepth: PAYLOAD_MAX_DEPTH })
  } catch {
    return undefined
  }
  if (!c.expect(KEYS.publicKey)) return undefined
  const publicKey = c.bytes32()
  if (publicKey === undefined || !c.expect(KEYS.timestamp)) return undefined
  const timestamp = c.head(0)
  if (timestamp < 0 || !c.expect(KEYS.previousHash)) return undefined
  const previousHash = c.bytes32()
  if (previousHash === undefined || !c.expect(KEYS.linkPublicKey)) return undefined
  const linkPublicKey = c.bytes32()
  if (linkPublicKey === undefined || !c.expect(KEYS.sequenceNumber)) return undefined
  const sequenceNumber = c.head(0)
  if (sequenceNumber < 0 || !c.expect(KEYS.linkSequenceNumber)) return undefined
  const linkSequenceNumber = c.head(0)
  if (linkSequenceNumber < 0 || c.pos !== c.end) return undefined
  return {
    wire: bytes,
    unsignedBytes: bytes.subarray(unsignedStart, unsignedStart + unsignedLength),
    fields: { type, payload, publicKey, timestamp, previousHash, linkPublicKey, sequenceNumber, linkSequenceNumber, signature },
  }
}
