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
