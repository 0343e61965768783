import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareBytes, concatBytes, CryptoErrorCode, equalBytes, fromBase58, fromBase64Url, fromHex, toBase58, toBase64Url, toHex } from '../src/index.js'
import { propertyOptions } from './helpers.js'

const text = (s: string) => new TextEncoder().encode(s)

describe('hex', () => {
  it('round-trips any bytes and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const hex = toHex(bytes)
        expect(hex).toBe(Buffer.from(bytes).toString('hex'))
        expect(fromHex(hex)).toEqual(bytes)
        expect(fromHex(hex.toUpperCase())).toEqual(bytes)
      }),
      propertyOptions(200),
    )
  })

  it('rejects odd lengths, bad characters and wrong sizes', () => {
    expect(() => fromHex('abc')).toThrow(expect.objectContaining({ code: CryptoErrorCode.INVALID_INPUT }))
    expect(() => fromHex('zz')).toThrow(/non-hex/)
    expect(() => fromHex('0x00')).toThrow(/non-hex/)
    expect(() => fromHex('00', 2)).toThrow(/2 bytes/)
    expect(() => fromHex(12 as never)).toThrow(/must be a string/)
  })
})

describe('base64url', () => {
  it('round-trips and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const encoded = toBase64Url(bytes)
        expect(encoded).toBe(Buffer.from(bytes).toString('base64url'))
        expect(fromBase64Url(encoded)).toEqual(bytes)
      }),
      propertyOptions(200),
    )
  })

  it('rejects padding, other alphabets, impossible lengths and non-zero trailing bits', () => {
    expect(() => fromBase64Url('AA==')).toThrow(/invalid character/)
    expect(() => fromBase64Url('a+b/')).toThrow(/invalid character/)
    expect(() => fromBase64Url('AAAAA')).toThrow(/impossible length/)
    expect(() => fromBase64Url('AB')).toThrow(/trailing bits/) // 'AA' is the only spelling of [0]
    expect(fromBase64Url('AA')).toEqual(new Uint8Array([0]))
  })
})

describe('base58btc', () => {
  it('matches known values', () => {
    expect(toBase58(text('Hello World!'))).toBe('2NEpo7TZRRrLZSi2U')
    expect(toBase58(new Uint8Array([0, 0, 1]))).toBe('112')
    expect(toBase58(new Uint8Array())).toBe('')
    expect(fromBase58('2NEpo7TZRRrLZSi2U')).toEqual(text('Hello World!'))
  })

  it('round-trips, keeping leading zero bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(fromBase58(toBase58(bytes))).toEqual(bytes)
      }),
      propertyOptions(200),
    )
  })

  it('rejects characters outside the alphabet', () => {
    expect(() => fromBase58('0OIl')).toThrow(expect.objectContaining({ code: CryptoErrorCode.INVALID_INPUT }))
  })
})

describe('byte helpers', () => {
  it('compare, concatenate and test equality', () => {
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true)
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false)
    expect(equalBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false)
    expect(compareBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBeLessThan(0)
    expect(compareBytes(new Uint8Array([2]), new Uint8Array([1, 9]))).toBeGreaterThan(0)
    expect(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBeLessThan(0)
    expect(concatBytes(new Uint8Array([1]), new Uint8Array(), new Uint8Array([2, 3]))).toEqual(new Uint8Array([1, 2, 3]))
  })
})
