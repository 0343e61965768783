/**
 * Bracha reliable broadcast of one proposer's proposal, as seen by one facilitator (one instance of ACS).
 *
 * The proposer sends INIT(value); every facilitator ECHOes the value's digest once; 2t + 1 ECHOs (the ECHO
 * quorum, see AcsCommittee) or t + 1 READYs for a digest make it send READY for that digest; 2t + 1 READYs commit
 * it to the digest, and it delivers as soon as it holds a value with that digest. ECHO and READY carry only the
 * digest, so the quadratic part of the traffic is digests, not proposals.
 *
 * A Byzantine proposer may send INIT to only some facilitators. One that commits without holding the value asks
 * the facilitators whose ECHO it counted for the digest (VALUE-REQUEST; at least t + 1 of them are honest and hold
 * it) and accepts a VALUE only if its digest is the committed one. Only the first ECHO and READY of each sender
 * count, INIT only from the proposer and only once, and each peer's request is answered once.
 */
import { toHex } from '@constellation/crypto'
import type { AcsCommittee } from './acs-committee.js'
import { emptySenderSet, hasSender, type SenderSet, senderCount, senderIndices, withSender } from './sender-set.js'
import type { StepEffects } from './step-effects.js'

/** The senders of ECHO (or READY) for one digest. */
export interface DigestTally {
  readonly digest: string
  readonly bytes: Uint8Array
  readonly senders: SenderSet
}

export interface ReliableBroadcastState {
  /** The value the proposer sent this facilitator (the one it ECHOed), with its digest in hex. */
  readonly init?: { readonly value: Uint8Array; readonly digest: string }
  /** Who has ECHOed anything; only their first ECHO counts. */
  readonly echoed: SenderSet
  readonly echoes: readonly DigestTally[]
  readonly readied: SenderSet
  readonly readies: readonly DigestTally[]
  readonly sentReady: boolean
  /** The digest 2t + 1 READYs committed this facilitator to. */
  readonly committed?: { readonly digest: string; readonly bytes: Uint8Array }
  /** Peers already asked for the committed value. */
  readonly requested: SenderSet
  /** Peers whose VALUE-REQUEST was answered. */
  readonly answered: SenderSet
  readonly delivered?: Uint8Array
}

export function initialReliableBroadcast(n: number): ReliableBroadcastState {
  const none = emptySenderSet(n)
  return { echoed: none, echoes: [], readied: none, readies: [], sentReady: false, requested: none, answered: none }
}

function tallyWith(n: number, tallies: readonly DigestTally[], digest: Uint8Array, sender: number): { tallies: DigestTally[]; tally: DigestTally } {
  const key = toHex(digest)
  const next = tallies.slice()
  const at = next.findIndex((tally) => tally.digest === key)
  const before = at >= 0 ? (next[at] as DigestTally) : { digest: key, bytes: digest, senders: emptySenderSet(n) }
  const tally = { ...before, senders: withSender(before.senders, sender) }
  if (at >= 0) next[at] = tally
  else next.push(tally)
  return { tallies: next, tally }
}

/** Sends READY for `tally`'s digest if this facilitator has not sent a READY yet. */
function ready(state: ReliableBroadcastState, instance: number, tally: DigestTally, fx: StepEffects): ReliableBroadcastState {
  if (state.sentReady) return state
  fx.broadcast({ kind: 'ready', instance, digest: tally.bytes })
  return { ...state, sentReady: true }
}

/** Delivers when committed and the committed value is held. */
function tryDeliver(state: ReliableBroadcastState, value: Uint8Array | undefined, digest: string | undefined): ReliableBroadcastState {
  if (state.delivered !== undefined || state.committed === undefined || value === undefined) return state
  return digest === state.committed.digest ? { ...state, delivered: value } : state
}

/** Asks the given ECHO senders for the committed value (each peer once). */
function request(committee: AcsCommittee, state: ReliableBroadcastState, instance: number, peers: readonly number[], fx: StepEffects): ReliableBroadcastState {
  let requested = state.requested
  for (const peer of peers) {
    if (peer === committee.selfIndex || hasSender(requested, peer)) continue
    requested = withSender(requested, peer)
    fx.send(peer, { kind: 'value-request', instance })
  }
  return requested === state.requested ? state : { ...state, requested }
}

export function receiveInit(
  committee: AcsCommittee,
  state: ReliableBroadcastState,
  instance: number,
  value: Uint8Array,
  fx: StepEffects,
): ReliableBroadcastState {
  if (state.init !== undefined) {
    fx.drop('duplicate')
    return state
  }
  const bytes = committee.config.digest(value)
  const digest = toHex(bytes)
  fx.broadcast({ kind: 'echo', instance, digest: bytes })
  return tryDeliver({ ...state, init: { value, digest } }, value, digest)
}

export function receiveEcho(
  committee: AcsCommittee,
  state: ReliableBroadcastState,
  instance: number,
  from: number,
  digest: Uint8Array,
  fx: StepEffects,
): ReliableBroadcastState {
  if (hasSender(state.echoed, from)) {
    fx.drop('duplicate')
    return state
  }
  const { tallies, tally } = tallyWith(committee.n, state.echoes, digest, from)
  let next: ReliableBroadcastState = { ...state, echoed: withSender(state.echoed, from), echoes: tallies }
  if (senderCount(tally.senders) >= committee.echoQuorum) next = ready(next, instance, tally, fx)
  // Committed but still without the value: this echoer holds it (if honest), so ask it too.
  if (next.delivered === undefined && next.committed?.digest === tally.digest) next = request(committee, next, instance, [from], fx)
  return next
}

export function receiveReady(
  committee: AcsCommittee,
  state: ReliableBroadcastState,
  instance: number,
  from: number,
  digest: Uint8Array,
  fx: StepEffects,
): ReliableBroadcastState {
  if (hasSender(state.readied, from)) {
    fx.drop('duplicate')
    return state
  }
  const { tallies, tally } = tallyWith(committee.n, state.readies, digest, from)
  let next: ReliableBroadcastState = { ...state, readied: withSender(state.readied, from), readies: tallies }
  const count = senderCount(tally.senders)
  if (count >= committee.weak) next = ready(next, instance, tally, fx)
  if (count >= committee.strong && next.committed === undefined) {
    next = { ...next, committed: { digest: tally.digest, bytes: tally.bytes } }
    next = tryDeliver(next, next.init?.value, next.init?.digest)
    if (next.delivered === undefined) {
      const echoers = next.echoes.find((echo) => echo.digest === tally.digest)?.senders
      next = request(committee, next, instance, echoers === undefined ? [] : senderIndices(echoers), fx)
    }
  }
  return next
}

export function receiveValueRequest(state: ReliableBroadcastState, instance: number, from: number, fx: StepEffects): ReliableBroadcastState {
  const value = state.delivered ?? state.init?.value
  // Nothing to give yet: an honest requester asked because this facilitator ECHOed, so this is a Byzantine probe.
  if (value === undefined) return state
  if (hasSender(state.answered, from)) {
    fx.drop('duplicate')
    return state
  }
  fx.send(from, { kind: 'value', instance, value })
  return { ...state, answered: withSender(state.answered, from) }
}

export function receiveValue(committee: AcsCommittee, state: ReliableBroadcastState, value: Uint8Array, fx: StepEffects): ReliableBroadcastState {
  if (state.delivered !== undefined || state.committed === undefined) {
    fx.drop('unsolicited-value')
    return state
  }
  const digest = toHex(committee.config.digest(value))
  if (digest !== state.committed.digest) {
    fx.drop('digest-mismatch')
    return state
  }
  return tryDeliver(state, value, digest)
}
