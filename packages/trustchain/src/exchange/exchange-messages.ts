/**
 * The wire protocol of anchored transfers (`/constellation/transfer/1`), as io-ts codecs over canonical CBOR.
 *
 *   transfers {round, blocks}  -> answers {answers}          one answer per proposal to the receiver it could decide
 *                              | resend {from, to}           send the blocks from..to first (the receiver lacks them)
 *                              | behind {round}              the receiver has not applied that certified round yet
 *                              | declined {code, reason}     nothing decided, nothing signed (malformed, not a member)
 *   range {publicKey, from, to} -> blocks {blocks}           stored blocks of a chain, for sync and recovery
 *
 * A `transfers` frame carries a run of the proposer's own chain: the blocks after its certified anchor that the
 * receiver has not seen yet, up to its last proposal to the receiver (or, for proposals already under a certified
 * checkpoint, up to that checkpoint). `round` is the certified round the proposer's view of its anchor comes from.
 * Answers are agreements (the receiver's half-block) or signed refusals; blocks stay in wire form here.
 */
import { SIGNATURE_LENGTH } from '@constellation/crypto'
import * as t from 'io-ts'
import { bytesOfLength, bytesUpTo, closedRecord, integerIn } from '../block/field-codecs.js'
import { PublicKeyCodec } from '../block/half-block.js'
import { decodeMessage, encodeMessage } from '../protocol/messages.js'

export const TRANSFER_PROTOCOL = '/constellation/transfer/1'

/** Most blocks one frame carries (a stretch is bounded below this by the node's own limit). */
export const MAX_FRAME_BLOCKS = 4_096
/** Largest frame accepted: within one network message. */
export const MAX_FRAME_BYTES = 1 << 20
/** Bytes of a frame a sender leaves for the envelope around the blocks it packs. */
export const FRAME_MARGIN = 4_096

const Sequence = integerIn(1, Number.MAX_SAFE_INTEGER, 'SequenceNumber')
const Round = integerIn(0, Number.MAX_SAFE_INTEGER, 'Round')
const BlockBytes = bytesUpTo(1 << 16, 'BlockBytes')
const ShortText = (max: number, name: string) =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && u.length <= max,
    (u, c) => (typeof u === 'string' && u.length <= max ? t.success(u) : t.failure(u, c)),
    t.identity,
  )

function listOf<C extends t.Mixed>(codec: C, max: number, name: string): t.Type<t.TypeOf<C>[], t.OutputOf<C>[], unknown> {
  const is = (u: unknown): u is t.TypeOf<C>[] => Array.isArray(u) && u.length <= max && u.every((item) => codec.is(item))
  return new t.Type(
    name,
    is,
    (u, c) => {
      if (!Array.isArray(u) || u.length > max) return t.failure(u, c, `${name} must be a list of at most ${max}`)
      return t.array(codec).validate(u, c)
    },
    (a) => a.map((item) => codec.encode(item)),
  )
}

export const TransferFrameCodec = closedRecord('TransferFrame', {
  type: t.literal('transfers'),
  round: Round,
  blocks: listOf(BlockBytes, MAX_FRAME_BLOCKS, 'Blocks'),
})
export const RangeRequestCodec = closedRecord('RangeRequest', {
  type: t.literal('range'),
  publicKey: PublicKeyCodec,
  from: Sequence,
  to: Sequence,
})
export const ExchangeRequestCodec = t.union([TransferFrameCodec, RangeRequestCodec])
export type ExchangeRequest = t.TypeOf<typeof ExchangeRequestCodec>

export const AgreedAnswerCodec = closedRecord('AgreedAnswer', { sequenceNumber: Sequence, agreement: BlockBytes })
export const RefusedAnswerCodec = closedRecord('RefusedAnswer', {
  sequenceNumber: Sequence,
  refusal: bytesOfLength(SIGNATURE_LENGTH, 'Refusal'),
  code: ShortText(64, 'Code'),
  reason: ShortText(256, 'Reason'),
})
export const AnswerCodec = t.union([AgreedAnswerCodec, RefusedAnswerCodec])
export type Answer = t.TypeOf<typeof AnswerCodec>

export const ExchangeResponseCodec = t.union([
  closedRecord('Answers', { type: t.literal('answers'), answers: listOf(AnswerCodec, MAX_FRAME_BLOCKS, 'Answers') }),
  closedRecord('Resend', { type: t.literal('resend'), from: Sequence, to: Sequence }),
  closedRecord('Behind', { type: t.literal('behind'), round: Round }),
  closedRecord('Declined', { type: t.literal('declined'), code: ShortText(64, 'Code'), reason: ShortText(256, 'Reason') }),
  closedRecord('Blocks', { type: t.literal('blocks'), blocks: listOf(BlockBytes, MAX_FRAME_BLOCKS, 'Blocks') }),
])
export type ExchangeResponse = t.TypeOf<typeof ExchangeResponseCodec>

export const encodeExchangeRequest = (request: ExchangeRequest): Uint8Array => encodeMessage(ExchangeRequestCodec, request)
export const decodeExchangeRequest = (bytes: unknown): ExchangeRequest => decodeMessage(ExchangeRequestCodec, bytes, MAX_FRAME_BYTES, 3)
export const encodeExchangeResponse = (response: ExchangeResponse): Uint8Array => encodeMessage(ExchangeResponseCodec, response)
export const decodeExchangeResponse = (bytes: unknown): ExchangeResponse => decodeMessage(ExchangeResponseCodec, bytes, MAX_FRAME_BYTES, 4)
