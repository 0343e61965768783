/**
 * Validation of one half-block against what a node knows of its neighbourhood — a pure function.
 *
 * The checks run in py-ipv8's order: invariants (signature, links, first-block rules, payload, timestamps), block
 * consistency (another block at the same position = double sign), link consistency (the proposal an agreement
 * answers, and other agreements to it = double countersign), chain consistency (`previousHash` and timestamps
 * against the neighbours) and the balance rules of value transfers. Everything it needs from a store arrives in a
 * `ValidationContext`, gathered beforehand (see `gatherContext`), so this function does no I/O and is easy to fuzz.
 */
import { type CborValue, type Crypto, encodeCanonical, equalBytes } from '@constellation/crypto'
import { blockHash } from '../block/block-encoding.js'
import { type HalfBlock, isAgreement, isProposal, isVoid, NO_LINK, ZERO_HASH } from '../block/half-block.js'
import { CheckpointPayloadCodec, type PayloadRegistry, transferOf, VoidPayloadCodec } from '../block/payloads.js'
import { checkRefusal } from '../block/refusal.js'
import { createFraudProof, type FraudProof } from './fraud-proof.js'
import { INFORMATIONAL_REASONS, ValidationLevel, ValidationReason, type ValidationResult } from './validation-result.js'

/** What a node knows around a block, looked up before validation. */
export interface ValidationContext {
  /** The block already held at the same `(publicKey, sequenceNumber)`, if any. */
  readonly existing: HalfBlock | undefined
  /** The block at `sequenceNumber - 1` of the same chain. */
  readonly previous: HalfBlock | undefined
  /** The block at `sequenceNumber + 1` of the same chain. */
  readonly next: HalfBlock | undefined
  /** Whether any block of this chain is known (tells `partial` from `no-info`). */
  readonly chainKnown: boolean
  /** For an agreement: the proposal it answers; for a void: the own proposal it voids. If known. */
  readonly linkedProposal: HalfBlock | undefined
  /**
   * Blocks that link to the proposal — agreements, and the proposer's voids (for a proposal: to itself; for an
   * agreement or a void: to the one it names).
   */
  readonly agreements: readonly HalfBlock[]
  /** The chain's running balance just before this block, when every block needed to compute it is known. */
  readonly previousBalance: number | undefined
  /**
   * The signature verdict if it was already computed under the same strict rules (`Crypto.verify` semantics), for
   * instance for a whole batch on worker threads; otherwise the validator verifies the signature itself.
   */
  readonly signatureValid?: boolean
}

export interface ValidationOptions {
  /** Current time (ms); with `maxClockSkewMs`, blocks stamped further in the future are invalid. */
  readonly now?: number
  readonly maxClockSkewMs?: number
}

/** Invariants: what a block must satisfy on its own, whatever else is known. */
function checkInvariants(
  crypto: Crypto,
  registry: PayloadRegistry,
  block: HalfBlock,
  context: ValidationContext,
  options: ValidationOptions,
  reasons: ValidationReason[],
): readonly string[] | undefined {
  const signed = context.signatureValid ?? crypto.verify(block.signature, blockHash(crypto, block), block.publicKey)
  if (!signed) reasons.push(ValidationReason.BAD_SIGNATURE)
  if (block.type === 'tx') {
    if (equalBytes(block.publicKey, block.linkPublicKey)) reasons.push(ValidationReason.SELF_LINK)
    else if (equalBytes(block.linkPublicKey, NO_LINK)) reasons.push(ValidationReason.BAD_LINK)
  } else if (block.type === 'void') {
    // A void names an earlier proposal of its own chain.
    if (!equalBytes(block.publicKey, block.linkPublicKey) || block.linkSequenceNumber < 1 || block.linkSequenceNumber >= block.sequenceNumber) {
      reasons.push(ValidationReason.BAD_LINK)
    }
  } else if (!equalBytes(block.linkPublicKey, NO_LINK) || block.linkSequenceNumber !== 0) {
    // Genesis and checkpoint blocks are not transactions: nothing may countersign or be countersigned by them.
    reasons.push(ValidationReason.BAD_LINK)
  }
  if (block.type === 'genesis' && block.sequenceNumber !== 1) reasons.push(ValidationReason.GENESIS_NOT_FIRST)
  if (block.sequenceNumber === 1 && !equalBytes(block.previousHash, ZERO_HASH)) {
    reasons.push(ValidationReason.FIRST_PREVIOUS_HASH_NOT_ZERO)
  }
  const payload = registry.check(block.type, block.payload)
  if (!payload.ok) reasons.push(ValidationReason.BAD_PAYLOAD)
  if (block.type === 'checkpoint' && CheckpointPayloadCodec.is(block.payload)) {
    const head = block.payload
    if (head.headSequenceNumber !== block.sequenceNumber - 1 || !equalBytes(head.headHash, block.previousHash)) {
      reasons.push(ValidationReason.BAD_CHECKPOINT_HEAD)
    }
  }
  if (options.now !== undefined && options.maxClockSkewMs !== undefined && block.timestamp > options.now + options.maxClockSkewMs) {
    reasons.push(ValidationReason.TIMESTAMP_IN_FUTURE)
  }
  return payload.ok ? undefined : payload.errors
}

/**
 * True when an agreement describes the same transaction as the proposal it answers. The link names the proposal only
 * by position, so without this a countersignature to one block could be shown beside another block at that position
 * (a fork). A transfer agreement must be a transfer of the same amount (its balance is its own chain's, checked by
 * the balance rules); a payload carrying a `value` must carry the same amount and otherwise repeat the proposal's
 * payload; any other agreement repeats the proposal's payload exactly (compared in canonical form).
 */
export function sameContent(proposal: HalfBlock, agreement: HalfBlock): boolean {
  const offered = transferOf(proposal.type, proposal.payload)
  const accepted = transferOf(agreement.type, agreement.payload)
  if (offered !== undefined || accepted !== undefined) {
    if (offered === undefined || accepted === undefined || offered.kind !== accepted.kind || offered.amount !== accepted.amount) return false
    return offered.kind === 'transfer' || samePayload(withoutValue(proposal.payload), withoutValue(agreement.payload))
  }
  return samePayload(proposal.payload, agreement.payload)
}

function samePayload(a: CborValue, b: CborValue): boolean {
  try {
    return equalBytes(encodeCanonical(a), encodeCanonical(b))
  } catch {
    return false // a payload that cannot be encoded was refused as bad-payload already; it matches nothing
  }
}

/** A value-carrying payload without its `value` (whose balance differs between the halves by design). */
function withoutValue(payload: CborValue): CborValue {
  const { value: _value, ...rest } = payload as { readonly [key: string]: CborValue }
  return rest
}

/** A void: the proposal it names is an own proposal of that amount, refused by its counterparty, voided once and never agreed. */
function checkVoid(crypto: Crypto, block: HalfBlock, hash: Uint8Array, context: ValidationContext, reasons: ValidationReason[]): void {
  const proposal = context.linkedProposal
  if (proposal === undefined) reasons.push(ValidationReason.LINK_UNKNOWN)
  else {
    const offered = transferOf(proposal.type, proposal.payload)
    if (!isProposal(proposal) || offered === undefined || !VoidPayloadCodec.is(block.payload) || offered.amount !== block.payload.amount) {
      reasons.push(ValidationReason.LINK_MISMATCH)
    } else if (!checkRefusal(crypto, { hash: blockHash(crypto, proposal), counterparty: proposal.linkPublicKey }, block.payload.refusal)) {
      reasons.push(ValidationReason.BAD_REFUSAL)
    }
  }
  for (const other of context.agreements) {
    if (isVoid(other) && equalBytes(other.publicKey, block.publicKey) && !equalBytes(blockHash(crypto, other), hash)) {
      reasons.push(ValidationReason.DOUBLE_VOID)
    } else if (isAgreement(other) && (proposal === undefined || equalBytes(other.publicKey, proposal.linkPublicKey))) {
      reasons.push(ValidationReason.PROPOSAL_AGREED)
    }
  }
}

function checkLinks(crypto: Crypto, block: HalfBlock, hash: Uint8Array, context: ValidationContext, reasons: ValidationReason[]): FraudProof | undefined {
  if (isVoid(block)) {
    checkVoid(crypto, block, hash, context, reasons)
    return undefined
  }
  if (isProposal(block)) {
    // Only the named counterparty's agreements count; anyone else's claim to answer this proposal is its own problem.
    for (const agreement of context.agreements) {
      if (equalBytes(agreement.publicKey, block.linkPublicKey) && !sameContent(block, agreement)) {
        reasons.push(ValidationReason.LINK_MISMATCH)
        break
      }
    }
    return undefined
  }
  if (!isAgreement(block)) return undefined
  const proposal = context.linkedProposal
  if (proposal === undefined) reasons.push(ValidationReason.LINK_UNKNOWN)
  else if (!isProposal(proposal) || !equalBytes(proposal.linkPublicKey, block.publicKey) || !sameContent(proposal, block)) {
    reasons.push(ValidationReason.LINK_MISMATCH)
  }
  for (const other of context.agreements) {
    // The proposer voided it with a refusal: this counterparty said no before.
    if (isVoid(other) && equalBytes(other.publicKey, block.linkPublicKey)) reasons.push(ValidationReason.PROPOSAL_VOIDED)
    if (
      isAgreement(other) &&
      equalBytes(other.publicKey, block.publicKey) &&
      other.sequenceNumber !== block.sequenceNumber &&
      !equalBytes(blockHash(crypto, other), hash)
    ) {
      reasons.push(ValidationReason.DOUBLE_COUNTERSIGN)
      return createFraudProof(crypto, 'double-countersign', other, block)
    }
  }
  return undefined
}

function checkChain(crypto: Crypto, block: HalfBlock, hash: Uint8Array, context: ValidationContext, reasons: ValidationReason[]): void {
  const { previous, next } = context
  if (previous !== undefined) {
    if (!equalBytes(blockHash(crypto, previous), block.previousHash)) reasons.push(ValidationReason.PREVIOUS_HASH_MISMATCH)
    if (block.timestamp < previous.timestamp) reasons.push(ValidationReason.TIMESTAMP_BEFORE_PREVIOUS)
  } else if (block.sequenceNumber > 1) {
    reasons.push(ValidationReason.PREVIOUS_UNKNOWN)
  }
  if (next !== undefined) {
    if (!equalBytes(next.previousHash, hash)) reasons.push(ValidationReason.NEXT_HASH_MISMATCH)
    if (next.timestamp < block.timestamp) reasons.push(ValidationReason.TIMESTAMP_AFTER_NEXT)
  } else {
    reasons.push(ValidationReason.NEXT_UNKNOWN)
  }
}

/**
 * The balance rules: the running balance a block states follows from the one before it. A transfer proposal pays
 * out of it (never below zero), an agreement and a void add to it, a checkpoint records it unchanged. The rule of a
 * block is its change to the balance and the balance it states, or undefined for a block that states none.
 */
interface BalanceRule {
  readonly change: number
  readonly stated: number
}

function balanceRule(block: HalfBlock): BalanceRule | undefined {
  if (block.type === 'checkpoint') return CheckpointPayloadCodec.is(block.payload) ? { change: 0, stated: block.payload.balance } : undefined
  if (block.type === 'void') return VoidPayloadCodec.is(block.payload) ? { change: block.payload.amount, stated: block.payload.balance } : undefined
  const transfer = transferOf(block.type, block.payload)
  if (transfer === undefined) return undefined
  return { change: isProposal(block) ? -transfer.amount : transfer.amount, stated: transfer.balance }
}

function checkBalance(block: HalfBlock, context: ValidationContext, reasons: ValidationReason[]): void {
  // Blocks that state no balance (notes, and payloads already refused as bad) have nothing to check.
  const rule = balanceRule(block)
  if (rule === undefined) return
  if (context.previousBalance === undefined) {
    reasons.push(ValidationReason.BALANCE_UNCHECKED)
    return
  }
  const expected = context.previousBalance + rule.change
  // Only a payment can overdraw: it is the only rule with a negative change.
  if (rule.change < 0 && expected < 0) reasons.push(ValidationReason.INSUFFICIENT_BALANCE)
  else if (rule.stated !== expected) reasons.push(ValidationReason.BALANCE_MISMATCH)
}

function isInformational(reasons: readonly ValidationReason[]): boolean {
  for (const reason of reasons) if (!INFORMATIONAL_REASONS.has(reason)) return false
  return true
}

function levelOf(block: HalfBlock, context: ValidationContext, reasons: readonly ValidationReason[]): ValidationLevel {
  if (!isInformational(reasons)) return ValidationLevel.INVALID
  const previousKnown = block.sequenceNumber === 1 || context.previous !== undefined
  const nextKnown = context.next !== undefined
  if (previousKnown && nextKnown) return ValidationLevel.VALID
  if (previousKnown) return ValidationLevel.PARTIAL_NEXT
  if (nextKnown) return ValidationLevel.PARTIAL_PREVIOUS
  return context.chainKnown ? ValidationLevel.PARTIAL : ValidationLevel.NO_INFO
}

/** Validates `block` given what is known around it. Pure: the same inputs always give the same result. */
export function validateBlock(
  crypto: Crypto,
  registry: PayloadRegistry,
  block: HalfBlock,
  context: ValidationContext,
  options: ValidationOptions = {},
): ValidationResult {
  const reasons: ValidationReason[] = []
  const payloadErrors = checkInvariants(crypto, registry, block, context, options, reasons)
  // A block that is not validly signed proves nothing about its author: stop before comparing it with others.
  if (reasons.includes(ValidationReason.BAD_SIGNATURE)) {
    return payloadErrors === undefined ? { level: ValidationLevel.INVALID, reasons } : { level: ValidationLevel.INVALID, reasons, payloadErrors }
  }
  const hash = blockHash(crypto, block)
  let fraudProof: FraudProof | undefined
  if (context.existing !== undefined && !equalBytes(blockHash(crypto, context.existing), hash)) {
    reasons.push(ValidationReason.DOUBLE_SIGN)
    fraudProof = createFraudProof(crypto, 'double-sign', context.existing, block)
  }
  fraudProof = checkLinks(crypto, block, hash, context, reasons) ?? fraudProof
  checkChain(crypto, block, hash, context, reasons)
  checkBalance(block, context, reasons)
  const level = levelOf(block, context, reasons)
  if (fraudProof === undefined && payloadErrors === undefined) return { level, reasons }
  return {
    level,
    reasons,
    ...(fraudProof === undefined ? {} : { fraudProof }),
    ...(payloadErrors === undefined ? {} : { payloadErrors }),
  }
}
