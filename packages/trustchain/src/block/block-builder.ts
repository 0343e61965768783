/**
 * Building and signing the blocks of one's own chain.
 *
 * A `ChainHead` is what an author needs to append: the sequence number and hash of its newest block and its running
 * balance. Each builder returns the signed block; `advanceHead` gives the head after it. Agreements to transfers
 * mirror the proposal's amount and carry the counterparty's new balance; agreements to other payloads repeat the
 * proposal's payload, as in py-ipv8, so both halves describe the same transaction, except that a carried `value`
 * states the agreeing chain's own new balance.
 */
import { type CborValue, type Crypto, equalBytes, type KeyPair } from '@constellation/crypto'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { type BlockLimits, blockHash, DEFAULT_BLOCK_LIMITS, signBlock } from './block-encoding.js'
import { type HalfBlock, isProposal, NO_LINK, ZERO_HASH } from './half-block.js'
import { carriesValue, MAX_REFERENCE_BYTES, statedBalance, type TransferPayload, transferOf } from './payloads.js'
import { checkRefusal } from './refusal.js'

export interface ChainHead {
  /** Sequence number of the newest block (0 for an empty chain). */
  readonly sequenceNumber: number
  /** Hash of the newest block (the zero hash for an empty chain). */
  readonly hash: Uint8Array
  /** Running balance after the newest block. */
  readonly balance: number
  /** Timestamp of the newest block (0 for an empty chain): the next block may not be older. */
  readonly timestamp: number
}

export const EMPTY_CHAIN_HEAD: ChainHead = Object.freeze({ sequenceNumber: 0, hash: ZERO_HASH, balance: 0, timestamp: 0 })

/** The head after appending `block` to a chain whose head was `head`. */
export function advanceHead(crypto: Crypto, head: ChainHead, block: HalfBlock): ChainHead {
  const balance = statedBalance(block.type, block.payload) ?? head.balance
  return { sequenceNumber: block.sequenceNumber, hash: blockHash(crypto, block), balance, timestamp: block.timestamp }
}

export interface BlockAuthor {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly limits?: BlockLimits
}

function append(
  author: BlockAuthor,
  head: ChainHead,
  fields: { type: HalfBlock['type']; linkPublicKey: Uint8Array; linkSequenceNumber: number; payload: CborValue; timestamp: number },
): HalfBlock {
  return signBlock(
    author.crypto,
    author.keyPair,
    {
      publicKey: author.keyPair.publicKey,
      sequenceNumber: head.sequenceNumber + 1,
      previousHash: head.hash,
      ...fields,
      // A chain's timestamps never go backwards, even when the caller's clock does.
      timestamp: Math.max(fields.timestamp, head.timestamp),
    },
    author.limits ?? DEFAULT_BLOCK_LIMITS,
  )
}

/** The balance left at `head` after paying `amount`; INVALID_INPUT for a bad amount or an overdraft. */
function balanceAfterPaying(head: ChainHead, amount: number): number {
  if (!Number.isSafeInteger(amount) || amount < 1) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `a transfer amount must be a positive integer, got ${amount}`)
  }
  if (amount > head.balance) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `cannot transfer ${amount} with a balance of ${head.balance}`)
  }
  return head.balance - amount
}

/** A transfer payload paying `amount` out of a chain at `head`, with an optional reference (at most 32 bytes). */
export function transferPayload(head: ChainHead, amount: number, reference?: Uint8Array): TransferPayload {
  const balance = balanceAfterPaying(head, amount)
  if (reference === undefined) return { kind: 'transfer', amount, balance }
  if (!(reference instanceof Uint8Array) || reference.length > MAX_REFERENCE_BYTES) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `a transfer reference is at most ${MAX_REFERENCE_BYTES} bytes`)
  }
  return { kind: 'transfer', amount, balance, reference: Uint8Array.from(reference) }
}

/**
 * `payload` made to carry `amount` out of a chain at `head` to the counterparty: its `value` field is set to
 * `{ amount, balance after paying }`. The ledgers move both balances as for a transfer.
 */
export function withValue<P extends { readonly kind: string }>(
  head: ChainHead,
  payload: P,
  amount: number,
): P & { readonly value: { readonly amount: number; readonly balance: number } } {
  if (payload.kind === 'transfer') throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'a transfer carries its amount itself, not a `value`')
  return { ...payload, value: { amount, balance: balanceAfterPaying(head, amount) } }
}

export function createGenesisBlock(author: BlockAuthor, options: { balance: number; timestamp: number }): HalfBlock {
  return append(author, EMPTY_CHAIN_HEAD, {
    type: 'genesis',
    linkPublicKey: NO_LINK,
    linkSequenceNumber: 0,
    payload: { balance: options.balance },
    timestamp: options.timestamp,
  })
}

export function createProposal(author: BlockAuthor, head: ChainHead, options: { counterparty: Uint8Array; payload: CborValue; timestamp: number }): HalfBlock {
  return append(author, head, {
    type: 'tx',
    linkPublicKey: options.counterparty,
    linkSequenceNumber: 0,
    payload: options.payload,
    timestamp: options.timestamp,
  })
}

/** The payload an agreement to `proposal` carries when appended at `head`. */
export function agreementPayload(head: ChainHead, proposal: HalfBlock): CborValue {
  const transfer = transferOf(proposal.type, proposal.payload)
  if (transfer === undefined) return proposal.payload
  const balance = head.balance + transfer.amount
  if (!Number.isSafeInteger(balance)) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `receiving ${transfer.amount} would take the balance past the safe integer range`)
  }
  if (carriesValue(proposal.payload)) return { ...proposal.payload, value: { amount: transfer.amount, balance } }
  return { kind: 'transfer', amount: transfer.amount, balance }
}

export function createAgreement(author: BlockAuthor, head: ChainHead, proposal: HalfBlock, options: { timestamp: number }): HalfBlock {
  if (!isProposal(proposal)) throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'only a proposal can be agreed to')
  return append(author, head, {
    type: 'tx',
    linkPublicKey: proposal.publicKey,
    linkSequenceNumber: proposal.sequenceNumber,
    payload: agreementPayload(head, proposal),
    timestamp: options.timestamp,
  })
}

export function createCheckpoint(
  author: BlockAuthor,
  head: ChainHead,
  options: { consensusResultHash: Uint8Array; round: number; timestamp: number },
): HalfBlock {
  return append(author, head, {
    type: 'checkpoint',
    linkPublicKey: NO_LINK,
    linkSequenceNumber: 0,
    payload: {
      consensusResultHash: options.consensusResultHash,
      round: options.round,
      headSequenceNumber: head.sequenceNumber,
      headHash: head.hash,
      balance: head.balance,
    },
    timestamp: options.timestamp,
  })
}

/**
 * A void of the own chain's `proposal`, which its counterparty refused with `refusal` (`signRefusal`): the amount
 * goes back to the running balance. INVALID_INPUT unless `proposal` is an own proposal below `head` that moves value
 * and `refusal` is its counterparty's refusal of it.
 */
export function createVoid(author: BlockAuthor, head: ChainHead, proposal: HalfBlock, options: { refusal: Uint8Array; timestamp: number }): HalfBlock {
  const { crypto, keyPair } = author
  const transfer = transferOf(proposal.type, proposal.payload)
  if (!isProposal(proposal) || !equalBytes(proposal.publicKey, keyPair.publicKey) || proposal.sequenceNumber > head.sequenceNumber || transfer === undefined) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'only an own proposal that moves value can be voided')
  }
  if (!checkRefusal(crypto, { hash: blockHash(crypto, proposal), counterparty: proposal.linkPublicKey }, options.refusal)) {
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'the refusal is not the counterparty’s refusal of this proposal')
  }
  const balance = head.balance + transfer.amount
  if (!Number.isSafeInteger(balance))
    throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'the refund would take the balance past the safe integer range')
  return append(author, head, {
    type: 'void',
    linkPublicKey: keyPair.publicKey,
    linkSequenceNumber: proposal.sequenceNumber,
    payload: { amount: transfer.amount, balance, refusal: options.refusal },
    timestamp: options.timestamp,
  })
}
