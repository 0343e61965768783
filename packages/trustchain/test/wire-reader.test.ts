import { type CborValue, type Crypto, encodeCanonical } from '@constellation/crypto'
import fc from 'fast-check'
import { beforeAll, expect, it } from 'vitest'
import { createProposal, EMPTY_CHAIN_HEAD, encodeBlock } from '../src/index.js'
import { readWireBlock } from '../src/block/wire-reader.js'
import { keyPairOf, propertyOptions, strictlyDecoded as strict, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const payloads: fc.Arbitrary<CborValue> = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt({ min: -(1n << 64n), max: (1n << 64n) - 1n }),
    fc.string(),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
  ),
})).value

it('reads exactly what the strict decoder reads, for random blocks', () => {
  const keyPair = keyPairOf(crypto, 1)
  fc.assert(
    fc.property(payloads, fc.nat(), fc.constantFrom<'tx' | 'genesis' | 'checkpoint'>('tx', 'genesis', 'checkpoint'), (payload, timestamp, type) => {
      const block = createProposal(
        { crypto, keyPair },
        { ...EMPTY_CHAIN_HEAD, sequenceNumber: timestamp % 1000 },
        {
          counterparty: keyPairOf(crypto, 2).publicKey,
          payload,
          timestamp,
        },
      )
      const bytes = encodeBlock({ ...block, type })
      const fast = readWireBlock(bytes, 16_384)
      const reference = strict(bytes)
      expect(reference).toBeDefined()
      // Deep payloads may fall back to the strict path; whatever the reader returns must match it.
      if (fast !== undefined) {
        expect(fast.fields).toEqual(reference!.fields)
        expect(fast.unsignedBytes).toEqual(reference!.unsignedBytes)
      }
    }),
    propertyOptions(800),
  )
})

it('accepts a mutated block only when the strict decoder accepts the same thing', () => {
  const keyPair = keyPairOf(crypto, 1)
  const block = createProposal({ crypto, keyPair }, EMPTY_CHAIN_HEAD, {
    counterparty: keyPairOf(crypto, 2).publicKey,
    payload: { kind: 'transfer', amount: 300, balance: 70_000, note: [1.5, 'x', null] },
    timestamp: 1_700_000_000_000,
  })
  const original = encodeBlock(block)
  let accepted = 0
  fc.assert(
    fc.property(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, flip, truncate) => {
      const bytes = truncate ? original.subarray(0, at) : Uint8Array.from(original)
      if (!truncate) bytes[at] = (bytes[at] as number) ^ flip
      const fast = readWireBlock(bytes, 16_384)
      if (fast === undefined) return
      accepted++
      const reference = strict(bytes)
      expect(reference).toBeDefined()
      expect(fast.fields).toEqual(reference!.fields)
    }),
    propertyOptions(3000),
  )
  // Flipped bits inside keys, hashes and signatures still read; the test must have compared some of them.
  expect(accepted).toBeGreaterThan(100)
})

it('falls back on the strict path for layouts it does not know', () => {
  expect(readWireBlock(encodeCanonical([encodeCanonical({ a: 1 }), new Uint8Array(64)]), 16_384)).toBeUndefined()
  expect(readWireBlock(new Uint8Array(0), 16_384)).toBeUndefined()
})
