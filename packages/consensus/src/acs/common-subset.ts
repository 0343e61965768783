/**
 * The asynchronous common subset (HoneyBadgerBFT's composition) as one pure state machine per facilitator.
 *
 * One reliable broadcast and one binary agreement per proposer. Delivering proposer j's broadcast inputs 1 to
 * agreement j (unless it already has an input); once n - t agreements have decided 1, every agreement still
 * without input gets 0. The output — proposer id -> proposal for every agreement that decided 1 — is reported once,
 * when every agreement has decided and every broadcast whose agreement decided 1 has delivered (reliable broadcast's
 * totality guarantees it will: some honest facilitator input 1, so it delivered). The machine keeps answering after
 * its output (ECHO/READY, VALUE requests, TERM) so slower facilitators finish too.
 *
 * A step copies the two instance arrays once (O(n)) and then only the instances it touches; messages this
 * facilitator sends itself are handled inside the same step, in order.
 */
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { AcsConfig, AcsDropReason, AcsEvent, AcsOutgoing, AcsOutput, AcsProgress } from './acs-api.js'
import { type AcsCommittee, acsCommittee } from './acs-committee.js'
import { type AcsMessage, isAcsMessage } from './acs-messages.js'
import { type BinaryAgreementState, initialBinaryAgreement, inputAgreement, receiveRoundMessage, receiveTerm } from './binary-agreement.js'
import {
  initialReliableBroadcast,
  receiveEcho,
  receiveInit,
  receiveReady,
  receiveValue,
  receiveValueRequest,
  type ReliableBroadcastState,
} from './reliable-broadcast.js'
import { type QueuedMessage, StepEffects } from './step-effects.js'

const DROP_REASONS: readonly AcsDropReason[] = [
  'malformed',
  'unknown-sender',
  'instance-out-of-range',
  'oversized-value',
  'not-proposer',
  'duplicate',
  'round-too-far',
  'stale-round',
  'digest-mismatch',
  'unsolicited-value',
]

export interface AcsState {
  readonly committee: AcsCommittee
  readonly proposed: boolean
  readonly broadcasts: readonly ReliableBroadcastState[]
  readonly agreements: readonly BinaryAgreementState[]
  /** Agreements decided 1 so far (n - t of them trigger the 0 inputs). */
  readonly decidedOnes: number
  readonly outputDone: boolean
  readonly dropped: Readonly<Record<AcsDropReason, number>>
}

export interface AcsStepResult {
  readonly state: AcsState
  readonly outbox: readonly AcsOutgoing[]
  /** Present on exactly one step: the one at which this facilitator's output became known. */
  readonly output?: AcsOutput
}

/** A fresh machine. Throws INVALID_COMMITTEE or INVALID_INPUT on a bad config. */
export function initialAcsState(config: AcsConfig): AcsState {
  const committee = acsCommittee(config)
  const { n } = committee
  return {
    committee,
    proposed: false,
    broadcasts: Array.from({ length: n }, () => initialReliableBroadcast(n)),
    agreements: Array.from({ length: n }, () => initialBinaryAgreement(n)),
    decidedOnes: 0,
    outputDone: false,
    dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<AcsDropReason, number>,
  }
}

/** The instance arrays of one step, copied once and then written in place. */
interface Draft {
  readonly committee: AcsCommittee
  readonly broadcasts: ReliableBroadcastState[]
  readonly agreements: BinaryAgreementState[]
  decidedOnes: number
}

function inputTo(draft: Draft, instance: number, value: boolean, fx: StepEffects): void {
  const agreement = draft.agreements[instance] as BinaryAgreementState
  if (agreement.input !== undefined) return
  setAgreement(draft, instance, inputAgreement(draft.committee, agreement, instance, value, fx), fx)
}

function setBroadcast(draft: Draft, instance: number, next: ReliableBroadcastState, fx: StepEffects): void {
  const before = draft.broadcasts[instance] as ReliableBroadcastState
  draft.broadcasts[instance] = next
  if (before.delivered === undefined && next.delivered !== undefined) inputTo(draft, instance, true, fx)
}

function setAgreement(draft: Draft, instance: number, next: BinaryAgreementState, fx: StepEffects): void {
  const before = draft.agreements[instance] as BinaryAgreementState
  draft.agreements[instance] = next
  if (before.decided === undefined && next.decided === true) {
    draft.decidedOnes++
    if (draft.decidedOnes === draft.committee.live) {
      for (let j = 0; j < draft.committee.n; j++) inputTo(draft, j, false, fx)
    }
  }
}

/** Dispatches one checked message to its instance. */
function handle(draft: Draft, from: number, message: AcsMessage, fx: StepEffects): void {
  const { committee } = draft
  const j = message.instance
  if (j >= committee.n) return fx.drop('instance-out-of-range')
  const broadcast = draft.broadcasts[j] as ReliableBroadcastState
  const agreement = draft.agreements[j] as BinaryAgreementState
  switch (message.kind) {
    case 'init':
      if (from !== j) return fx.drop('not-proposer')
      return setBroadcast(draft, j, receiveInit(committee, broadcast, j, message.value, fx), fx)
    case 'echo':
      return setBroadcast(draft, j, receiveEcho(committee, broadcast, j, from, message.digest, fx), fx)
    case 'ready':
      return setBroadcast(draft, j, receiveReady(committee, broadcast, j, from, message.digest, fx), fx)
    case 'value-request':
      return setBroadcast(draft, j, receiveValueRequest(broadcast, j, from, fx), fx)
    case 'value':
      return setBroadcast(draft, j, receiveValue(committee, broadcast, message.value, fx), fx)
    case 'bval':
    case 'aux':
    case 'conf':
      return setAgreement(draft, j, receiveRoundMessage(committee, agreement, j, from, message, fx), fx)
    case 'term':
      return setAgreement(draft, j, receiveTerm(committee, agreement, j, from, message.value, fx), fx)
  }
}

/** Checks a network message's sender and shape; the queued form if it may be handled. */
function admit(committee: AcsCommittee, event: Extract<AcsEvent, { type: 'message' }>, fx: StepEffects): QueuedMessage | undefined {
  const from = typeof event.from === 'string' ? committee.indexOf.get(event.from) : undefined
  if (from === undefined || from === committee.selfIndex) {
    fx.drop('unknown-sender')
    return undefined
  }
  const { message } = event
  if (!isAcsMessage(message, Number.MAX_SAFE_INTEGER)) {
    fx.drop('malformed')
    return undefined
  }
  if ((message.kind === 'init' || message.kind === 'value') && message.value.length > committee.config.maxProposalBytes) {
    fx.drop('oversized-value')
    return undefined
  }
  return { from, message }
}

function proposeChecked(state: AcsState, value: unknown): Uint8Array {
  if (state.proposed) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'this facilitator has already proposed in this ACS')
  if (!(value instanceof Uint8Array)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'a proposal must be a Uint8Array')
  const limit = state.committee.config.maxProposalBytes
  if (value.length > limit) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, `the proposal is ${value.length} bytes, over the limit of ${limit}`, {
      bytes: value.length,
      maxProposalBytes: limit,
    })
  }
  return value
}

function outputOf(draft: Draft): AcsOutput | undefined {
  const proposals = new Map<string, Uint8Array>()
  for (let j = 0; j < draft.committee.n; j++) {
    const decided = (draft.agreements[j] as BinaryAgreementState).decided
    if (decided === undefined) return undefined
    if (!decided) continue
    const delivered = (draft.broadcasts[j] as ReliableBroadcastState).delivered
    if (delivered === undefined) return undefined
    proposals.set(draft.committee.config.participants[j] as string, delivered)
  }
  return { proposals }
}

/**
 * One step: this facilitator's proposal or one peer message in, the next state and the messages to send out.
 * Throws only on API misuse (a second proposal, a proposal over the size limit); network input is checked and
 * dropped, counted in `acsProgress(state).dropped`.
 */
export function acsStep(state: AcsState, event: AcsEvent): AcsStepResult {
  const { committee } = state
  const fx = new StepEffects(committee.config.participants, committee.selfIndex)
  let proposed = state.proposed
  if (typeof event !== 'object' || event === null) {
    fx.drop('malformed')
  } else if (event.type === 'propose') {
    const value = proposeChecked(state, event.value)
    proposed = true
    fx.broadcast({ kind: 'init', instance: committee.selfIndex, value })
  } else {
    const admitted = event.type === 'message' ? admit(committee, event, fx) : undefined
    if (admitted !== undefined) fx.toSelf.push(admitted)
    else if (event.type !== 'message') fx.drop('malformed')
  }
  const draft: Draft = { committee, broadcasts: state.broadcasts.slice(), agreements: state.agreements.slice(), decidedOnes: state.decidedOnes }
  // Messages to self are appended while handling; handle them in order until none are left.
  for (let i = 0; i < fx.toSelf.length; i++) {
    const queued = fx.toSelf[i] as QueuedMessage
    handle(draft, queued.from, queued.message, fx)
  }
  const output = state.outputDone ? undefined : outputOf(draft)
  let dropped = state.dropped
  if (fx.drops !== undefined) {
    const counts = { ...dropped }
    for (const [reason, count] of fx.drops) counts[reason] += count
    dropped = counts
  }
  const next: AcsState = {
    committee,
    proposed,
    broadcasts: draft.broadcasts,
    agreements: draft.agreements,
    decidedOnes: draft.decidedOnes,
    outputDone: state.outputDone || output !== undefined,
    dropped,
  }
  return output === undefined ? { state: next, outbox: fx.outbox } : { state: next, outbox: fx.outbox, output }
}

/** A read-only summary for diagnostics and the explorer. */
export function acsProgress(state: AcsState): AcsProgress {
  const delivered: number[] = []
  state.broadcasts.forEach((broadcast, j) => {
    if (broadcast.delivered !== undefined) delivered.push(j)
  })
  const agreements = state.agreements.map((agreement, instance) => ({
    instance,
    round: agreement.round,
    ...(agreement.input === undefined ? {} : { input: agreement.input }),
    ...(agreement.decided === undefined ? {} : { decided: agreement.decided }),
  }))
  return {
    self: state.committee.config.self,
    proposed: state.proposed,
    delivered,
    agreements,
    highestRound: agreements.reduce((highest, agreement) => Math.max(highest, agreement.round), 0),
    output: state.outputDone,
    dropped: state.dropped,
  }
}
