/**
 * `propose`: a transaction the node's user starts. The proposal is checked against its payload kind (and, for a
 * transfer, the balance it states), signed on the own chain's head, stored before it is sent, sent to the
 * counterparty, and retried (see `step-tick.ts`) until an agreement, a refusal or the deadline.
 */
import { PUBLIC_KEY_LENGTH, toHex } from '@constellation/crypto'
import { advanceHead, createProposal, transferPayload } from '../../block/block-builder.js'
import type { HalfBlock } from '../../block/half-block.js'
import { transferOf } from '../../block/payloads.js'
import { TrustChainError, TrustChainErrorCode } from '../../errors.js'
import { backoff, nextRandom } from './backoff.js'
import { authorOf, type EngineConfig, registryOf } from './engine-config.js'
import type { EngineEvent, StepResult } from './engine-events.js'
import { type EngineState, type PendingProposal, withMap } from './engine-state.js'
import { idOf, wakeEffects } from './step-shared.js'

export function propose(config: EngineConfig, state: EngineState, event: Extract<EngineEvent, { type: 'propose' }>): StepResult {
  const fail = (error: TrustChainError): StepResult => ({
    state,
    effects: [{ type: 'settle', requestId: event.requestId, settlement: { ok: false, error } }],
  })
  if (!(event.counterparty instanceof Uint8Array) || event.counterparty.length !== PUBLIC_KEY_LENGTH) {
    return fail(new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `the counterparty must be a ${PUBLIC_KEY_LENGTH}-byte public key`))
  }
  const counterparty = toHex(event.counterparty)
  if (counterparty === state.self) return fail(new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'a node cannot transact with itself'))
  let proposal: HalfBlock
  try {
    const payload = 'transfer' in event.content ? transferPayload(state.head, event.content.transfer) : event.content.payload
    // Our own ledger would refuse a block whose payload does not fit its kind; refuse it here, before signing.
    const check = registryOf(config).check('tx', payload)
    if (!check.ok) {
      return fail(
        new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `the payload does not fit its kind: ${check.errors.join('; ')}`, { errors: check.errors }),
      )
    }
    // A transfer written by hand must state the balance our chain will have after it, as `{ transfer }` would.
    const transfer = transferOf('tx', payload)
    if (transfer !== undefined) {
      const expected = transferPayload(state.head, transfer.amount)
      if (expected.balance !== transfer.balance) {
        return fail(
          new TrustChainError(
            TrustChainErrorCode.INVALID_INPUT,
            `a transfer of ${transfer.amount} leaves a balance of ${expected.balance}, not ${transfer.balance}`,
            {
              expected: expected.balance,
            },
          ),
        )
      }
    }
    proposal = createProposal(authorOf(config), state.head, { counterparty: event.counterparty, payload, timestamp: event.now })
  } catch (error) {
    if (error instanceof TrustChainError) return fail(error)
    throw error
  }
  const id = idOf(config, proposal)
  const [random, nextState] = nextRandom(state.random)
  const pending: PendingProposal = {
    requestId: event.requestId,
    proposal,
    counterparty,
    attempts: 1,
    nextAttemptAt: event.now + backoff(config, 1, random),
    deadline: event.now + config.retry.deadlineMs,
    crawls: 0,
    held: [],
  }
  const next: EngineState = {
    ...state,
    head: advanceHead(config.crypto, state.head, proposal),
    proposals: withMap(state.proposals, id, pending),
    random: nextState,
  }
  return {
    state: next,
    effects: [
      { type: 'ingest', blocks: [proposal], purpose: { kind: 'own', previousHead: state.head, proposal: id } },
      { type: 'request', peer: counterparty, request: { type: 'proposal', block: proposal }, correlation: { kind: 'proposal', id } },
      ...wakeEffects(next),
    ],
  }
}
