/**
 * `tick`: time passed. Our proposals past their deadline fail with PROPOSAL_TIMEOUT, those due for a retry are sent
 * again (with the next backoff), and signing sessions past their deadline are refused.
 */
import { TrustChainError, TrustChainErrorCode } from '../../errors.js'
import { backoff, nextRandom } from './backoff.js'
import { type EngineConfig, sessionTimeoutOf } from './engine-config.js'
import type { EngineEffect, StepResult } from './engine-events.js'
import { type EngineState, withMap } from './engine-state.js'
import { endSession, rejected, wakeEffects } from './step-shared.js'

export function tick(config: EngineConfig, state: EngineState, now: number): StepResult {
  const effects: EngineEffect[] = []
  let proposals = state.proposals
  let random = state.random
  for (const [id, pending] of state.proposals) {
    if (now >= pending.deadline) {
      proposals = withMap(proposals, id, undefined)
      const error = new TrustChainError(TrustChainErrorCode.PROPOSAL_TIMEOUT, `no agreement within ${config.retry.deadlineMs} ms`, {
        counterparty: pending.counterparty,
        attempts: pending.attempts,
      })
      effects.push({ type: 'settle', requestId: pending.requestId, settlement: { ok: false, error } })
    } else if (now >= pending.nextAttemptAt) {
      const [r, nextState] = nextRandom(random)
      random = nextState
      const attempts = pending.attempts + 1
      proposals = withMap(proposals, id, { ...pending, attempts, nextAttemptAt: now + backoff(config, attempts, r) })
      effects.push({
        type: 'request',
        peer: pending.counterparty,
        request: { type: 'proposal', block: pending.proposal },
        correlation: { kind: 'proposal', id },
      })
    }
  }
  let next: EngineState = { ...state, proposals, random }
  for (const [id, session] of state.sessions) {
    if (now < session.deadline) continue
    const ended = endSession(next, id, rejected(TrustChainErrorCode.PROPOSAL_TIMEOUT, [`no decision within ${sessionTimeoutOf(config)} ms`]))
    next = ended.state
    effects.push(...ended.effects)
  }
  return { state: next, effects: [...effects, ...wakeEffects(next)] }
}
