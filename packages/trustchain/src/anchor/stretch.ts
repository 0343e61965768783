/**
 * Checking a stretch: the blocks of one chain after its certified anchor, and what they do with value.
 *
 * A stretch must continue the anchor exactly — contiguous sequence numbers, each block's `previousHash` the hash
 * of the one before, the first one's the anchor's — and every block must pass validation against its neighbours in
 * the stretch: the invariants, the payload, the link rules that can be checked from the stretch itself (a void's
 * proposal when it lies in the stretch, one answer per proposal) and the running balance from the anchor's. The
 * result is a summary of the value the stretch moves: what it pays out (debits: its transfer proposals), what it
 * receives (credits: its agreements) and the proposals it voids. A consensus folds summaries into certified
 * balances; a counterparty compares what a proposer has spent since its anchor with what it may spend.
 *
 * The check is incremental (`extendStretch` continues a `StretchTail`), so a counterparty that saw the first part
 * of a proposer's stretch with an earlier proposal checks only the blocks that are new. Signatures are checked as
 * the caller says: all of them (facilitators certify the whole stretch), none (a counterparty verifies the
 * proposals addressed to it; the hash links from a verified block authenticate everything below it), or verdicts
 * computed elsewhere (a worker pool).
 */
import { type Crypto, equalBytes, toHex } from '@constellation/crypto'
import { blockHash } from '../block/block-encoding.js'
import { type HalfBlock, isAgreement, isProposal, isVoid } from '../block/half-block.js'
import { GenesisPayloadCodec, type PayloadRegistry, statedBalance, transferOf, VoidPayloadCodec } from '../block/payloads.js'
import type { FraudProof } from '../validation/fraud-proof.js'
import { validateBlock } from '../validation/validate-block.js'
import { INFORMATIONAL_REASONS, type ValidationReason } from '../validation/validation-result.js'
import type { ChainAnchor } from './chain-anchor.js'

/** A transfer proposal of the stretch: value it pays out. */
export interface StretchDebit {
  readonly sequenceNumber: number
  readonly hash: Uint8Array
  readonly counterparty: Uint8Array
  readonly amount: number
}

/** An agreement of the stretch: value it receives once the proposal it answers is final. */
export interface StretchCredit {
  readonly sequenceNumber: number
  readonly hash: Uint8Array
  readonly proposer: Uint8Array
  readonly proposalSequenceNumber: number
  readonly amount: number
}

/** A void of the stretch: the refused proposal it undoes and the counterparty's refusal. */
export interface StretchVoid {
  readonly sequenceNumber: number
  readonly proposalSequenceNumber: number
  readonly amount: number
  readonly refusal: Uint8Array
}

/** What a checked stretch does with value, and where it ends. */
export interface StretchSummary {
  readonly publicKey: Uint8Array
  /** The anchor's sequence number: the stretch is blocks `anchor + 1 .. head`. */
  readonly anchor: number
  readonly head: { readonly sequenceNumber: number; readonly hash: Uint8Array; readonly balance: number }
  readonly debits: readonly StretchDebit[]
  readonly credits: readonly StretchCredit[]
  readonly voids: readonly StretchVoid[]
  /** The sum of the debits: what the stretch spends of the anchor's spendable balance. */
  readonly spent: number
}

/** A stretch checked so far, to be continued with the blocks after it. */
export interface StretchTail {
  readonly summary: StretchSummary
  /** The newest block checked (undefined while the stretch is empty). */
  readonly last: HalfBlock | undefined
  /** Hashes of the stretch's blocks, from `anchor + 1` on (to rebase the tail on a newer anchor inside it). */
  readonly hashes: readonly Uint8Array[]
  /** Own proposals of the stretch by sequence number (a void names one), and the stretch's answers by proposal. */
  readonly proposals: ReadonlyMap<number, HalfBlock>
  readonly answers: ReadonlyMap<string, readonly HalfBlock[]>
}

export type StretchCheck =
  | { readonly ok: true; readonly tail: StretchTail }
  | {
      readonly ok: false
      /** Index in the blocks given of the first block refused. */
      readonly index: number
      readonly reasons: readonly string[]
      /** When the refused block proves its author cheated (two answers to one proposal). */
      readonly fraudProof?: FraudProof
      /** The tail up to the block before the refused one. */
      readonly tail: StretchTail
    }

export interface StretchOptions {
  readonly crypto: Crypto
  readonly registry: PayloadRegistry
  /** `all` (default), `none`, or one verdict per block given (computed elsewhere, under the same strict rules). */
  readonly signatures?: 'all' | 'none' | readonly boolean[]
  /** Current time and skew limit: blocks stamped further ahead are refused. */
  readonly now?: number
  readonly maxClockSkewMs?: number
}

/** The empty stretch after `anchor`. */
export function stretchFrom(publicKey: Uint8Array, anchor: ChainAnchor): StretchTail {
  return {
    summary: {
      publicKey,
      anchor: anchor.sequenceNumber,
      head: { sequenceNumber: anchor.sequenceNumber, hash: anchor.hash, balance: anchor.balance },
      debits: [],
      credits: [],
      voids: [],
      spent: 0,
    },
    last: undefined,
    hashes: [],
    proposals: new Map(),
    answers: new Map(),
  }
}

/**
 * `tail` seen from a newer anchor that lies inside it (a certified checkpoint of the stretch): only what follows the
 * anchor counts. Undefined when the anchor is not a block of the tail (beyond it, or another hash there: a fork).
 */
export function rebaseStretch(tail: StretchTail, anchor: ChainAnchor): StretchTail | undefined {
  const { summary } = tail
  if (anchor.sequenceNumber === summary.anchor) return tail
  const at = anchor.sequenceNumber - summary.anchor - 1
  const hash = tail.hashes[at]
  if (anchor.sequenceNumber < summary.anchor || hash === undefined || !equalBytes(hash, anchor.hash)) return undefined
  const after = (entry: { readonly sequenceNumber: number }) => entry.sequenceNumber > anchor.sequenceNumber
  const debits = summary.debits.filter(after)
  return {
    summary: {
      ...summary,
      anchor: anchor.sequenceNumber,
      debits,
      credits: summary.credits.filter(after),
      voids: summary.voids.filter(after),
      spent: debits.reduce((sum, debit) => sum + debit.amount, 0),
    },
    last: tail.last,
    hashes: tail.hashes.slice(at + 1),
    proposals: new Map([...tail.proposals].filter(([sequenceNumber]) => sequenceNumber > anchor.sequenceNumber)),
    answers: new Map(
      [...tail.answers].flatMap(([target, blocks]) => {
        const kept = blocks.filter(after)
        return kept.length === 0 ? [] : [[target, kept] as const]
      }),
    ),
  }
}

const answerKey = (publicKey: Uint8Array, sequenceNumber: number) => `${toHex(publicKey)}/${sequenceNumber}`

/** Continues `tail` with `blocks`, which must follow its head. */
export function extendStretch(tail: StretchTail, blocks: readonly HalfBlock[], options: StretchOptions): StretchCheck {
  const { crypto, registry } = options
  const { publicKey } = tail.summary
  let { head } = tail.summary
  let last = tail.last
  const debits = [...tail.summary.debits]
  const credits = [...tail.summary.credits]
  const voids = [...tail.summary.voids]
  let spent = tail.summary.spent
  const proposals = new Map(tail.proposals)
  const answers = new Map(tail.answers)
  const hashes = [...tail.hashes]
  const snapshot = (): StretchTail => ({
    summary: { publicKey, anchor: tail.summary.anchor, head, debits, credits, voids, spent },
    last,
    hashes,
    proposals,
    answers,
  })
  const refuse = (index: number, reasons: readonly string[], fraudProof?: FraudProof): StretchCheck => ({
    ok: false,
    index,
    reasons,
    ...(fraudProof === undefined ? {} : { fraudProof }),
    tail: snapshot(),
  })
  const settings = options.now !== undefined && options.maxClockSkewMs !== undefined ? { now: options.now, maxClockSkewMs: options.maxClockSkewMs } : {}

  for (const [index, block] of blocks.entries()) {
    if (!equalBytes(block.publicKey, publicKey)) return refuse(index, ['another chain'])
    if (block.sequenceNumber !== head.sequenceNumber + 1) return refuse(index, ['not the next block of the stretch'])
    if (!equalBytes(block.previousHash, head.hash)) return refuse(index, ['previous-hash-mismatch'])
    if (block.type === 'genesis' && GenesisPayloadCodec.is(block.payload) && block.payload.balance !== head.balance) {
      // The opening balance is the consensus's genesis balance, which the anchor of an empty chain carries.
      return refuse(index, ['balance-mismatch'])
    }
    const signatures = options.signatures ?? 'all'
    const signatureValid = signatures === 'all' ? undefined : signatures === 'none' ? true : signatures[index]
    const target = isAgreement(block) || isVoid(block) ? answerKey(block.linkPublicKey, block.linkSequenceNumber) : undefined
    const validation = validateBlock(
      crypto,
      registry,
      block,
      {
        existing: undefined,
        previous: last,
        next: undefined,
        chainKnown: true,
        linkedProposal: isVoid(block) ? proposals.get(block.linkSequenceNumber) : undefined,
        agreements: target === undefined ? [] : (answers.get(target) ?? []),
        previousBalance: head.balance,
        ...(signatureValid === undefined ? {} : { signatureValid }),
      },
      settings,
    )
    // The anchor is the block before the first one: its hash was compared above, so an unknown previous is no gap.
    const broken = validation.reasons.filter((reason: ValidationReason) => !INFORMATIONAL_REASONS.has(reason))
    if (broken.length > 0) return refuse(index, broken, validation.fraudProof)
    const hash = blockHash(crypto, block)
    const moved = transferOf(block.type, block.payload)
    if (isProposal(block)) {
      proposals.set(block.sequenceNumber, block)
      if (moved !== undefined) {
        debits.push({ sequenceNumber: block.sequenceNumber, hash, counterparty: block.linkPublicKey, amount: moved.amount })
        spent += moved.amount
      }
    } else if (isAgreement(block) && moved !== undefined) {
      credits.push({
        sequenceNumber: block.sequenceNumber,
        hash,
        proposer: block.linkPublicKey,
        proposalSequenceNumber: block.linkSequenceNumber,
        amount: moved.amount,
      })
    } else if (isVoid(block) && VoidPayloadCodec.is(block.payload)) {
      voids.push({
        sequenceNumber: block.sequenceNumber,
        proposalSequenceNumber: block.linkSequenceNumber,
        amount: block.payload.amount,
        refusal: block.payload.refusal,
      })
    }
    if (target !== undefined) answers.set(target, [...(answers.get(target) ?? []), block])
    head = { sequenceNumber: block.sequenceNumber, hash, balance: statedBalance(block.type, block.payload) ?? head.balance }
    hashes.push(hash)
    last = block
  }
  return { ok: true, tail: snapshot() }
}

/** Checks the whole stretch after `anchor`. */
export function checkStretch(publicKey: Uint8Array, anchor: ChainAnchor, blocks: readonly HalfBlock[], options: StretchOptions): StretchCheck {
  return extendStretch(stretchFrom(publicKey, anchor), blocks, options)
}
