/**
 * The wire form of a stretch summary (trustchain's `StretchSummary`) inside a facilitator's proposal.
 *
 * A facilitator that checked a member's stretch proposes the member's checkpoint with the summary of what the
 * stretch does with value. Summaries are compared byte for byte across proposals (an honest facilitator's summary of
 * a stretch is a pure function of the stretch and the certified state), so the encoding is canonical CBOR of fixed
 * tuples: the anchor, the head, the debits, the credits and the voids.
 */
import { encodeCanonical, HASH_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '@constellation/crypto'
import type { StretchSummary } from '@constellation/trustchain'
import * as t from 'io-ts'
import { bytesOfLength, decodeWith, integerIn, listUpTo } from '../codec/fields.js'

/** Debits, credits and voids of one stretch at most (a member's stretch is bounded by its node well below this). */
export const MAX_STRETCH_ENTRIES = 8_192
/** Largest encoded summary accepted. */
export const MAX_SUMMARY_BYTES = MAX_STRETCH_ENTRIES * 96 + 256

const Sequence = integerIn(1, Number.MAX_SAFE_INTEGER, 'SequenceNumber')
const Position = integerIn(0, Number.MAX_SAFE_INTEGER, 'Position')
const Amount = integerIn(1, Number.MAX_SAFE_INTEGER, 'Amount')
const Balance = integerIn(0, Number.MAX_SAFE_INTEGER, 'Balance')
const Hash = bytesOfLength(HASH_LENGTH, 'Hash')
const Key = bytesOfLength(PUBLIC_KEY_LENGTH, 'PublicKey')

const SummaryWire = t.tuple([
  Position, // anchor
  t.tuple([Sequence, Hash, Balance]), // head
  listUpTo(t.tuple([Sequence, Hash, Key, Amount]), MAX_STRETCH_ENTRIES, 'Debits'),
  listUpTo(t.tuple([Sequence, Hash, Key, Sequence, Amount]), MAX_STRETCH_ENTRIES, 'Credits'),
  listUpTo(t.tuple([Sequence, Sequence, Amount, bytesOfLength(SIGNATURE_LENGTH, 'Refusal')]), MAX_STRETCH_ENTRIES, 'Voids'),
])

export function encodeStretchSummary(summary: StretchSummary): Uint8Array {
  return encodeCanonical([
    summary.anchor,
    [summary.head.sequenceNumber, summary.head.hash, summary.head.balance],
    summary.debits.map((d) => [d.sequenceNumber, d.hash, d.counterparty, d.amount]),
    summary.credits.map((c) => [c.sequenceNumber, c.hash, c.proposer, c.proposalSequenceNumber, c.amount]),
    summary.voids.map((v) => [v.sequenceNumber, v.proposalSequenceNumber, v.amount, v.refusal]),
  ])
}

/** The summary of `publicKey`'s stretch in `bytes`; MALFORMED_MESSAGE for anything else. */
export function decodeStretchSummary(publicKey: Uint8Array, bytes: Uint8Array): StretchSummary {
  const [anchor, [headSeq, headHash, headBalance], debits, credits, voids] = decodeWith(
    SummaryWire as t.Type<t.TypeOf<typeof SummaryWire>, unknown, unknown>,
    bytes,
    MAX_SUMMARY_BYTES,
    'stretch summary',
  )
  let spent = 0
  for (const [, , , amount] of debits) spent += amount
  return {
    publicKey,
    anchor,
    head: { sequenceNumber: headSeq, hash: headHash, balance: headBalance },
    debits: debits.map(([sequenceNumber, hash, counterparty, amount]) => ({ sequenceNumber, hash, counterparty, amount })),
    credits: credits.map(([sequenceNumber, hash, proposer, proposalSequenceNumber, amount]) => ({
      sequenceNumber,
      hash,
      proposer,
      proposalSequenceNumber,
      amount,
    })),
    voids: voids.map(([sequenceNumber, proposalSequenceNumber, amount, refusal]) => ({ sequenceNumber, proposalSequenceNumber, amount, refusal })),
    spent,
  }
}

/** Entries a summary adds to a round's ledger work. */
export function summaryEntries(summary: StretchSummary): number {
  return summary.debits.length + summary.credits.length + summary.voids.length
}
