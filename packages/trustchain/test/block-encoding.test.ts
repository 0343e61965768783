import { encodeCanonical, equalBytes } from '@constellation/crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockHash,
  createProposal,
  decodeBlock,
  DEFAULT_BLOCK_LIMITS,
  EMPTY_CHAIN_HEAD,
  encodeBlock,
  encodeUnsigned,
  type HalfBlock,
  isTrustChainError,
  signBlock,
  TrustChainError,
  TrustChainErrorCode,
} from '../src/index.js'
import { keyPairOf, propertyOptions, TestChain, testCrypto } from './helpers.js'

type Crypto = Awaited<ReturnType<typeof testCrypto>>
let crypto: Crypto
let chain: TestChain
let sample: HalfBlock

beforeAll(async () => {
  crypto = await testCrypto()
  chain = new TestChain(crypto, keyPairOf(crypto, 1))
  chain.genesis(1000)
  sample = chain.pay(new TestChain(crypto, keyPairOf(crypto, 2)), 7).proposal
})

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (error) {
    return error instanceof TrustChainError ? error.code : `untyped: ${String(error)}`
  }
}

describe('hash and signature', () => {
  it('the hash is SHA-256 of the canonical encoding without the signature, and the signature signs it', () => {
    const { signature: _signature, ...unsigned } = sample
    expect(equalBytes(encodeUnsigned(sample), encodeCanonical(unsigned))).toBe(true)
    expect(equalBytes(blockHash(crypto, sample), crypto.sha256(encodeCanonical(unsigned)))).toBe(true)
    expect(crypto.verify(sample.signature, blockHash(crypto, sample), sample.publicKey)).toBe(true)
  })

  it('round-trips through the wire form with the same hash', () => {
    const decoded = decodeBlock(crypto, encodeBlock(sample))
    expect(decoded).toEqual(sample)
    expect(equalBytes(blockHash(crypto, decoded), blockHash(crypto, sample))).toBe(true)
  })

  it('refuses to sign a block that is not a half-block', () => {
    const bad = { ...sample, sequenceNumber: 0 }
    expect(codeOf(() => signBlock(crypto, chain.keyPair, bad))).toBe(TrustChainErrorCode.INVALID_INPUT)
    const huge = { ...sample, payload: { kind: 'blob', data: new Uint8Array(DEFAULT_BLOCK_LIMITS.maxPayloadBytes + 1) } }
    expect(codeOf(() => signBlock(crypto, chain.keyPair, huge))).toBe(TrustChainErrorCode.PAYLOAD_TOO_LARGE)
  })
})

describe('decoding bad input', () => {
  const wire = () => encodeBlock(sample)
  const envelope = (unsigned: unknown, signature: unknown = sample.signature) => encodeCanonical([encodeCanonical(unsigned as never), signature as never])

  it('checks the block size before anything else', () => {
    const limits = { maxBlockBytes: 100, maxPayloadBytes: 50 }
    expect(codeOf(() => decodeBlock(crypto, new Uint8Array(101).fill(0xff), limits))).toBe(TrustChainErrorCode.BLOCK_TOO_LARGE)
    expect(codeOf(() => decodeBlock(crypto, wire(), limits))).toBe(TrustChainErrorCode.BLOCK_TOO_LARGE)
  })

  it('a block whose wire form exceeds the limit is refused with BLOCK_TOO_LARGE when signed and when encoded', () => {
    const limits = { maxBlockBytes: 600, maxPayloadBytes: 1_000 }
    const payload = { kind: 'x', b: new Uint8Array(340) } // the unsigned part fits in 600 bytes, the wire form does not
    const counterparty = keyPairOf(crypto, 2).publicKey
    expect(codeOf(() => createProposal({ ...chain.author, limits }, EMPTY_CHAIN_HEAD, { counterparty, payload, timestamp: 5 }))).toBe(
      TrustChainErrorCode.BLOCK_TOO_LARGE,
    )
    const block = createProposal(chain.author, EMPTY_CHAIN_HEAD, { counterparty, payload, timestamp: 5 })
    expect(codeOf(() => encodeBlock(block, limits))).toBe(TrustChainErrorCode.BLOCK_TOO_LARGE)
  })

  it('checks the payload size exactly', () => {
    const payload = { kind: 'blob', data: new Uint8Array(200) }
    const block = createProposal(chain.author, EMPTY_CHAIN_HEAD, { counterparty: keyPairOf(crypto, 2).publicKey, payload, timestamp: 5 })
    const payloadBytes = encodeCanonical(payload).length
    expect(decodeBlock(crypto, encodeBlock(block), { maxBlockBytes: 4096, maxPayloadBytes: payloadBytes })).toEqual(block)
    expect(codeOf(() => decodeBlock(crypto, encodeBlock(block), { maxBlockBytes: 4096, maxPayloadBytes: payloadBytes - 1 }))).toBe(
      TrustChainErrorCode.PAYLOAD_TOO_LARGE,
    )
  })

  it('rejects non-canonical, truncated, wrongly shaped and extended blocks as MALFORMED_BLOCK', () => {
    const { signature: _s, ...unsigned } = sample
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      wire().subarray(0, wire().length - 1),
      Uint8Array.of(...wire(), 0),
      encodeCanonical([1, 2]),
      encodeCanonical({ block: 1 }),
      envelope({ ...unsigned, extra: 1 }),
      envelope({ ...unsigned, signature: sample.signature }),
      envelope({ ...unsigned, sequenceNumber: 0 }),
      envelope({ ...unsigned, sequenceNumber: 1.5 }),
      envelope({ ...unsigned, type: 'mint' }),
      envelope({ ...unsigned, publicKey: new Uint8Array(31) }),
      envelope(unsigned, new Uint8Array(63)),
      envelope([1, 2, 3]),
    ]
    for (const bytes of cases) expect(codeOf(() => decodeBlock(crypto, bytes))).toBe(TrustChainErrorCode.MALFORMED_BLOCK)
    expect(codeOf(() => decodeBlock(crypto, 'not bytes'))).toBe(TrustChainErrorCode.MALFORMED_BLOCK)
  })

  it('fuzz: arbitrary bytes never decode to anything but a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const code = codeOf(() => decodeBlock(crypto, bytes))
        expect(code === undefined || !code.startsWith('untyped')).toBe(true)
      }),
      propertyOptions(2000),
    )
  })

  it('fuzz: a mutated block either fails with a typed error or decodes to a block with another hash or a bad signature', () => {
    const original = wire()
    fc.assert(
      fc.property(fc.integer({ min: 0, max: original.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
        const bytes = Uint8Array.from(original)
        bytes[index] = (bytes[index] as number) ^ flip
        let block: HalfBlock
        try {
          block = decodeBlock(crypto, bytes)
        } catch (error) {
          expect(isTrustChainError(error)).toBe(true)
          return
        }
        const sameHash = equalBytes(blockHash(crypto, block), blockHash(crypto, sample))
        const signed = crypto.verify(block.signature, blockHash(crypto, block), block.publicKey)
        // A change either leaves a different block that its signature does not cover, or is caught above.
        expect(sameHash && signed).toBe(false)
      }),
      propertyOptions(1500),
    )
  })
})
