/**
 * `checkpoint`: a checkpoint block the node's user asks for, committing to a consensus result. It is appended at
 * the head like a proposal, one event at a time, so it never shares a sequence number with a proposal or an
 * agreement; it is settled and broadcast once the ledger has stored it (see `step-own-ingested.ts`).
 */
import { HASH_LENGTH } from '@constellation/crypto'
import { advanceHead, createCheckpoint } from '../../block/block-builder.js'
import { TrustChainError, TrustChainErrorCode } from '../../errors.js'
import { authorOf, type EngineConfig } from './engine-config.js'
import type { EngineEvent, StepResult } from './engine-events.js'
import type { EngineState } from './engine-state.js'

export function checkpoint(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'checkpoint' }>): StepResult {
  const fail = (message: string): StepResult => ({
    state,
    effects: [
      {
        type: 'settle-checkpoint',
        requestId: event.requestId,
        settlement: { ok: false, error: new TrustChainError(TrustChainErrorCode.INVALID_INPUT, message) },
      },
    ],
  })
  if (!(event.consensusResultHash instanceof Uint8Array) || event.consensusResultHash.length !== HASH_LENGTH) {
    return fail(`the consensus result hash must be ${HASH_LENGTH} bytes`)
  }
  if (!Number.isSafeInteger(event.round) || event.round < 0) return fail(`the round must be a non-negative safe integer, got ${event.round}`)
  const block = createCheckpoint(authorOf(config), state.head, {
    consensusResultHash: event.consensusResultHash,
    round: event.round,
    timestamp: event.now,
  })
  // Persisted before anyone hears of it, as every own block.
  return {
    state: { ...state, head: advanceHead(config.crypto, state.head, block) },
    effects: [{ type: 'ingest', blocks: [block], purpose: { kind: 'own', previousHead: state.head, checkpoint: event.requestId } }],
  }
}
