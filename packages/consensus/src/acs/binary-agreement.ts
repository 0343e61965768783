/**
 * Binary Byzantine agreement for one ACS instance, as seen by one facilitator: Mostéfaoui–Moumen–Raynal's
 * signature-free algorithm (BVAL/AUX with bin_values) with the CONF phase and a TERM message, as HoneyBadgerBFT
 * implementations run it after Tholoniat and Gramoli showed the original could fail to terminate.
 *
 * Round r with estimate est:
 *   1. broadcast BVAL_r(est); on t + 1 BVAL_r(b) broadcast BVAL_r(b) too (once per b); on 2t + 1 BVAL_r(b) add b
 *      to bin_values_r. For the first value in bin_values_r, broadcast AUX_r(b).
 *   2. wait for n - t AUX_r whose values are in bin_values_r; vals = the values they carry (the candidates).
 *   3. broadcast CONF_r(vals); wait for n - t CONF_r whose sets are within bin_values_r.
 *   4. s = coin(instance, r). vals = {b}: est = b, and decide b if b = s. vals = {0, 1}: est = s.
 * Deciding b broadcasts TERM(b). TERM(b) counts as BVAL(b), AUX(b) and CONF({b}) from its sender in every round,
 * so a decided facilitator stops sending round messages without starving the others; and t + 1 TERM(b) make a
 * facilitator decide b at once (one of them is honest and decided b, and agreement forbids any other decision),
 * which it announces with its own TERM(b) — so once t + 1 honest facilitators have decided, every honest one does.
 *
 * Bounded memory: messages for rounds more than AGREEMENT_ROUND_WINDOW ahead of this facilitator are dropped.
 * That alone could strand a slow facilitator (the round messages it dropped are never sent again), so when a peer
 * shows it has reached round x (any round message from it), this facilitator re-sends it its own messages of the
 * rounds the peer may have dropped, up to x + window. Past rounds keep relaying BVAL (the BV-broadcast must run on
 * for a facilitator still in that round); AUX and CONF of past rounds are no longer needed and ignored.
 */
import type { AcsCommittee } from './acs-committee.js'
import type { BinValues } from './acs-messages.js'
import { emptySenderSet, hasSender, type SenderSet, senderCount, unionCount, unionCount3, withSender } from './sender-set.js'
import type { StepEffects } from './step-effects.js'

/** How many rounds ahead of its own a facilitator buffers agreement messages. */
export const AGREEMENT_ROUND_WINDOW = 8

const bit = (value: boolean): 1 | 2 => (value ? 2 : 1)

export interface AgreementRound {
  /** BVAL senders for false, true. */
  readonly bval: readonly [SenderSet, SenderSet]
  /** AUX senders for false, true; a sender counts once. */
  readonly aux: readonly [SenderSet, SenderSet]
  /** CONF senders for {0}, {1}, {0, 1} (index = BinValues - 1); a sender counts once. */
  readonly conf: readonly [SenderSet, SenderSet, SenderSet]
  /** BinValues bitmasks (0 = none): BVALs sent, bin_values, the AUX sent, the candidates (= the CONF sent). */
  readonly sentBval: number
  readonly binValues: number
  readonly sentAux: number
  readonly vals: number
}

export interface BinaryAgreementState {
  /** This facilitator's input, once given. Before it, it only relays and counts. */
  readonly input?: boolean
  readonly round: number
  readonly estimate?: boolean
  /** Index = round; entries up to round + window once messages arrive for them; emptied on decision. */
  readonly rounds: readonly (AgreementRound | undefined)[]
  /** TERM senders for false, true; a sender's first TERM counts. */
  readonly term: readonly [SenderSet, SenderSet]
  readonly decided?: boolean
  /** Per peer: the highest round it has shown it reached (what it buffers follows from that). */
  readonly peerRound: readonly number[]
}

export function initialBinaryAgreement(n: number): BinaryAgreementState {
  const none = emptySenderSet(n)
  return { round: 0, rounds: [], term: [none, none], peerRound: new Array<number>(n).fill(0) }
}

function emptyRound(n: number): AgreementRound {
  const none = emptySenderSet(n)
  return { bval: [none, none], aux: [none, none], conf: [none, none, none], sentBval: 0, binValues: 0, sentAux: 0, vals: 0 }
}

function roundAt(committee: AcsCommittee, state: BinaryAgreementState, round: number): AgreementRound {
  return state.rounds[round] ?? emptyRound(committee.n)
}

function withRound(state: BinaryAgreementState, round: number, value: AgreementRound): BinaryAgreementState {
  const rounds = state.rounds.slice()
  rounds[round] = value
  return { ...state, rounds }
}

function pair<T>(values: readonly [T, T], value: boolean, replacement: T): readonly [T, T] {
  return value ? [values[0], replacement] : [replacement, values[1]]
}

/**
 * The BV-broadcast rules of one round: relay a value t + 1 facilitators vouch for, add to bin_values a value
 * 2t + 1 vouch for. TERM senders vouch for their decision in every round.
 */
function applyBvalRules(
  committee: AcsCommittee,
  term: BinaryAgreementState['term'],
  instance: number,
  round: number,
  current: AgreementRound,
  fx: StepEffects,
): AgreementRound {
  let next = current
  for (const value of [false, true]) {
    const index = value ? 1 : 0
    const count = unionCount(next.bval[index], term[index])
    if (count >= committee.weak && (next.sentBval & bit(value)) === 0) {
      fx.broadcast({ kind: 'bval', instance, round, value })
      next = { ...next, sentBval: next.sentBval | bit(value) }
    }
    if (count >= committee.strong && (next.binValues & bit(value)) === 0) next = { ...next, binValues: next.binValues | bit(value) }
  }
  return next
}

function decide(state: BinaryAgreementState, instance: number, value: boolean, fx: StepEffects): BinaryAgreementState {
  fx.broadcast({ kind: 'term', instance, round: state.round, value })
  // Round state is no longer needed: this facilitator's TERM stands in for its messages in every later round.
  return { ...state, decided: value, rounds: [] }
}

/** Runs the current round as far as the messages held allow, entering later rounds as they complete. */
function advance(committee: AcsCommittee, start: BinaryAgreementState, instance: number, fx: StepEffects): BinaryAgreementState {
  let state = start
  while (state.decided === undefined && state.input !== undefined) {
    const r = state.round
    const before = roundAt(committee, state, r)
    let current = applyBvalRules(committee, state.term, instance, r, before, fx)
    if (current.binValues !== 0 && current.sentAux === 0) {
      const preferred = state.estimate ?? false
      const value = (current.binValues & bit(preferred)) !== 0 ? preferred : !preferred
      fx.broadcast({ kind: 'aux', instance, round: r, value })
      current = { ...current, sentAux: bit(value) }
    }
    if (current.vals === 0) {
      const vals = candidates(committee, state.term, current)
      if (vals !== 0) {
        fx.broadcast({ kind: 'conf', instance, round: r, values: vals })
        current = { ...current, vals }
      }
    }
    if (current !== before) state = withRound(state, r, current)
    if (current.vals === 0 || confirmations(state.term, current) < committee.live) return state
    const coin = committee.config.coin(instance, r)
    if (current.vals !== 3) {
      const value = current.vals === 2
      if (value === coin) return decide(state, instance, value, fx)
      state = enterRound(committee, state, instance, value, fx)
    } else {
      state = enterRound(committee, state, instance, coin, fx)
    }
  }
  return state
}

/** The AUX phase's candidate values once n - t AUX (or TERM) senders back values in bin_values; 0 until then. */
function candidates(committee: AcsCommittee, term: BinaryAgreementState['term'], round: AgreementRound): BinValues | 0 {
  const bins = round.binValues
  if ((bins & 1) !== 0 && unionCount(round.aux[0], term[0]) >= committee.live) return 1
  if ((bins & 2) !== 0 && unionCount(round.aux[1], term[1]) >= committee.live) return 2
  if (bins === 3) {
    const either = round.aux[0].map((word, i) => word | (round.aux[1][i] ?? 0))
    if (unionCount3(either, term[0], term[1]) >= committee.live) return 3
  }
  return 0
}

/** Senders whose CONF set lies within bin_values (TERM(b) counts as CONF({b})). */
function confirmations(term: BinaryAgreementState['term'], round: AgreementRound): number {
  switch (round.binValues) {
    case 1:
      return unionCount(round.conf[0], term[0])
    case 2:
      return unionCount(round.conf[1], term[1])
    case 3: {
      const confs = round.conf[0].map((word, i) => word | (round.conf[1][i] ?? 0) | (round.conf[2][i] ?? 0))
      return unionCount3(confs, term[0], term[1])
    }
    default:
      return 0
  }
}

function enterRound(committee: AcsCommittee, state: BinaryAgreementState, instance: number, estimate: boolean, fx: StepEffects): BinaryAgreementState {
  const round = state.round + 1
  const entered = roundAt(committee, state, round)
  const next = withRound({ ...state, round, estimate }, round, { ...entered, sentBval: entered.sentBval | bit(estimate) })
  if ((entered.sentBval & bit(estimate)) === 0) fx.broadcast({ kind: 'bval', instance, round, value: estimate })
  return next
}

/** This facilitator's input: its estimate for round 0. Ignored once given or decided. */
export function inputAgreement(committee: AcsCommittee, state: BinaryAgreementState, instance: number, value: boolean, fx: StepEffects): BinaryAgreementState {
  if (state.input !== undefined || state.decided !== undefined) return state
  const round0 = roundAt(committee, state, 0)
  // Rounds only advance once there is an input, so this is always round 0.
  let next: BinaryAgreementState = { ...state, input: value, estimate: value }
  if ((round0.sentBval & bit(value)) === 0) {
    fx.broadcast({ kind: 'bval', instance, round: 0, value })
    next = withRound(next, 0, { ...round0, sentBval: round0.sentBval | bit(value) })
  }
  return advance(committee, next, instance, fx)
}

/** Re-sends `peer` this facilitator's messages of the rounds it may have dropped, now that it reached `round`. */
function catchUp(state: BinaryAgreementState, instance: number, peer: number, round: number, fx: StepEffects): BinaryAgreementState {
  const known = state.peerRound[peer] ?? 0
  if (round <= known || state.decided !== undefined) return state
  const last = Math.min(round + AGREEMENT_ROUND_WINDOW, state.round)
  for (let r = known + AGREEMENT_ROUND_WINDOW + 1; r <= last; r++) {
    const sent = state.rounds[r]
    if (sent === undefined) continue
    if ((sent.sentBval & 1) !== 0) fx.send(peer, { kind: 'bval', instance, round: r, value: false })
    if ((sent.sentBval & 2) !== 0) fx.send(peer, { kind: 'bval', instance, round: r, value: true })
    if (sent.sentAux !== 0) fx.send(peer, { kind: 'aux', instance, round: r, value: sent.sentAux === 2 })
    if (sent.vals !== 0) fx.send(peer, { kind: 'conf', instance, round: r, values: sent.vals as BinValues })
  }
  const peerRound = state.peerRound.slice()
  peerRound[peer] = round
  return { ...state, peerRound }
}

export type RoundMessage =
  | { readonly kind: 'bval'; readonly round: number; readonly value: boolean }
  | { readonly kind: 'aux'; readonly round: number; readonly value: boolean }
  | { readonly kind: 'conf'; readonly round: number; readonly values: BinValues }

/** BVAL, AUX or CONF from `from` (this facilitator itself included). */
export function receiveRoundMessage(
  committee: AcsCommittee,
  start: BinaryAgreementState,
  instance: number,
  from: number,
  message: RoundMessage,
  fx: StepEffects,
): BinaryAgreementState {
  if (start.decided !== undefined) {
    fx.drop('stale-round')
    return start
  }
  const state = from === committee.selfIndex ? start : catchUp(start, instance, from, message.round, fx)
  const r = message.round
  if (r > state.round + AGREEMENT_ROUND_WINDOW) {
    fx.drop('round-too-far')
    return state
  }
  if (r < state.round && message.kind !== 'bval') {
    fx.drop('stale-round')
    return state
  }
  const round = roundAt(committee, state, r)
  let updated: AgreementRound
  switch (message.kind) {
    case 'bval': {
      const senders = round.bval[message.value ? 1 : 0]
      if (hasSender(senders, from)) return duplicate(state, fx)
      updated = { ...round, bval: pair(round.bval, message.value, withSender(senders, from)) }
      // Rounds this facilitator has reached run the BV-broadcast rules now; later ones when it enters them.
      if (r < state.round || (r === state.round && state.input === undefined)) {
        updated = applyBvalRules(committee, state.term, instance, r, updated, fx)
      }
      break
    }
    case 'aux': {
      if (hasSender(round.aux[0], from) || hasSender(round.aux[1], from)) return duplicate(state, fx)
      updated = { ...round, aux: pair(round.aux, message.value, withSender(round.aux[message.value ? 1 : 0], from)) }
      break
    }
    case 'conf': {
      if (round.conf.some((senders) => hasSender(senders, from))) return duplicate(state, fx)
      const conf = round.conf.slice() as [SenderSet, SenderSet, SenderSet]
      conf[message.values - 1] = withSender(conf[message.values - 1] as SenderSet, from)
      updated = { ...round, conf }
      break
    }
  }
  const next = withRound(state, r, updated)
  return r === next.round ? advance(committee, next, instance, fx) : next
}

function duplicate(state: BinaryAgreementState, fx: StepEffects): BinaryAgreementState {
  fx.drop('duplicate')
  return state
}

/** TERM(value) from `from`: counts in every round, and t + 1 of one value decide it. */
export function receiveTerm(
  committee: AcsCommittee,
  state: BinaryAgreementState,
  instance: number,
  from: number,
  value: boolean,
  fx: StepEffects,
): BinaryAgreementState {
  if (hasSender(state.term[0], from) || hasSender(state.term[1], from)) return duplicate(state, fx)
  const senders = withSender(state.term[value ? 1 : 0], from)
  const next: BinaryAgreementState = { ...state, term: pair(state.term, value, senders) }
  if (next.decided !== undefined) return next
  if (senderCount(senders) >= committee.weak) return decide(next, instance, value, fx)
  if (next.input === undefined) {
    const round0 = roundAt(committee, next, 0)
    const updated = applyBvalRules(committee, next.term, instance, 0, round0, fx)
    return updated === round0 ? next : withRound(next, 0, updated)
  }
  return advance(committee, next, instance, fx)
}
