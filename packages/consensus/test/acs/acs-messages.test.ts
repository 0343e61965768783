import { encodeCanonical, decodeCanonical } from '@constellation/crypto'
import fc from 'fast-check'
import { isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type AcsMessage, AcsMessageCodec, acsMessageFromCbor, acsMessageToCbor, isAcsMessage } from '../../src/acs.js'

const instance = fc.integer({ min: 0, max: 4095 })
const round = fc.integer({ min: 0, max: 1 << 20 })
const digest = fc.uint8Array({ minLength: 1, maxLength: 64 })
const value = fc.uint8Array({ maxLength: 300 })
const acsMessage: fc.Arbitrary<AcsMessage> = fc.oneof(
  fc.record({ kind: fc.constant('init' as const), instance, value }),
  fc.record({ kind: fc.constant('value' as const), instance, value }),
  fc.record({ kind: fc.constant('echo' as const), instance, digest }),
  fc.record({ kind: fc.constant('ready' as const), instance, digest }),
  fc.record({ kind: fc.constant('value-request' as const), instance }),
  fc.record({ kind: fc.constant('bval' as const), instance, round, value: fc.boolean() }),
  fc.record({ kind: fc.constant('aux' as const), instance, round, value: fc.boolean() }),
  fc.record({ kind: fc.constant('term' as const), instance, round, value: fc.boolean() }),
  fc.record({ kind: fc.constant('conf' as const), instance, round, values: fc.constantFrom(1 as const, 2 as const, 3 as const) }),
)

describe('ACS message codec', () => {
  it('round-trips every message through canonical CBOR', () => {
    fc.assert(
      fc.property(acsMessage, (message) => {
        expect(isAcsMessage(message)).toBe(true)
        const bytes = encodeCanonical([acsMessageToCbor(message), acsMessageToCbor(message)])
        const frame = decodeCanonical(bytes) as unknown[]
        expect(acsMessageFromCbor(frame[0])).toEqual(message)
        const decoded = AcsMessageCodec.decode(AcsMessageCodec.encode(message))
        expect(isRight(decoded) && decoded.right).toEqual(message)
      }),
    )
  })

  it('never throws on random bytes or random values, and accepts only well-formed messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let value: unknown
        try {
          value = decodeCanonical(bytes)
        } catch {
          return
        }
        const message = acsMessageFromCbor(value)
        if (message !== undefined) expect(isAcsMessage(message)).toBe(true)
      }),
    )
    fc.assert(
      fc.property(fc.anything(), (anything) => {
        const message = acsMessageFromCbor(anything)
        if (message !== undefined) expect(isAcsMessage(message)).toBe(true)
        expect(typeof isAcsMessage(anything)).toBe('boolean')
      }),
    )
  })

  it('is strict about arity, ranges and sizes', () => {
    expect(acsMessageFromCbor([0, 1, new Uint8Array(5)], 4)).toBeUndefined()
    expect(acsMessageFromCbor([0, 1, new Uint8Array(4)], 4)).toEqual({ kind: 'init', instance: 1, value: new Uint8Array(4) })
    expect(acsMessageFromCbor([5, 1, 0, 1, 9])).toBeUndefined()
    expect(acsMessageFromCbor([5, 1, 0, 2])).toBeUndefined()
    expect(acsMessageFromCbor([7, 1, 0, 0])).toBeUndefined()
    expect(acsMessageFromCbor([1, 1, new Uint8Array(65)])).toBeUndefined()
    expect(acsMessageFromCbor([9, 1])).toBeUndefined()
    expect(acsMessageFromCbor([3, 4096])).toBeUndefined()
    expect(isAcsMessage({ kind: 'bval', instance: 0, round: 0, value: true, extra: 1 })).toBe(false)
  })
})
