/**
 * The outcome of storing a block of our own chain. Stored, it settles what made it: a checkpoint request is settled
 * and the block broadcast; an agreement answers every copy of its request and both halves are broadcast. Own blocks
 * are valid by construction, but the ledger may still refuse one (a clock-skew limit against a head stamped in the
 * future, say): then the head goes back to what it was, the request that made the block fails with the ledger's
 * typed error, and the node keeps running.
 */
import { equalBytes } from '@constellation/crypto'
import { blockHash } from '../../block/block-encoding.js'
import type { IngestOutcome } from '../../ledger/ledger.js'
import type { EngineConfig } from './engine-config.js'
import type { EngineEffect, IngestPurpose, StepResult } from './engine-events.js'
import { type EngineState, withMap } from './engine-state.js'
import { endSession, rejected, wakeEffects } from './step-shared.js'

export function onOwnIngested(
  config: EngineConfig,
  state: EngineState,
  purpose: Extract<IngestPurpose, { kind: 'own' }>,
  outcomes: readonly IngestOutcome[],
): StepResult {
  const failed = outcomes.find((outcome) => outcome.status === 'rejected')
  if (failed !== undefined && failed.status === 'rejected') {
    const head = failed.block !== undefined && equalBytes(blockHash(config.crypto, failed.block), state.head.hash) ? purpose.previousHead : state.head
    let next: EngineState = { ...state, head }
    const effects: EngineEffect[] = []
    if (purpose.proposal !== undefined) {
      const pending = next.proposals.get(purpose.proposal)
      if (pending !== undefined) {
        next = { ...next, proposals: withMap(next.proposals, purpose.proposal, undefined) }
        effects.push({ type: 'settle', requestId: pending.requestId, settlement: { ok: false, error: failed.error } })
      }
    }
    if (purpose.session !== undefined) {
      const ended = endSession(next, purpose.session, rejected(failed.error.code, [failed.error.message]))
      next = ended.state
      effects.push(...ended.effects)
    }
    if (purpose.checkpoint !== undefined)
      effects.push({ type: 'settle-checkpoint', requestId: purpose.checkpoint, settlement: { ok: false, error: failed.error } })
    return { state: next, effects: [...effects, ...wakeEffects(next)] }
  }
  if (purpose.checkpoint !== undefined) {
    const stored = outcomes[0]
    if (stored === undefined || stored.status === 'rejected') return { state, effects: [] }
    return {
      state,
      effects: [
        { type: 'settle-checkpoint', requestId: purpose.checkpoint, settlement: { ok: true, checkpoint: stored.block } },
        { type: 'broadcast', blocks: [stored.block] },
      ],
    }
  }
  if (purpose.session === undefined) return { state, effects: [] }
  const session = state.sessions.get(purpose.session)
  if (session?.agreement === undefined) return { state, effects: [] }
  const { proposal, agreement } = session
  const ended = endSession(state, purpose.session, { type: 'agreement', proposal, agreement })
  return {
    state: ended.state,
    effects: [...ended.effects, { type: 'delivered', proposal, agreement }, { type: 'broadcast', blocks: [proposal, agreement] }],
  }
}
