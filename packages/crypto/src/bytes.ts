/**
 * Byte helpers and the text encodings used for identities and hashes (hex, base64url, base58btc).
 *
 * Decoders are strict: they reject anything that would not round-trip, so one id has exactly one spelling.
 */
import { CryptoError, CryptoErrorCode } from './errors.js'

export function assertBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `${name} must be a Uint8Array, got ${describe(value)}`, {
      name,
    })
  }
  if (length !== undefined && value.length !== length) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `${name} must be ${length} bytes, got ${value.length}`, {
      name,
      expected: length,
      actual: value.length,
    })
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** Lexicographic byte order: negative, zero or positive like `Array.prototype.sort` expects. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) {
    assertBytes(part, 'part')
    length += part.length
  }
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes')
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i] as number]
  return out
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48 // 0-9
  if (code >= 97 && code <= 102) return code - 87 // a-f
  if (code >= 65 && code <= 70) return code - 55 // A-F
  return -1
}

/** Decodes hex (either case, no prefix). `length`, when given, is the expected number of bytes. */
export function fromHex(hex: string, length?: number): Uint8Array {
  if (typeof hex !== 'string') {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `hex must be a string, got ${describe(hex)}`)
  }
  if (hex.length % 2 !== 0) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `hex must have an even number of digits, got ${hex.length}`)
  }
  if (length !== undefined && hex.length !== length * 2) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `hex must encode ${length} bytes, got ${hex.length / 2}`, {
      expected: length,
      actual: hex.length / 2,
    })
  }
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i))
    const lo = hexNibble(hex.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) {
      throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `hex has a non-hex character near position ${2 * i}`)
    }
    out[i] = (hi << 4) | lo
  }
  return out
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const B64URL_INDEX = indexOf(B64URL)

function indexOf(alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i
  return table
}

/** base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes')
  let out = ''
  let i = 0
  // The loop condition and `rest` keep every byte index in bounds. `n` holds at most 24 bits, so `n >>> 18` and
  // every `& 63` is 0..63: each alphabet lookup is in range and yields a string, hence the casts.
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out += (B64URL[n >>> 18] as string) + (B64URL[(n >>> 12) & 63] as string) + (B64URL[(n >>> 6) & 63] as string) + (B64URL[n & 63] as string)
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = (bytes[i] as number) << 16
    out += (B64URL[n >>> 18] as string) + (B64URL[(n >>> 12) & 63] as string)
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8)
    out += (B64URL[n >>> 18] as string) + (B64URL[(n >>> 12) & 63] as string) + (B64URL[(n >>> 6) & 63] as string)
  }
  return out
}

/** Decodes unpadded base64url; rejects padding, other alphabets and non-zero trailing bits. */
export function fromBase64Url(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `base64url must be a string, got ${describe(text)}`)
  }
  if (text.length % 4 === 1) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'base64url has an impossible length')
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const v = code < 128 ? (B64URL_INDEX[code] as number) : -1
    if (v < 0) throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `base64url has an invalid character at ${i}`)
    acc = (acc << 6) | v
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >>> bits) & 0xff
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'base64url has non-zero trailing bits')
  }
  return out
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const B58_INDEX = indexOf(B58)

/** base58btc (the Bitcoin alphabet), as used for libp2p peer ids. Quadratic: meant for ids, not bulk data. */
export function toBase58(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes')
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  const digits: number[] = []
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i] as number
    for (let j = 0; j < digits.length; j++) {
      carry += (digits[j] as number) << 8
      digits[j] = carry % 58
      carry = Math.floor(carry / 58)
    }
    while (carry > 0) {
      digits.push(carry % 58)
      carry = Math.floor(carry / 58)
    }
  }
  let out = '1'.repeat(zeros)
  for (let i = digits.length - 1; i >= 0; i--) out += B58[digits[i] as number]
  return out
}

export function fromBase58(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `base58 must be a string, got ${describe(text)}`)
  }
  let zeros = 0
  while (zeros < text.length && text[zeros] === '1') zeros++
  const bytes: number[] = []
  for (let i = zeros; i < text.length; i++) {
    const code = text.charCodeAt(i)
    let carry = code < 128 ? (B58_INDEX[code] as number) : -1
    if (carry < 0) throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `base58 has an invalid character at ${i}`)
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] as number) * 58
      bytes[j] = carry & 0xff
      carry >>= 8
    }
    while (carry > 0) {
      bytes.push(carry & 0xff)
      carry >>= 8
    }
  }
  const out = new Uint8Array(zeros + bytes.length)
  for (let i = 0; i < bytes.length; i++) out[out.length - 1 - i] = bytes[i] as number
  return out
}
