/**
 * `response`: a peer answered one of our requests (or the request failed). A crawl answer goes to the round it
 * belongs to; the answer to our proposal is a refusal, which fails the proposal, or an agreement, which completes it
 * once the ledger has validated and stored it (see `step-ingested.ts`).
 */
import type { HalfBlock } from '../../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../../errors.js'
import { collectAnswer } from './crawl-rounds.js'
import type { DecodedResponse, EngineEvent, StepResult } from './engine-events.js'
import { type EngineState, withMap } from './engine-state.js'
import { answers } from './step-shared.js'
import { onRangeCrawlResponse } from './step-range-crawl.js'

/** The blocks an answer brought; a failed or malformed answer brings none, and its round moves on all the same. */
const blocksOf = (response: DecodedResponse | undefined): readonly HalfBlock[] => (response?.type === 'blocks' ? response.blocks : [])

export function onResponse(state: EngineState, event: Extract<EngineEvent, { type: 'response' }>): StepResult {
  const { correlation, response } = event
  switch (correlation.kind) {
    case 'crawl': {
      // Even empty or failed crawls move on: the policy decides on what is known.
      const collected = collectAnswer(state.sessions.get(correlation.id), correlation.round, blocksOf(response))
      if (collected === undefined) return { state, effects: [] }
      return {
        state: { ...state, sessions: withMap(state.sessions, correlation.id, collected.search) },
        effects: collected.ingest === undefined ? [] : [{ type: 'ingest', blocks: collected.ingest, purpose: { kind: 'crawled', id: correlation.id } }],
      }
    }
    case 'agreement-crawl': {
      const collected = collectAnswer(state.proposals.get(correlation.id), correlation.round, blocksOf(response))
      if (collected === undefined) return { state, effects: [] }
      return {
        state: { ...state, proposals: withMap(state.proposals, correlation.id, collected.search) },
        effects: collected.ingest === undefined ? [] : [{ type: 'ingest', blocks: collected.ingest, purpose: { kind: 'agreement', id: correlation.id } }],
      }
    }
    case 'range-crawl':
      return onRangeCrawlResponse(state, correlation, response, event.error)
    case 'proposal':
      return onProposalAnswer(state, correlation.id, response)
  }
}

function onProposalAnswer(state: EngineState, id: string, response: DecodedResponse | undefined): StepResult {
  const pending = state.proposals.get(id)
  if (pending === undefined || response === undefined) return { state, effects: [] }
  if (response.type === 'rejected') {
    const error = new TrustChainError(TrustChainErrorCode.PROPOSAL_REJECTED, `the counterparty refused: ${response.reasons.join(', ')}`, {
      code: response.code,
      reasons: response.reasons,
    })
    return {
      state: { ...state, proposals: withMap(state.proposals, id, undefined) },
      effects: [{ type: 'settle', requestId: pending.requestId, settlement: { ok: false, error } }],
    }
  }
  if (response.type === 'agreement' && answers(pending, response.agreement)) {
    return { state, effects: [{ type: 'ingest', blocks: [response.agreement], purpose: { kind: 'agreement', id } }] }
  }
  return { state, effects: [] }
}
