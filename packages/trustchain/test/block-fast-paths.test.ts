/**
 * The fast paths of block encoding and decoding against the generic strict ones: the wire reader's payload values
 * (floats included, exhaustively for half precision), the block writer against the canonical encoder, the memo a
 * block carries, and that the usual blocks really take the fast paths.
 */
import { type CborValue, type Crypto, encodeCanonical, equalBytes } from '@constellation/crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  createCheckpoint,
  createProposal,
  createVoid,
  decodeBlock,
  EMPTY_CHAIN_HEAD,
  encodeBlock,
  encodeUnsigned,
  type HalfBlock,
  signBlock,
  signRefusal,
  TrustChainError,
  TrustChainErrorCode,
  transferPayload,
  withValue,
} from '../src/index.js'
import { allocateBytes, copyBytes } from '../src/block/byte-slab.js'
import { readWireBlock } from '../src/block/wire-reader.js'
import { keyPairOf, propertyOptions, strictlyDecoded as strict, TestChain, testCrypto } from './helpers.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

const proposalWith = (payload: CborValue): HalfBlock =>
  createProposal(
    { crypto, keyPair: keyPairOf(crypto, 1) },
    { ...EMPTY_CHAIN_HEAD, sequenceNumber: 4 },
    {
      counterparty: keyPairOf(crypto, 2).publicKey,
      payload,
      timestamp: 1_700_000_000_000,
    },
  )

/** A block's wire bytes with the payload's encoding replaced by `payload` (same length as the placeholder's). */
const templates = new Map<string, { wire: Uint8Array; at: number; length: number }>()
function withRawPayload(placeholder: CborValue, payload: Uint8Array): Uint8Array {
  const name = JSON.stringify(placeholder)
  let template = templates.get(name)
  if (template === undefined) {
    const wire = encodeBlock(proposalWith(placeholder))
    const old = encodeCanonical(placeholder)
    let at = 0
    while (!equalBytes(wire.subarray(at, at + old.length), old)) at++
    template = { wire, at, length: old.length }
    templates.set(name, template)
  }
  expect(template.length).toBe(payload.length)
  const wire = Uint8Array.from(template.wire)
  wire.set(payload, template.at)
  return wire
}

describe('the wire reader on floats', () => {
  it('every half-precision pattern: read exactly when and as the strict decoder reads it, normal non-integers always', () => {
    let read = 0
    for (let bits = 0; bits < 0x10000; bits++) {
      const bytes = withRawPayload(0.5, Uint8Array.of(0xf9, bits >> 8, bits & 0xff))
      const fast = readWireBlock(bytes, 16_384)
      const reference = strict(bytes)
      const exponent = (bits >> 10) & 0x1f
      if (fast !== undefined) {
        read++
        expect(reference?.fields.payload).toBe(fast.fields.payload)
      }
      if (exponent !== 0 && exponent !== 0x1f && reference !== undefined) expect(fast).toBeDefined()
    }
    // 2 x 30 x 1024 normal halves, less the integers among them
    expect(read).toBeGreaterThan(45_000)
  })

  it('singles and doubles: read exactly when and as the strict decoder reads them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (bits, double) => {
        const body = new Uint8Array(double ? 9 : 5)
        const view = new DataView(body.buffer)
        body[0] = double ? 0xfb : 0xfa
        if (double) view.setFloat64(1, new DataView(Uint32Array.of(bits, bits ^ 0x5a5a5a5a).buffer).getFloat64(0))
        else view.setUint32(1, bits)
        const bytes = withRawPayload(double ? 1.1 : Math.fround(0.1), body)
        const fast = readWireBlock(bytes, 16_384)
        if (fast !== undefined) expect(strict(bytes)?.fields.payload).toBe(fast.fields.payload)
      }),
      propertyOptions(5000),
    )
    // The floats encoders write take the fast path.
    for (const value of [1.5, -0.1, 1e300, 2 ** 60, 3.4028234663852886e38, 1.401298464324817e-45]) {
      const fast = readWireBlock(encodeBlock(proposalWith({ kind: 'note', value: [value] })), 16_384)
      expect(fast?.fields.payload).toEqual({ kind: 'note', value: [value] })
    }
  })
})

const payloads: fc.Arbitrary<CborValue> = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt({ min: -(1n << 64n), max: (1n << 64n) - 1n }),
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 3 }), tie('value'), { maxKeys: 3 }),
  ),
})).value

describe('the block writer', () => {
  it('writes exactly the canonical encoding of the unsigned part, for any payload', () => {
    fc.assert(
      fc.property(payloads, fc.nat(), (payload, timestamp) => {
        const block = proposalWith(payload)
        const { signature: _signature, ...unsigned } = { ...block, timestamp }
        const fresh = { ...unsigned } // a plain object: encoded afresh, not taken from a memo
        expect(equalBytes(encodeUnsigned(fresh), encodeCanonical(fresh))).toBe(true)
        expect(equalBytes(encodeBlock(block), encodeCanonical([encodeUnsigned(block), block.signature]))).toBe(true)
      }),
      propertyOptions(800),
    )
  })

  it('refuses what has no encoding as before: bad fields with INVALID_INPUT, unencodable payloads with BLOCK_TOO_LARGE', () => {
    const block = proposalWith({ kind: 'note' })
    const { signature: _signature, ...unsigned } = block
    const codeOf = (value: unknown) => {
      try {
        encodeUnsigned(value as never)
        return undefined
      } catch (error) {
        return error instanceof TrustChainError ? error.code : 'untyped'
      }
    }
    expect(codeOf({ ...unsigned, sequenceNumber: 0 })).toBe(TrustChainErrorCode.INVALID_INPUT)
    expect(codeOf({ ...unsigned, payload: { x: undefined } })).toBe(TrustChainErrorCode.INVALID_INPUT)
    expect(codeOf({ ...unsigned, payload: new Date(0) })).toBe(TrustChainErrorCode.INVALID_INPUT)
    const nested = (levels: number): CborValue => {
      let value: CborValue = 1
      for (let i = 0; i < levels; i++) value = [value]
      return value
    }
    // The generic encoder's limit of 64 levels, counted from the block map: a payload may nest 63.
    expect(codeOf({ ...unsigned, payload: nested(63) })).toBeUndefined()
    expect(equalBytes(encodeUnsigned({ ...unsigned, payload: nested(63) }), encodeCanonical({ ...unsigned, payload: nested(63) }))).toBe(true)
    expect(codeOf({ ...unsigned, payload: nested(64) })).toBe(TrustChainErrorCode.BLOCK_TOO_LARGE)
  })
})

describe('blocks and their memo', () => {
  it('the usual blocks take the fast reader, and decode to what was built', () => {
    const alice = new TestChain(crypto, keyPairOf(crypto, 1))
    const bob = new TestChain(crypto, keyPairOf(crypto, 2))
    alice.genesis(1_000)
    bob.genesis(0)
    const { proposal } = alice.pay(bob, 10)
    const referenced = alice.append(
      createProposal(alice.author, alice.head, {
        counterparty: bob.publicKey,
        payload: transferPayload(alice.head, 5, new Uint8Array(16).fill(7)),
        timestamp: 3_000,
      }),
    )
    const paid = alice.append(
      createProposal(alice.author, alice.head, {
        counterparty: bob.publicKey,
        payload: withValue(alice.head, { kind: 'call', method: 'ping', args: [1, 'x', null, true] }, 3),
        timestamp: 3_001,
      }),
    )
    const voided = alice.append(createVoid(alice.author, alice.head, referenced, { refusal: signRefusal(crypto, bob.keyPair, referenced), timestamp: 3_002 }))
    const checkpoint = alice.append(createCheckpoint(alice.author, alice.head, { consensusResultHash: new Uint8Array(32).fill(3), round: 9, timestamp: 3_003 }))
    for (const block of [...alice.blocks, ...bob.blocks, proposal, paid, voided, checkpoint]) {
      const wire = encodeBlock(block)
      expect(readWireBlock(wire, 16_384)).toBeDefined()
      const decoded = decodeBlock(crypto, wire)
      expect(decoded).toEqual(block)
      expect(equalBytes(blockHash(crypto, decoded), blockHash(crypto, block))).toBe(true)
    }
  })

  it('a block shows exactly its nine fields; a copy of it is encoded afresh, never with the original memo', () => {
    const block = decodeBlock(crypto, encodeBlock(proposalWith({ kind: 'note', text: 'a' })))
    expect(Object.isFrozen(block)).toBe(true)
    expect(Object.keys(block).sort()).toEqual(
      ['linkPublicKey', 'linkSequenceNumber', 'payload', 'previousHash', 'publicKey', 'sequenceNumber', 'signature', 'timestamp', 'type'].sort(),
    )
    expect(JSON.parse(JSON.stringify({ ...block, publicKey: 0, linkPublicKey: 0, previousHash: 0, signature: 0 }))).toEqual({
      publicKey: 0,
      sequenceNumber: 5,
      linkPublicKey: 0,
      linkSequenceNumber: 0,
      previousHash: 0,
      timestamp: 1_700_000_000_000,
      type: 'tx',
      payload: { kind: 'note', text: 'a' },
      signature: 0,
    })
    const copy: HalfBlock = { ...block, timestamp: block.timestamp + 1 }
    expect(equalBytes(blockHash(crypto, copy), blockHash(crypto, block))).toBe(false)
    expect(decodeBlock(crypto, encodeBlock(copy)).timestamp).toBe(block.timestamp + 1)
    // Built through a prototype: still not the original's memo.
    const derived = Object.create(block, { timestamp: { value: 5, enumerable: true } }) as HalfBlock
    expect(equalBytes(encodeUnsigned(derived), encodeUnsigned(block))).toBe(false)
    // Signing a decoded block's fields again gives the same bytes.
    expect(equalBytes(encodeBlock(signBlock(crypto, keyPairOf(crypto, 1), block)), encodeBlock(block))).toBe(true)
  })

  it('decoded blocks of one chain share their key array; the wire form is a private copy', () => {
    const alice = new TestChain(crypto, keyPairOf(crypto, 1))
    alice.genesis(100)
    alice.pay(new TestChain(crypto, keyPairOf(crypto, 2)), 1)
    const input = Uint8Array.from(encodeBlock(alice.blocks[1]!))
    const [a, b] = [decodeBlock(crypto, encodeBlock(alice.blocks[0]!)), decodeBlock(crypto, input)]
    expect(a.publicKey).toBe(b.publicKey)
    expect(equalBytes(a.publicKey, alice.publicKey)).toBe(true)
    const before = Uint8Array.from(encodeBlock(b))
    input.fill(0)
    expect(equalBytes(encodeBlock(b), before)).toBe(true)
    expect(b.sequenceNumber).toBe(2)
  })

  it('slab arrays are private: no two overlap, and a copy does not follow its source', () => {
    const arrays = Array.from({ length: 200 }, (_, i) => allocateBytes(1 + (i % 300)))
    arrays.forEach((array, i) => array.fill(i & 0xff))
    arrays.forEach((array, i) => expect(array.every((byte) => byte === (i & 0xff))).toBe(true))
    const source = Uint8Array.of(1, 2, 3)
    const copy = copyBytes(source)
    source[0] = 9
    expect([...copy]).toEqual([1, 2, 3])
    expect(allocateBytes(5_000).byteOffset).toBe(0)
  })
})
