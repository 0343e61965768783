/**
 * `ingested`: the ledger's outcomes for an ingest effect. Any agreement that reached the store, by whatever path,
 * completes our proposal it answers. Then the purpose of the ingest says what follows: an own block settles what made
 * it, an agreement the ledger could not check yet brings a crawl of what it depends on, a signing session moves on
 * (`step-session-ingested.ts`), and a range crawl plans its next round.
 */
import { isAgreement, type HalfBlock } from '../../block/half-block.js'
import type { IngestOutcome } from '../../ledger/ledger.js'
import { heldOf } from './crawl-plan.js'
import { beginRound, nextTargets, roundRequests } from './crawl-rounds.js'
import type { EngineConfig } from './engine-config.js'
import type { EngineEvent, StepResult } from './engine-events.js'
import { type EngineState, withMap } from './engine-state.js'
import { answers } from './step-shared.js'
import { onOwnIngested } from './step-own-ingested.js'
import { onRangeCrawlIngested } from './step-range-crawl.js'
import { onSessionIngested } from './step-session-ingested.js'

export function onIngested(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'ingested' }>): StepResult {
  let result: StepResult = { state, effects: [] }
  for (const outcome of event.outcomes) {
    if (outcome.status === 'rejected' || !isAgreement(outcome.block)) continue
    for (const [id, pending] of result.state.proposals) {
      if (answers(pending, outcome.block)) {
        const done = complete(result.state, id, outcome.block)
        result = { state: done.state, effects: [...result.effects, ...done.effects] }
      }
    }
  }
  const next = afterIngest(config, result.state, event)
  return { state: next.state, effects: [...result.effects, ...next.effects] }
}

function afterIngest(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'ingested' }>): StepResult {
  const { purpose } = event
  switch (purpose.kind) {
    case 'own':
      return onOwnIngested(config, state, purpose, event.outcomes)
    case 'agreement':
      return crawlForAgreement(config, state, purpose.id, event.outcomes)
    case 'incoming-proposal':
    case 'crawled':
      return onSessionIngested(config, state, purpose, event)
    case 'range-crawl':
      return onRangeCrawlIngested(config, state, purpose.requestId, event.outcomes)
    case 'gossip':
      return { state, effects: [] }
  }
}

/** Completes our proposal `id` with `agreement`, once. */
function complete(state: EngineState, id: string, agreement: HalfBlock): StepResult {
  const pending = state.proposals.get(id)
  if (pending === undefined) return { state, effects: [] }
  return {
    state: { ...state, proposals: withMap(state.proposals, id, undefined) },
    effects: [
      { type: 'settle', requestId: pending.requestId, settlement: { ok: true, proposal: pending.proposal, agreement } },
      { type: 'delivered', proposal: pending.proposal, agreement },
      { type: 'broadcast', blocks: [pending.proposal, agreement] },
    ],
  }
}

/**
 * An agreement the ledger could not check yet (the counterparty's earlier blocks are unknown here): what it names is
 * fetched from the counterparty, a bounded number of times, then the agreement is tried again.
 */
function crawlForAgreement(config: EngineConfig, state: EngineState, id: string, outcomes: readonly IngestOutcome[]): StepResult {
  const pending = state.proposals.get(id)
  if (pending === undefined) return { state, effects: [] }
  const targets = nextTargets(config, pending, outcomes)
  if (targets.length === 0) return { state, effects: [] }
  const next = beginRound(pending, targets, heldOf(outcomes))
  return {
    state: { ...state, proposals: withMap(state.proposals, id, next) },
    effects: roundRequests(config, pending.counterparty, targets, { kind: 'agreement-crawl', id, round: next.crawls }),
  }
}
