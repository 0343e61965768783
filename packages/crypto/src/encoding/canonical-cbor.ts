/**
 * Canonical encoding for everything that is hashed or signed: deterministic CBOR (RFC 8949 §4.2).
 *
 * One value has exactly one encoding, so a hash or signature over it is well defined. The decoder is strict in
 * the other direction too: it accepts only bytes that this encoder would have produced (shortest integer and
 * float forms, definite lengths, map keys in bytewise order, no duplicates, no tags, no undefined, no trailing
 * bytes) within size and nesting limits, so an attacker cannot make two byte strings that decode to one value.
 *
 * The value model is JSON-like plus bytes and bigints: null, booleans, finite numbers, integers in
 * [-2^64, 2^64 - 1] (safe integers decode as `number`, the rest as `bigint`), strings, `Uint8Array`s, arrays and
 * plain objects with string keys.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { equalBytes } from '../bytes.js'
import { CryptoError, CryptoErrorCode } from '../errors.js'

export type CborValue = null | boolean | number | bigint | string | Uint8Array | readonly CborValue[] | { readonly [key: string]: CborValue }

export interface CborLimits {
  /** Largest encoding accepted or produced, in bytes (default 1 MiB). */
  readonly maxBytes?: number
  /** Deepest nesting of arrays and maps (default 64). */
  readonly maxDepth?: number
}

export const DEFAULT_MAX_BYTES = 1 << 20
export const DEFAULT_MAX_DEPTH = 64

const MAX_UINT64 = (1n << 64n) - 1n
const MIN_NEGINT64 = -(1n << 64n)

const DECODE_OPTIONS = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: true,
  rejectDuplicateMapKeys: true,
  useMaps: false,
} as const

function limitsOf(limits: CborLimits): { maxBytes: number; maxDepth: number } {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `maxBytes must be a positive integer, got ${maxBytes}`)
  }
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 0) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `maxDepth must be a non-negative integer, got ${maxDepth}`)
  }
  return { maxBytes, maxDepth }
}

function unsupported(path: string, why: string): CryptoError {
  return new CryptoError(CryptoErrorCode.ENCODING_UNSUPPORTED_VALUE, `cannot encode ${path}: ${why}`, { path })
}

/** Rejects anything outside the value model before cborg sees it (cborg would encode some of it differently). */
function assertEncodable(value: unknown, path: string, depth: number, maxDepth: number): void {
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return
    case 'number':
      if (!Number.isFinite(value)) throw unsupported(path, `${value} is not a finite number`)
      return
    case 'bigint':
      if (value > MAX_UINT64 || value < MIN_NEGINT64) throw unsupported(path, 'integer outside [-2^64, 2^64-1]')
      return
    case 'object': {
      if (value === null || value instanceof Uint8Array) return
      if (depth >= maxDepth) {
        throw new CryptoError(CryptoErrorCode.ENCODING_TOO_DEEP, `${path} nests deeper than ${maxDepth}`, { maxDepth })
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) assertEncodable(value[i], `${path}[${i}]`, depth + 1, maxDepth)
        return
      }
      const proto = Object.getPrototypeOf(value) as unknown
      if (proto !== Object.prototype && proto !== null) {
        throw unsupported(path, `${(value as object).constructor?.name ?? 'object'} is not a plain object`)
      }
      for (const key of Object.keys(value)) {
        assertEncodable((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, maxDepth)
      }
      return
    }
    default:
      throw unsupported(path, `${typeof value} values have no encoding`)
  }
}

/** Encodes a value in deterministic CBOR. */
export function encodeCanonical(value: CborValue, limits: CborLimits = {}): Uint8Array {
  const { maxBytes, maxDepth } = limitsOf(limits)
  assertEncodable(value, '$', 0, maxDepth)
  const bytes = encode(value, rfc8949EncodeOptions)
  if (bytes.length > maxBytes) {
    throw new CryptoError(CryptoErrorCode.ENCODING_TOO_LARGE, `encoding is ${bytes.length} bytes, over the limit of ${maxBytes}`, {
      size: bytes.length,
      maxBytes,
    })
  }
  return bytes
}

function malformed(message: string, offset: number): CryptoError {
  return new CryptoError(CryptoErrorCode.ENCODING_MALFORMED, `malformed CBOR at byte ${offset}: ${message}`, {
    offset,
  })
}

/**
 * Walks the item headers without building values, so nesting depth, truncation, indefinite lengths, tags and
 * trailing bytes are caught before the recursive decoder runs (a deep input would otherwise overflow its stack).
 */
function checkStructure(bytes: Uint8Array, maxDepth: number): void {
  const pending: number[] = [1] // items still to read at each open level
  let pos = 0
  while (pending.length > 0) {
    const top = pending.length - 1
    if (pending[top] === 0) {
      pending.pop()
      continue
    }
    pending[top] = (pending[top] as number) - 1
    const start = pos
    if (pos >= bytes.length) throw malformed('unexpected end of input', pos)
    const initial = bytes[pos++] as number
    const major = initial >> 5
    const info = initial & 31
    let argument: number
    if (info < 24) {
      argument = info
    } else if (info <= 27) {
      const width = 1 << (info - 24)
      if (pos + width > bytes.length) throw malformed('unexpected end of input', pos)
      argument = 0
      for (let i = 0; i < width; i++) argument = argument * 256 + (bytes[pos + i] as number)
      pos += width
    } else if (info === 31) {
      throw new CryptoError(CryptoErrorCode.ENCODING_NON_CANONICAL, `indefinite-length item at byte ${start} (deterministic CBOR uses definite lengths)`, {
        offset: start,
      })
    } else {
      throw malformed(`reserved additional information ${info}`, start)
    }
    switch (major) {
      case 0:
      case 1:
        break
      case 2:
      case 3:
        if (argument > bytes.length - pos) throw malformed('string runs past the end of input', start)
        pos += argument
        break
      case 4:
      case 5:
        {
          // Empty containers count too, so that encoder and decoder agree on what depth means.
          if (pending.length > maxDepth) {
            throw new CryptoError(CryptoErrorCode.ENCODING_TOO_DEEP, `input nests deeper than ${maxDepth}`, {
              maxDepth,
              offset: start,
            })
          }
          // Each item takes at least one byte: a count beyond the remaining input is truncated, not big.
          const items = major === 4 ? argument : argument * 2
          if (items > bytes.length - pos) throw malformed('more items announced than bytes remain', start)
          pending.push(items)
        }
        break
      case 6:
        throw malformed('tags are not part of this encoding', start)
      default: // major 7: false, true, null and floats only
        if (info < 24 && info !== 20 && info !== 21 && info !== 22) {
          throw malformed(`simple value ${info} is not allowed (only false, true, null)`, start)
        }
        if (info === 24) throw malformed('one-byte simple values are not allowed', start)
    }
  }
  if (pos !== bytes.length) {
    throw new CryptoError(CryptoErrorCode.ENCODING_TRAILING_BYTES, `${bytes.length - pos} bytes follow the encoded item`, {
      offset: pos,
      trailing: bytes.length - pos,
    })
  }
}

/** Decodes deterministic CBOR, rejecting every non-canonical, oversized, over-deep or malformed input. */
export function decodeCanonical(bytes: Uint8Array, limits: CborLimits = {}): CborValue {
  if (!(bytes instanceof Uint8Array)) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'bytes to decode must be a Uint8Array')
  }
  const { maxBytes, maxDepth } = limitsOf(limits)
  if (bytes.length > maxBytes) {
    throw new CryptoError(CryptoErrorCode.ENCODING_TOO_LARGE, `input is ${bytes.length} bytes, over the limit of ${maxBytes}`, { size: bytes.length, maxBytes })
  }
  checkStructure(bytes, maxDepth)
  let value: CborValue
  try {
    value = decode(bytes, DECODE_OPTIONS) as CborValue
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause)
    const code = message.includes('strict') ? CryptoErrorCode.ENCODING_NON_CANONICAL : CryptoErrorCode.ENCODING_MALFORMED
    throw new CryptoError(code, message.replace(/^CBOR decode error: /, 'invalid CBOR: '), {}, { cause })
  }
  // The shortest-form rules for floats, the map key order and valid UTF-8 are easiest to check exactly by
  // re-encoding: canonical input is precisely the input that comes back unchanged.
  const again = encode(value, rfc8949EncodeOptions)
  if (!equalBytes(again, bytes)) {
    throw new CryptoError(
      CryptoErrorCode.ENCODING_NON_CANONICAL,
      'input is valid CBOR but not in deterministic form (key order, float width or string encoding)',
    )
  }
  return value
}
