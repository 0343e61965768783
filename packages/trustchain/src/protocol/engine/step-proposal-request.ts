/**
 * `proposal-request`: a peer asks us to countersign its proposal. A proposal not addressed to us, or stamped too far
 * ahead, is refused at once; a copy of a proposal being decided joins its session; past the per-peer bound a new one
 * is refused; otherwise a signing session begins by validating the proposal (see `step-ingested.ts`).
 */
import { toHex } from '@constellation/crypto'
import { isProposal } from '../../block/half-block.js'
import { TrustChainErrorCode } from '../../errors.js'
import { ValidationReason } from '../../validation/validation-result.js'
import { type EngineConfig, maxSessionsPerPeerOf, sessionTimeoutOf } from './engine-config.js'
import type { EngineEvent, StepResult } from './engine-events.js'
import { type EngineState, withMap } from './engine-state.js'
import { idOf, rejected, wakeEffects } from './step-shared.js'

export function onProposalRequest(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'proposal-request' }>): StepResult {
  const { proposal } = event
  if (!isProposal(proposal) || toHex(proposal.linkPublicKey) !== state.self) {
    return {
      state,
      effects: [{ type: 'reply', replyId: event.replyId, response: rejected(TrustChainErrorCode.PROPOSAL_REJECTED, ['not a proposal to this node']) }],
    }
  }
  if (config.maxClockSkewMs !== undefined && proposal.timestamp > event.now + config.maxClockSkewMs) {
    return {
      state,
      effects: [{ type: 'reply', replyId: event.replyId, response: rejected(TrustChainErrorCode.INVALID_BLOCK, [ValidationReason.TIMESTAMP_IN_FUTURE]) }],
    }
  }
  const id = idOf(config, proposal)
  const session = state.sessions.get(id)
  if (session !== undefined) {
    return { state: { ...state, sessions: withMap(state.sessions, id, { ...session, replyIds: [...session.replyIds, event.replyId] }) }, effects: [] }
  }
  let open = 0
  for (const other of state.sessions.values()) if (other.from === event.from) open++
  if (open >= maxSessionsPerPeerOf(config)) {
    return {
      state,
      effects: [
        { type: 'reply', replyId: event.replyId, response: rejected(TrustChainErrorCode.PROPOSAL_REJECTED, ['too many open proposals from this peer']) },
      ],
    }
  }
  const deadline = event.now + sessionTimeoutOf(config)
  const next: EngineState = {
    ...state,
    sessions: withMap(state.sessions, id, { proposal, from: event.from, replyIds: [event.replyId], crawls: 0, held: [], deadline }),
  }
  return {
    state: next,
    effects: [{ type: 'ingest', blocks: [proposal], purpose: { kind: 'incoming-proposal', id }, findOwnAgreement: proposal }, ...wakeEffects(next)],
  }
}
