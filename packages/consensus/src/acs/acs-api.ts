/**
 * The contract between the asynchronous common subset (ACS) and the checkpoint round that drives it.
 *
 * ACS lets n facilitators, at most t of them Byzantine (n >= 3t + 1), agree on a subset of their proposals: every
 * honest facilitator outputs the same map proposer -> proposal, holding at least n - t proposals, among them the
 * proposals of at least n - 2t honest facilitators. It is built from one Bracha reliable broadcast per proposer and
 * one binary Byzantine agreement per proposer (HoneyBadgerBFT's composition).
 *
 * The machine is pure: `acsStep(state, event)` returns the next state and what to send, never touches a clock, a
 * random source or a socket, and never mutates `state`. Messages to this facilitator itself are handled inside the
 * step (they never appear in the outbox). Whatever a Byzantine peer sends is checked and dropped when it does not
 * fit; the step never throws on network input.
 */
import type { AcsMessage } from './acs-messages.js'

/** Decides the common coin of agreement `instance` (proposer index) in its round `round` (0, 1, ...). */
export type CommonCoin = (instance: number, round: number) => boolean

export interface AcsConfig {
  /** Facilitator ids (lowercase hex public keys), distinct; index in this list = instance number. */
  readonly participants: readonly string[]
  /** This facilitator; one of `participants`. */
  readonly self: string
  /** t, the Byzantine facilitators tolerated; requires participants.length >= 3t + 1. */
  readonly faults: number
  readonly coin: CommonCoin
  /** SHA-256 (from @constellation/crypto); used to commit to proposals in ECHO and READY. */
  readonly digest: (value: Uint8Array) => Uint8Array
  /** Largest proposal accepted, in bytes. */
  readonly maxProposalBytes: number
}

/** A message to send: to one facilitator, or to every other participant ('all'). */
export interface AcsOutgoing {
  readonly to: string | 'all'
  readonly message: AcsMessage
}

/** What drives the machine: this facilitator's own proposal, or a message a peer sent. */
export type AcsEvent =
  | { readonly type: 'propose'; readonly value: Uint8Array }
  | { readonly type: 'message'; readonly from: string; readonly message: AcsMessage }

/** The agreed subset: proposer id -> proposal, in participant order. */
export interface AcsOutput {
  readonly proposals: ReadonlyMap<string, Uint8Array>
}

/** Why the machine ignored a message from the network (counted, never thrown). */
export type AcsDropReason =
  /** Not an AcsMessage at all (wrong kind, missing or extra fields, wrong types). */
  | 'malformed'
  /** The sender is not a participant, or claims to be this facilitator. */
  | 'unknown-sender'
  /** The instance is not a participant index. */
  | 'instance-out-of-range'
  /** A proposal over maxProposalBytes. */
  | 'oversized-value'
  /** INIT from someone other than the instance's proposer. */
  | 'not-proposer'
  /** A second INIT/ECHO/READY/AUX/CONF/TERM from one sender in one instance (and round), or a repeated request. */
  | 'duplicate'
  /** An agreement message for a round further ahead than the window this facilitator buffers. */
  | 'round-too-far'
  /** An AUX or CONF for a round this facilitator has already left, or any round message after deciding. */
  | 'stale-round'
  /** A VALUE whose digest is not the one 2t + 1 READY messages committed to. */
  | 'digest-mismatch'
  /** A VALUE nobody asked for (delivered already, or no READY quorum yet). */
  | 'unsolicited-value'

export interface AgreementProgress {
  readonly instance: number
  /** The value this facilitator input, once it has. */
  readonly input?: boolean
  readonly round: number
  readonly decided?: boolean
}

/** A read-only summary of a machine, for diagnostics and the explorer. */
export interface AcsProgress {
  readonly self: string
  readonly proposed: boolean
  /** Instances whose reliable broadcast this facilitator delivered, ascending. */
  readonly delivered: readonly number[]
  readonly agreements: readonly AgreementProgress[]
  /** The highest agreement round any instance has reached here. */
  readonly highestRound: number
  readonly output: boolean
  readonly dropped: Readonly<Record<AcsDropReason, number>>
}
