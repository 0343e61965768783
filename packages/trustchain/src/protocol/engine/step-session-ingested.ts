/**
 * A signing session after an ingest: the proposal to us was validated (`incoming-proposal`), or a crawl round of
 * the proposer's chain was taken in (`crawled`).
 *
 * While the ledger names blocks missing before the proposal, the proposer is crawled for them (the shared crawl
 * rounds); then the proposal is validated again with what the crawls brought. A refused proposal ends the session
 * with the ledger's reasons; a proposal we answered already gets that very agreement again (never a second one);
 * otherwise the signing policy decides.
 */
import type { HalfBlock } from '../../block/half-block.js'
import { TrustChainErrorCode } from '../../errors.js'
import { ValidationLevel } from '../../validation/validation-result.js'
import { heldOf, type MissingRun, missingOf } from './crawl-plan.js'
import { beginRound, nextTargets, roundRequests } from './crawl-rounds.js'
import { type EngineConfig, maxCrawlRoundsOf } from './engine-config.js'
import type { EngineEvent, IngestPurpose, StepResult } from './engine-events.js'
import { type EngineState, type SigningSession, withMap } from './engine-state.js'
import { answersProposal, endSession, rejected } from './step-shared.js'

export function onSessionIngested(
  config: EngineConfig,
  state: EngineState,
  purpose: Extract<IngestPurpose, { kind: 'incoming-proposal' | 'crawled' }>,
  event: Extract<EngineEvent, { type: 'ingested' }>,
): StepResult {
  const session = state.sessions.get(purpose.id)
  if (session === undefined) return { state, effects: [] }
  if (purpose.kind === 'crawled') {
    // Blocks the ledger could not check yet wait for their dependencies, all fetched in the next round. (The ledger
    // already retried them after each block it stored, so trying them again before that round brings nothing.)
    // When no round is left or needed, the proposal is validated again with what the crawls brought.
    const targets = nextTargets(config, session, event.outcomes)
    if (targets.length > 0) return crawlFor(config, state, purpose.id, session, targets, heldOf(event.outcomes))
    return {
      state: { ...state, sessions: withMap(state.sessions, purpose.id, { ...session, held: [] }) },
      effects: [{ type: 'ingest', blocks: [session.proposal], purpose: { kind: 'incoming-proposal', id: purpose.id }, findOwnAgreement: session.proposal }],
    }
  }
  const outcome = event.outcomes[0]
  const missing = outcome === undefined ? undefined : missingOf(outcome)
  if (missing !== undefined && session.crawls < maxCrawlRoundsOf(config)) return crawlFor(config, state, purpose.id, session, [missing], [])
  // The outcome comes first: a fork of a proposal we answered is refused (double sign), never handed our agreement
  // to the block that used to sit at its position.
  if (outcome === undefined || outcome.status === 'rejected') {
    const reasons =
      outcome?.status === 'rejected' ? ((outcome.error.detail.reasons as readonly string[] | undefined) ?? [outcome.error.message]) : ['not stored']
    return endSession(state, purpose.id, rejected(outcome?.status === 'rejected' ? outcome.error.code : TrustChainErrorCode.INVALID_BLOCK, reasons))
  }
  if (event.ownAgreement !== undefined) {
    // Reused only for the very proposal we signed: the shell found it by the proposal's hash, checked again here.
    if (event.ownAgreementTo !== purpose.id || !answersProposal(session.proposal, event.ownAgreement)) {
      return endSession(state, purpose.id, rejected(TrustChainErrorCode.PROPOSAL_REJECTED, ['already answered another proposal at this position']))
    }
    return endSession(state, purpose.id, { type: 'agreement', proposal: session.proposal, agreement: event.ownAgreement })
  }
  const gapBefore =
    outcome.validation.level === ValidationLevel.PARTIAL_PREVIOUS ||
    outcome.validation.level === ValidationLevel.PARTIAL ||
    outcome.validation.level === ValidationLevel.NO_INFO
  if (gapBefore && session.crawls === 0 && session.proposal.sequenceNumber > 1) {
    // A block without value stored after a gap (the ledger names nothing missing for it): the stretch before it.
    const before = session.proposal.sequenceNumber - 1
    return crawlFor(
      config,
      state,
      purpose.id,
      session,
      [{ publicKey: session.proposal.publicKey, sequenceNumber: before, from: Math.max(1, before - config.maxCrawlBlocks + 1) }],
      [],
    )
  }
  return {
    state,
    effects: [{ type: 'decide', id: purpose.id, from: session.from, proposal: session.proposal, validation: outcome.validation }],
  }
}

/** The session with a crawl round of the proposer begun for `targets`. */
function crawlFor(
  config: EngineConfig,
  state: EngineState,
  id: string,
  session: SigningSession,
  targets: readonly MissingRun[],
  held: readonly HalfBlock[],
): StepResult {
  const next = beginRound(session, targets, held)
  return {
    state: { ...state, sessions: withMap(state.sessions, id, next) },
    effects: roundRequests(config, session.from, targets, { kind: 'crawl', id, round: next.crawls }),
  }
}
