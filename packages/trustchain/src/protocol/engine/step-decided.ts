/**
 * `decided`: the signing policy's answer on a proposal to us. A no ends the session with a refusal; a yes signs our
 * agreement on the head, which is stored before anyone hears of it: an agreement sent but lost in a crash could be
 * signed twice. Every copy of the request is answered once the ledger has stored it (see `step-own-ingested.ts`).
 */
import { advanceHead, createAgreement } from '../../block/block-builder.js'
import type { HalfBlock } from '../../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../../errors.js'
import { authorOf, type EngineConfig } from './engine-config.js'
import type { EngineEvent, StepResult } from './engine-events.js'
import { type EngineState, withMap } from './engine-state.js'
import { endSession, rejected } from './step-shared.js'

export function onDecided(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'decided' }>): StepResult {
  const session = state.sessions.get(event.id)
  if (session === undefined) return { state, effects: [] }
  if (!event.accept) return endSession(state, event.id, rejected(TrustChainErrorCode.PROPOSAL_REJECTED, ['policy']))
  let agreement: HalfBlock
  try {
    agreement = createAgreement(authorOf(config), state.head, session.proposal, {
      // Never before the proposal, never before our own newest block.
      timestamp: Math.max(event.now, session.proposal.timestamp),
    })
  } catch (error) {
    // E.g. a transfer that would take our balance past the largest safe integer: refuse it, do not fail the node.
    if (!(error instanceof TrustChainError)) throw error
    return endSession(state, event.id, rejected(error.code, [error.message]))
  }
  return {
    state: {
      ...state,
      head: advanceHead(config.crypto, state.head, agreement),
      sessions: withMap(state.sessions, event.id, { ...session, agreement }),
    },
    effects: [{ type: 'ingest', blocks: [agreement], purpose: { kind: 'own', previousHead: state.head, session: event.id } }],
  }
}
