/**
 * Docking: a proven fault (a fraud proof, an equivocation in consensus, a broken SLA that was signed for) costs
 * the meme a configured share of its score before the next election.
 *
 * The penalty is deliberately not healed by time: an idle docked meme stays docked. Only rounds in which the meme
 * had a good outcome heal it, each one shrinking the penalty by `2^(-1 / recoveryHalfLife)` however many good
 * observations it held, so a faulty participant has to serve well for rounds again to be trusted again, and a
 * flood of good reports in one round buys no more than one round's healing.
 */
import { assertObject, assertPositive, assertRange } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import type { Meme } from './meme.js'

export interface DockingPolicySpec {
  /** Share of the score taken by one proven fault, in (0, 1): faults compound as `1 - (1 - p1)(1 - p2)`. */
  readonly penalty: number
  /** Rounds with a good outcome that halve the penalty. */
  readonly recoveryHalfLife: number
}

export interface DockingPolicy extends DockingPolicySpec {
  /** Factor applied to the penalty by one round with a good outcome. */
  readonly healFactor: number
}

/** Evidence that a meme misbehaved, checked by the caller (e.g. a verified fraud proof); only its id is used here. */
export interface ProvenFault {
  readonly memeId: string
  /** What was proven: 'double-sign', 'equivocation', 'sla-breach'... recorded for the caller, not interpreted. */
  readonly kind: string
  /** Optional reference to the evidence (a hash of the proof), kept for the caller's audit trail. */
  readonly evidence?: string
}

export function defineDockingPolicy(spec: DockingPolicySpec): DockingPolicy {
  assertObject(spec, 'docking policy')
  assertRange(spec.penalty, 'docking.penalty', Number.MIN_VALUE, 1 - Number.EPSILON)
  assertPositive(spec.recoveryHalfLife, 'docking.recoveryHalfLife')
  return Object.freeze({
    penalty: spec.penalty,
    recoveryHalfLife: spec.recoveryHalfLife,
    healFactor: 2 ** (-1 / spec.recoveryHalfLife),
  })
}

export function assertDockingPolicy(value: unknown): asserts value is DockingPolicy {
  const v = value as Partial<DockingPolicy> | null
  if (typeof v !== 'object' || v === null || typeof v.healFactor !== 'number' || typeof v.penalty !== 'number') {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, 'docking must be a policy made by defineDockingPolicy')
  }
}

/**
 * The meme after one proven fault: its penalty compounds and the fault is counted. After enough faults the
 * penalty rounds to exactly 1 (a score of 0), which every check and the stored-state codec accept.
 */
export function dockMeme(docking: DockingPolicy, meme: Meme): Meme {
  assertDockingPolicy(docking)
  return {
    ...meme,
    penalty: 1 - (1 - meme.penalty) * (1 - docking.penalty),
    history: { ...meme.history, provenFaults: meme.history.provenFaults + 1 },
  }
}
