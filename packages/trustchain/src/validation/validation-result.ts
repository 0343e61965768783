/**
 * The outcome of validating a half-block, with the levels of py-ipv8's TrustChain.
 *
 * `invalid` means the block breaks a rule and must be refused. The other levels say how much of its neighbourhood
 * this node could check: `valid` (both neighbours in the chain known and consistent), `partial-next` (the block
 * below is known, the one above is not: usual for a chain's newest block), `partial-previous` (only the block
 * above is known), `partial` (neither neighbour, but other blocks of the chain are known) and `no-info` (nothing of
 * the chain is known).
 */
import type { FraudProof } from './fraud-proof.js'

export const ValidationLevel = {
  VALID: 'valid',
  PARTIAL: 'partial',
  PARTIAL_NEXT: 'partial-next',
  PARTIAL_PREVIOUS: 'partial-previous',
  NO_INFO: 'no-info',
  INVALID: 'invalid',
} as const
export type ValidationLevel = (typeof ValidationLevel)[keyof typeof ValidationLevel]

/** Why a block is invalid, or what could not be checked. */
export const ValidationReason = {
  // invariants
  BAD_SIGNATURE: 'bad-signature',
  SELF_LINK: 'self-link',
  BAD_LINK: 'bad-link',
  GENESIS_NOT_FIRST: 'genesis-not-first',
  FIRST_PREVIOUS_HASH_NOT_ZERO: 'first-previous-hash-not-zero',
  BAD_PAYLOAD: 'bad-payload',
  BAD_CHECKPOINT_HEAD: 'bad-checkpoint-head',
  TIMESTAMP_IN_FUTURE: 'timestamp-in-future',
  // block consistency
  DOUBLE_SIGN: 'double-sign',
  // link consistency
  LINK_MISMATCH: 'link-mismatch',
  DOUBLE_COUNTERSIGN: 'double-countersign',
  /** A void whose refusal is not the counterparty's refusal of the proposal it names. */
  BAD_REFUSAL: 'bad-refusal',
  /** A second void of one proposal. */
  DOUBLE_VOID: 'double-void',
  /** A void of a proposal its counterparty agreed to. */
  PROPOSAL_AGREED: 'proposal-agreed',
  /** An agreement to a proposal its author voided with this counterparty's refusal. */
  PROPOSAL_VOIDED: 'proposal-voided',
  // chain consistency
  PREVIOUS_HASH_MISMATCH: 'previous-hash-mismatch',
  NEXT_HASH_MISMATCH: 'next-hash-mismatch',
  TIMESTAMP_BEFORE_PREVIOUS: 'timestamp-before-previous',
  TIMESTAMP_AFTER_NEXT: 'timestamp-after-next',
  // balance rules
  BALANCE_MISMATCH: 'balance-mismatch',
  INSUFFICIENT_BALANCE: 'insufficient-balance',
  // not errors: what could not be checked
  PREVIOUS_UNKNOWN: 'previous-unknown',
  NEXT_UNKNOWN: 'next-unknown',
  LINK_UNKNOWN: 'link-unknown',
  BALANCE_UNCHECKED: 'balance-unchecked',
} as const
export type ValidationReason = (typeof ValidationReason)[keyof typeof ValidationReason]

/** Reasons that only say what was missing; every other reason makes a block invalid. */
export const INFORMATIONAL_REASONS: ReadonlySet<ValidationReason> = new Set([
  ValidationReason.PREVIOUS_UNKNOWN,
  ValidationReason.NEXT_UNKNOWN,
  ValidationReason.LINK_UNKNOWN,
  ValidationReason.BALANCE_UNCHECKED,
])

export interface ValidationResult {
  readonly level: ValidationLevel
  readonly reasons: readonly ValidationReason[]
  /** Present when the block proves its author cheated (double sign or double countersign). */
  readonly fraudProof?: FraudProof
  /** Why the payload did not fit its codec, when `bad-payload` is among the reasons. */
  readonly payloadErrors?: readonly string[]
}
