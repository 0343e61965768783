import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type CborValue, CryptoError, CryptoErrorCode, decodeCanonical, encodeCanonical, toHex } from '../src/index.js'
import { hexBytes, propertyOptions } from './helpers.js'

function errorCode(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    if (error instanceof CryptoError) return error.code
    throw error
  }
  return undefined
}

/** Values in their normal form: integers beyond the safe range as bigint, everything else plain. */
const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.oneof(fc.bigInt(2n ** 53n, 2n ** 64n - 1n), fc.bigInt(-(2n ** 64n), -(2n ** 53n) - 1n)),
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).value

describe('canonical CBOR', () => {
  it('encodes RFC 8949 Appendix A examples in their deterministic form', () => {
    const cases: [CborValue, string][] = [
      [0, '00'],
      [23, '17'],
      [24, '1818'],
      [100, '1864'],
      [1000, '1903e8'],
      [1000000, '1a000f4240'],
      [1000000000000, '1b000000e8d4a51000'],
      [18446744073709551615n, '1bffffffffffffffff'],
      [-18446744073709551616n, '3bffffffffffffffff'],
      [-1, '20'],
      [-1000, '3903e7'],
      [1.5, 'f93e00'],
      [100000.0, '1a000186a0'],
      [3.4028234663852886e38, 'fa7f7fffff'],
      [1.0e300, 'fb7e37e43c8800759c'],
      [-4.1, 'fbc010666666666666'],
      [false, 'f4'],
      [true, 'f5'],
      [null, 'f6'],
      [hexBytes('01020304'), '4401020304'],
      ['IETF', '6449455446'],
      ['\u00fc', '62c3bc'],
      [[1, [2, 3], [4, 5]], '8301820203820405'],
      [{ a: 1, b: [2, 3] }, 'a26161016162820203'],
      // Deterministic key order is by encoded bytes: shorter keys first.
      [{ bb: 1, a: 2, c: 3 }, 'a3616102616303626262' + '01'],
    ]
    for (const [value, hex] of cases) {
      expect(toHex(encodeCanonical(value)), JSON.stringify(String(value))).toBe(hex)
      expect(decodeCanonical(hexBytes(hex))).toEqual(value)
    }
  })

  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        expect(decodeCanonical(encodeCanonical(value))).toEqual(value)
      }),
      propertyOptions(500),
    )
  })

  it('encode(decode(b)) = b for every canonical b, and anything else is refused with a typed error', () => {
    fc.assert(
      fc.property(cborValue, fc.nat(), fc.integer({ min: 0, max: 255 }), (value, at, byte) => {
        const canonical = encodeCanonical(value)
        expect(encodeCanonical(decodeCanonical(canonical))).toEqual(canonical)
        // A one-byte mutation either still decodes to a value whose encoding is exactly the mutated input,
        // or is rejected with a CryptoError — never accepted in a second spelling.
        const mutated = Uint8Array.from(canonical)
        mutated[at % mutated.length] = byte
        let decoded: CborValue
        try {
          decoded = decodeCanonical(mutated)
        } catch (error) {
          expect(error).toBeInstanceOf(CryptoError)
          return
        }
        expect(encodeCanonical(decoded)).toEqual(mutated)
      }),
      propertyOptions(1000),
    )
  })

  it('random bytes are either canonical or refused with a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          expect(encodeCanonical(decodeCanonical(bytes))).toEqual(bytes)
        } catch (error) {
          expect(error).toBeInstanceOf(CryptoError)
        }
      }),
      propertyOptions(2000),
    )
  })

  it('refuses non-canonical spellings of valid values', () => {
    const nonCanonical = [
      '1817', // 23 in two bytes
      '190018', // 24 in three bytes
      '5f4101ff', // indefinite-length byte string
      '9f01ff', // indefinite-length array
      'a2616201616101', // keys out of order
      'fa3fc00000', // 1.5 as float32 (float16 suffices)
      'fb3ff8000000000000', // 1.5 as float64
      'f93c00', // 1.0 as a float (integers encode as integers)
      '62c328', // invalid UTF-8
    ]
    for (const hex of nonCanonical) {
      expect(
        errorCode(() => decodeCanonical(hexBytes(hex))),
        hex,
      ).toBe(CryptoErrorCode.ENCODING_NON_CANONICAL)
    }
  })

  it('refuses malformed input, tags, undefined, non-finite floats and duplicate keys', () => {
    const malformed = [
      '', // nothing
      '18', // truncated argument
      '62c3', // string runs past the end
      '8301', // array missing items
      'c11a514b67b0', // tag 1 (epoch date)
      'f7', // undefined
      'f0', // unassigned simple value
      'f818', // one-byte simple value
      '1c', // reserved additional information
      'a2616101616102', // duplicate key "a"
      'f97c00', // Infinity
      'f97e00', // NaN
    ]
    for (const hex of malformed) {
      expect(
        errorCode(() => decodeCanonical(hexBytes(hex))),
        hex,
      ).toBe(CryptoErrorCode.ENCODING_MALFORMED)
    }
  })

  it('refuses trailing bytes', () => {
    expect(errorCode(() => decodeCanonical(hexBytes('0000')))).toBe(CryptoErrorCode.ENCODING_TRAILING_BYTES)
  })

  it('bounds size and depth on both sides, without overflowing the stack', () => {
    const deep = new Uint8Array((1 << 20) + 1).fill(0x81)
    deep[deep.length - 1] = 0xf6
    expect(errorCode(() => decodeCanonical(deep, { maxBytes: 2 << 20 }))).toBe(CryptoErrorCode.ENCODING_TOO_DEEP)
    expect(errorCode(() => decodeCanonical(deep))).toBe(CryptoErrorCode.ENCODING_TOO_LARGE)
    expect(errorCode(() => decodeCanonical(hexBytes('818180'), { maxDepth: 2 }))).toBe(CryptoErrorCode.ENCODING_TOO_DEEP)
    expect(decodeCanonical(hexBytes('8180'), { maxDepth: 2 })).toEqual([[]])
    expect(errorCode(() => encodeCanonical([[[]]], { maxDepth: 2 }))).toBe(CryptoErrorCode.ENCODING_TOO_DEEP)
    expect(errorCode(() => encodeCanonical(new Uint8Array(100), { maxBytes: 50 }))).toBe(CryptoErrorCode.ENCODING_TOO_LARGE)
    // A huge announced length with little data behind it is truncation, not an allocation.
    expect(errorCode(() => decodeCanonical(hexBytes('9bffffffffffffffff')))).toBe(CryptoErrorCode.ENCODING_MALFORMED)
  })

  it('refuses to encode values outside the model', () => {
    const bad: unknown[] = [
      undefined,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2n ** 64n,
      -(2n ** 64n) - 1n,
      new Date(0),
      new Map(),
      { a: undefined },
      [() => 1],
      Symbol('s'),
    ]
    for (const value of bad) {
      expect(errorCode(() => encodeCanonical(value as CborValue))).toBe(CryptoErrorCode.ENCODING_UNSUPPORTED_VALUE)
    }
  })

  it('decodes a "__proto__" key as data without touching the prototype', () => {
    const bytes = encodeCanonical(JSON.parse('{"__proto__": {"polluted": true}}') as CborValue)
    const value = decodeCanonical(bytes) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(value)).toEqual(['__proto__'])
  })
})
