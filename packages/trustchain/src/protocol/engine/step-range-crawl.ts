/**
 * A range crawl (`TrustChainNode.crawl`: say, the fragment another module needs to prove a transaction final): a
 * range of a chain from one peer, then, from the same peer and by the shared crawl rounds, what the ledger names
 * missing for its blocks — often the proposals its agreements answer, from chains never seen here, which the peer
 * holds since it checked them before it signed. It ends with the outcome of each block of the range as the latest
 * round left it; a request that fails, or an answer that is not blocks, ends it with that failure.
 */
import { TrustChainError, TrustChainErrorCode } from '../../errors.js'
import type { IngestOutcome } from '../../ledger/ledger.js'
import { positionKey } from '../../store/position-key.js'
import { heldOf } from './crawl-plan.js'
import { beginRound, collectAnswer, nextTargets, roundRequests } from './crawl-rounds.js'
import type { EngineConfig } from './engine-config.js'
import type { Correlation, DecodedResponse, EngineEvent, StepResult } from './engine-events.js'
import { type EngineState, type RangeCrawl, withMap } from './engine-state.js'

export function beginRangeCrawl(state: EngineState, event: Extract<EngineEvent, { type: 'crawl' }>): StepResult {
  const crawl: RangeCrawl = { peer: event.peer, asked: [], slots: new Map(), crawls: 0, held: [], round: { awaiting: 1, fetched: [] } }
  return {
    state: { ...state, rangeCrawls: withMap(state.rangeCrawls, event.requestId, crawl) },
    effects: [
      {
        type: 'request',
        peer: event.peer,
        request: { type: 'crawl', publicKey: event.publicKey, from: event.from, to: event.to },
        correlation: { kind: 'range-crawl', requestId: event.requestId, round: 0 },
      },
    ],
  }
}

export function onRangeCrawlResponse(
  state: EngineState,
  correlation: Extract<Correlation, { kind: 'range-crawl' }>,
  response: DecodedResponse | undefined,
  error: unknown,
): StepResult {
  const { requestId } = correlation
  const crawl = state.rangeCrawls.get(requestId)
  if (crawl?.round === undefined || crawl.crawls !== correlation.round) return { state, effects: [] }
  if (response?.type !== 'blocks') {
    const failure = error ?? new TrustChainError(TrustChainErrorCode.MALFORMED_MESSAGE, 'the peer did not answer the crawl with blocks')
    return {
      state: { ...state, rangeCrawls: withMap(state.rangeCrawls, requestId, undefined) },
      effects: [{ type: 'settle-crawl', requestId, settlement: { ok: false, error: failure } }],
    }
  }
  const collected = collectAnswer(crawl, correlation.round, response.blocks)
  if (collected === undefined) return { state, effects: [] }
  return {
    state: { ...state, rangeCrawls: withMap(state.rangeCrawls, requestId, collected.search) },
    effects: collected.ingest === undefined ? [] : [{ type: 'ingest', blocks: collected.ingest, purpose: { kind: 'range-crawl', requestId } }],
  }
}

export function onRangeCrawlIngested(config: EngineConfig, state: EngineState, requestId: number, outcomes: readonly IngestOutcome[]): StepResult {
  const crawl = state.rangeCrawls.get(requestId)
  if (crawl === undefined) return { state, effects: [] }
  const { asked, slots } = crawl.crawls === 0 ? rangeOutcomes(outcomes) : laterOutcomes(crawl, outcomes)
  const targets = nextTargets(config, crawl, outcomes)
  if (targets.length === 0) {
    return {
      state: { ...state, rangeCrawls: withMap(state.rangeCrawls, requestId, undefined) },
      effects: [{ type: 'settle-crawl', requestId, settlement: { ok: true, outcomes: [...asked] } }],
    }
  }
  const next = beginRound({ ...crawl, asked, slots }, targets, heldOf(outcomes))
  return {
    state: { ...state, rangeCrawls: withMap(state.rangeCrawls, requestId, next) },
    effects: roundRequests(config, crawl.peer, targets, { kind: 'range-crawl', requestId, round: next.crawls }),
  }
}

/** The range's own outcomes: one per block asked for, each block's slot by its position. */
function rangeOutcomes(outcomes: readonly IngestOutcome[]): Pick<RangeCrawl, 'asked' | 'slots'> {
  const slots = new Map(
    outcomes.flatMap((outcome, slot) =>
      outcome.block === undefined ? [] : [[positionKey(outcome.block.publicKey, outcome.block.sequenceNumber), slot] as const],
    ),
  )
  return { asked: [...outcomes], slots }
}

/** A later round's outcomes: a block of the range refused before and taken in now has its slot updated. */
function laterOutcomes(crawl: RangeCrawl, outcomes: readonly IngestOutcome[]): Pick<RangeCrawl, 'asked' | 'slots'> {
  const asked = [...crawl.asked]
  for (const outcome of outcomes) {
    const slot = outcome.block === undefined ? undefined : crawl.slots.get(positionKey(outcome.block.publicKey, outcome.block.sequenceNumber))
    if (slot !== undefined) asked[slot] = outcome
  }
  return { asked, slots: crawl.slots }
}
