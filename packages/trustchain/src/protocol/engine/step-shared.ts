/**
 * Small transitions several steps share: naming a proposal, refusing, ending a signing session, asking to be woken,
 * and telling which agreement answers which proposal.
 */
import { toHex } from '@constellation/crypto'
import { blockHash } from '../../block/block-encoding.js'
import { type HalfBlock, isAgreement } from '../../block/half-block.js'
import type { EngineConfig } from './engine-config.js'
import type { DecodedResponse, EngineEffect, StepResult } from './engine-events.js'
import { type EngineState, type PendingProposal, withMap } from './engine-state.js'

/** A proposal's id in the engine state: its hash, in hex. */
export const idOf = (config: EngineConfig, block: HalfBlock): string => toHex(blockHash(config.crypto, block))

export const rejected = (code: string, reasons: readonly string[]): DecodedResponse => ({ type: 'rejected', code, reasons: [...reasons] })

/** The earliest moment a pending proposal or a session needs attention, as a wake effect. */
export function wakeEffects(state: EngineState): EngineEffect[] {
  let at = Number.POSITIVE_INFINITY
  for (const pending of state.proposals.values()) at = Math.min(at, pending.nextAttemptAt, pending.deadline)
  for (const session of state.sessions.values()) at = Math.min(at, session.deadline)
  return Number.isFinite(at) ? [{ type: 'wake', at }] : []
}

/** Ends the session `id`, answering every copy of its request with `response`. */
export function endSession(state: EngineState, id: string, response: DecodedResponse): StepResult {
  const session = state.sessions.get(id)
  if (session === undefined) return { state, effects: [] }
  return {
    state: { ...state, sessions: withMap(state.sessions, id, undefined) },
    effects: session.replyIds.map((replyId): EngineEffect => ({ type: 'reply', replyId, response })),
  }
}

/** True when `agreement` is this position's agreement to `proposal`. */
export function answersProposal(proposal: HalfBlock, agreement: HalfBlock): boolean {
  return (
    isAgreement(agreement) &&
    toHex(agreement.publicKey) === toHex(proposal.linkPublicKey) &&
    agreement.linkSequenceNumber === proposal.sequenceNumber &&
    toHex(agreement.linkPublicKey) === toHex(proposal.publicKey)
  )
}

/** True when `agreement` answers our pending proposal. */
export function answers(pending: PendingProposal, agreement: HalfBlock): boolean {
  return (
    isAgreement(agreement) &&
    toHex(agreement.publicKey) === pending.counterparty &&
    agreement.linkSequenceNumber === pending.proposal.sequenceNumber &&
    toHex(agreement.linkPublicKey) === toHex(pending.proposal.publicKey)
  )
}
