/**
 * The TrustChain wire protocol: the requests, responses and broadcasts peers exchange, as io-ts codecs over
 * canonical CBOR. Blocks inside messages stay in wire form here and are decoded (sizes first) by the node.
 *
 *   request  proposal {block}                -> response agreement {proposal, agreement} | rejected {code, reasons}
 *   request  crawl {publicKey, from, to}     -> response blocks {blocks} | rejected
 *   broadcast blocks {blocks}                   (both halves of a completed transaction)
 * `from`/`to` in a crawl may be negative: -1 is the chain's newest block, -2 the one before, and so on.
 */
import { decodeCanonical, encodeCanonical } from '@constellation/crypto'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { bytesUpTo, closedRecord, describeErrors, integerIn } from '../block/field-codecs.js'
import { PublicKeyCodec } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'

/** Most blocks one crawl response or broadcast carries. */
export const MAX_BLOCKS_PER_MESSAGE = 256
const BlockBytes = bytesUpTo(1 << 20, 'BlockBytes')
const Blocks = new t.Type<Uint8Array[], Uint8Array[], unknown>(
  'Blocks',
  (u): u is Uint8Array[] => Array.isArray(u) && u.length <= MAX_BLOCKS_PER_MESSAGE && u.every((b) => BlockBytes.is(b)),
  (u, c) => (Array.isArray(u) && u.length <= MAX_BLOCKS_PER_MESSAGE && u.every((b) => BlockBytes.is(b)) ? t.success(u) : t.failure(u, c)),
  t.identity,
)
const RangeBound = integerIn(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'RangeBound')

export const ProposalRequestCodec = closedRecord('ProposalRequest', { type: t.literal('proposal'), block: BlockBytes })
export const CrawlRequestCodec = closedRecord('CrawlRequest', {
  type: t.literal('crawl'),
  publicKey: PublicKeyCodec,
  from: RangeBound,
  to: RangeBound,
})
export const RequestCodec = t.union([ProposalRequestCodec, CrawlRequestCodec])
export type Request = t.TypeOf<typeof RequestCodec>

export const AgreementResponseCodec = closedRecord('AgreementResponse', {
  type: t.literal('agreement'),
  proposal: BlockBytes,
  agreement: BlockBytes,
})
export const RejectedResponseCodec = closedRecord('RejectedResponse', {
  type: t.literal('rejected'),
  code: t.string,
  reasons: t.array(t.string),
})
export const BlocksMessageCodec = closedRecord('BlocksMessage', { type: t.literal('blocks'), blocks: Blocks })
export const ResponseCodec = t.union([AgreementResponseCodec, RejectedResponseCodec, BlocksMessageCodec])
export type Response = t.TypeOf<typeof ResponseCodec>
export type BlocksMessage = t.TypeOf<typeof BlocksMessageCodec>

export function encodeMessage<A, O>(codec: t.Type<A, O, unknown>, message: A): Uint8Array {
  return encodeCanonical(codec.encode(message) as Parameters<typeof encodeCanonical>[0], { maxBytes: 8 << 20 })
}

/** Decodes a message of the given shape; MALFORMED_MESSAGE on anything else. */
export function decodeMessage<A>(codec: t.Decoder<unknown, A>, bytes: unknown, maxBytes = 8 << 20, maxDepth = 3): A {
  if (!(bytes instanceof Uint8Array)) throw new TrustChainError(TrustChainErrorCode.MALFORMED_MESSAGE, 'a message must be bytes')
  let value: unknown
  try {
    value = decodeCanonical(bytes, { maxBytes, maxDepth })
  } catch (cause) {
    throw new TrustChainError(TrustChainErrorCode.MALFORMED_MESSAGE, 'message is not canonical CBOR', {}, { cause })
  }
  const decoded = codec.decode(value)
  if (isLeft(decoded)) {
    throw new TrustChainError(TrustChainErrorCode.MALFORMED_MESSAGE, `not a ${codec.name}`, { errors: describeErrors(decoded.left) })
  }
  return decoded.right
}

/**
 * Resolves a crawl's bounds against the newest sequence number of the chain (negative = from the end) and caps
 * the range at `maxBlocks`, keeping its start. Returns undefined for an empty range.
 */
export function resolveRange(from: number, to: number, latest: number, maxBlocks: number): { from: number; to: number } | undefined {
  const absolute = (bound: number) => (bound < 0 ? latest + 1 + bound : bound)
  const start = Math.max(1, absolute(from))
  const end = Math.min(latest, absolute(to), start + maxBlocks - 1)
  return end < start ? undefined : { from: start, to: end }
}
