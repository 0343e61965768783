import { encodeCanonical } from '@constellation/crypto'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { isTrustChainError, TrustChainErrorCode } from '../src/index.js'
import { BlocksMessageCodec, decodeMessage, encodeMessage, RequestCodec, resolveRange, ResponseCodec } from '../src/wire.js'
import { propertyOptions } from './helpers.js'

it('round-trips every message shape', () => {
  const publicKey = new Uint8Array(32).fill(3)
  const requests = [
    { type: 'proposal' as const, block: new Uint8Array([1, 2, 3]) },
    { type: 'crawl' as const, publicKey, from: -5, to: -1 },
  ]
  for (const request of requests) expect(decodeMessage(RequestCodec, encodeMessage(RequestCodec, request))).toEqual(request)
  const responses = [
    { type: 'agreement' as const, proposal: new Uint8Array([1]), agreement: new Uint8Array([2]) },
    { type: 'rejected' as const, code: 'X', reasons: ['a', 'b'] },
    { type: 'blocks' as const, blocks: [new Uint8Array([9])] },
  ]
  for (const response of responses) expect(decodeMessage(ResponseCodec, encodeMessage(ResponseCodec, response))).toEqual(response)
})

it('fuzz: arbitrary bytes and wrong shapes fail only with MALFORMED_MESSAGE', () => {
  const shapes = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc
      .record(
        {
          type: fc.constantFrom('proposal', 'crawl', 'agreement', 'rejected', 'blocks', 'other'),
          block: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.integer()),
          publicKey: fc.uint8Array({ minLength: 31, maxLength: 33 }),
          from: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
          blocks: fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: 300 }),
        },
        { requiredKeys: ['type'] },
      )
      .map((value) => encodeCanonical(value)),
  )
  fc.assert(
    fc.property(shapes, (bytes) => {
      const attempts: (() => unknown)[] = [
        () => decodeMessage(RequestCodec, bytes),
        () => decodeMessage(ResponseCodec, bytes),
        () => decodeMessage(BlocksMessageCodec, bytes),
      ]
      for (const attempt of attempts) {
        try {
          attempt()
        } catch (error) {
          expect(isTrustChainError(error, TrustChainErrorCode.MALFORMED_MESSAGE)).toBe(true)
        }
      }
    }),
    propertyOptions(1500),
  )
})

it('crawl ranges: negative bounds count from the end, results stay inside the chain and under the cap', () => {
  expect(resolveRange(-1, -1, 10, 100)).toEqual({ from: 10, to: 10 })
  expect(resolveRange(-3, -1, 10, 100)).toEqual({ from: 8, to: 10 })
  expect(resolveRange(1, 1_000, 10, 4)).toEqual({ from: 1, to: 4 })
  expect(resolveRange(5, 2, 10, 100)).toBeUndefined()
  expect(resolveRange(1, 5, 0, 100)).toBeUndefined()
  fc.assert(
    fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), fc.nat(40), fc.integer({ min: 1, max: 20 }), (from, to, latest, max) => {
      const range = resolveRange(from, to, latest, max)
      if (range === undefined) return
      expect(range.from).toBeGreaterThanOrEqual(1)
      expect(range.to).toBeLessThanOrEqual(latest)
      expect(range.from).toBeLessThanOrEqual(range.to)
      expect(range.to - range.from + 1).toBeLessThanOrEqual(max)
    }),
    propertyOptions(1000),
  )
})
