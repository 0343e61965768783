/**
 * The adversarial scheduler specialised to ACS: honest ACS machines, the adversary's toolkit for AcsMessage
 * (conflicting variants, garbage of every kind, random bytes through the wire decoder, another session's
 * messages) and the safety and liveness checks of one run. Shared by test/acs/twins.test.ts and
 * scripts/twins-long.ts.
 */
import { decodeCanonical, equalBytes, loadCrypto, toHex } from '@constellation/crypto'
import { createRandom, type Random } from '@constellation/gossip'
import {
  type AcsConfig,
  type AcsMessage,
  acsMessageFromCbor,
  type AcsOutput,
  type AcsState,
  acsStep,
  initialAcsState,
  MAX_ACS_INSTANCE,
  MAX_AGREEMENT_ROUND,
} from '../../src/acs.js'
import { type AdversaryToolkit, type ByzantineBehaviour, type Machine, runAdversarial, type AdversarialRunResult } from './adversarial-scheduler.js'

const crypto = await loadCrypto()
const sha256 = (value: Uint8Array): Uint8Array => crypto.sha256(value)

export const MAX_PROPOSAL_BYTES = 256

export function facilitators(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `f${String(i).padStart(2, '0')}`)
}

export function honestProposal(id: string): Uint8Array {
  return new TextEncoder().encode(`checkpoint blocks held by ${id}`)
}

/** The common coin of a run: the same function of (seed, instance, round) at every facilitator. */
export function runCoin(seed: number | string): (instance: number, round: number) => boolean {
  return (instance, round) => createRandom(`coin/${seed}/${instance}/${round}`).int(2) === 1
}

export function runConfig(ids: readonly string[], self: string, faults: number, seed: number | string): AcsConfig {
  return { participants: ids, self, faults, coin: runCoin(seed), digest: sha256, maxProposalBytes: MAX_PROPOSAL_BYTES }
}

/** An ACS state machine behind the scheduler's Machine interface. */
export function acsMachine(config: AcsConfig, proposal: Uint8Array): Machine<AcsMessage, AcsOutput> {
  let state: AcsState = initialAcsState(config)
  return {
    start() {
      const result = acsStep(state, { type: 'propose', value: proposal })
      state = result.state
      return result
    },
    receive(from, message) {
      const result = acsStep(state, { type: 'message', from, message })
      state = result.state
      return result
    },
  }
}

function randomBytes(random: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = random.int(256)
  return bytes
}

/** Malformed and out-of-range messages as a machine would be handed them (the type is a lie on purpose). */
function garbage(random: Random, n: number): AcsMessage {
  const instance = random.int(n)
  // Thunks: only the garbage picked is built (some of it is large).
  const candidates: (() => unknown)[] = [
    () => ({ kind: 'init', instance: n + random.int(5), value: randomBytes(random, 8) }),
    () => ({ kind: 'echo', instance: MAX_ACS_INSTANCE, digest: randomBytes(random, 32) }),
    () => ({ kind: 'init', instance, value: randomBytes(random, MAX_PROPOSAL_BYTES + 1 + random.int(64)) }),
    () => ({ kind: 'value', instance, value: randomBytes(random, MAX_PROPOSAL_BYTES + 1) }),
    () => ({ kind: 'value', instance, value: randomBytes(random, 16) }),
    () => ({ kind: 'bogus', instance }),
    () => ({ kind: 'echo', instance }),
    () => ({ kind: 'ready', instance, digest: 'not bytes' }),
    () => ({ kind: 'echo', instance, digest: new Uint8Array(0) }),
    () => ({ kind: 'bval', instance, round: MAX_AGREEMENT_ROUND, value: true }),
    () => ({ kind: 'bval', instance, round: 9 + random.int(100), value: random.int(2) === 1 }),
    () => ({ kind: 'aux', instance, round: -1, value: true }),
    () => ({ kind: 'aux', instance, round: 0, value: 1 }),
    () => ({ kind: 'conf', instance, round: 0, values: 0 }),
    () => ({ kind: 'conf', instance, round: 0, values: 4 }),
    () => ({ kind: 'term', instance, round: 0.5, value: false }),
    () => ({ kind: 'term', instance, round: 0, value: false, extra: 1 }),
    () => ({ kind: 'value-request', instance: -1 }),
    () => ({ kind: 'value-request', instance }),
    () => null,
    () => 42,
    () => 'echo',
    () => [1, instance, randomBytes(random, 32)],
    () => ({ kind: 'init', instance: Number.NaN, value: new Uint8Array(1) }),
  ]
  return (candidates[random.int(candidates.length)] as () => unknown)() as AcsMessage
}

/** A conflicting variant of an ACS message: another value, digest or vote (undefined for a value request). */
export function equivocate(message: AcsMessage, random: Random): AcsMessage | undefined {
  switch (message.kind) {
    case 'init':
    case 'value':
      return { ...message, value: randomBytes(random, 1 + random.int(40)) }
    case 'echo':
    case 'ready':
      return { ...message, digest: random.int(2) === 0 ? randomBytes(random, 32) : sha256(randomBytes(random, 4)) }
    case 'bval':
    case 'aux':
    case 'term':
      return { ...message, value: !message.value }
    case 'conf':
      return { ...message, values: (1 + random.int(3)) as 1 | 2 | 3 }
    case 'value-request':
      return undefined
  }
}

/** Bytes as they would arrive in a frame: canonical CBOR, then the strict message reader. */
export function acsFromBytes(bytes: Uint8Array): AcsMessage | undefined {
  try {
    return acsMessageFromCbor(decodeCanonical(bytes, { maxBytes: 4096, maxDepth: 4 }), MAX_PROPOSAL_BYTES)
  } catch {
    return undefined
  }
}

const sessions = new Map<string, readonly AcsMessage[]>()

/** Messages of another honest ACS session over the same committee (other proposals, other coin), cached. */
function otherSession(ids: readonly string[], faults: number): readonly AcsMessage[] {
  const key = `${ids.length}/${faults}`
  const cached = sessions.get(key)
  if (cached !== undefined) return cached
  const recorded: AcsMessage[] = []
  const record = (machine: Machine<AcsMessage, AcsOutput>): Machine<AcsMessage, AcsOutput> => ({
    start() {
      const outcome = machine.start()
      for (const { message } of outcome.outbox) if (recorded.length < 2000) recorded.push(message)
      return outcome
    },
    receive(from, message) {
      const outcome = machine.receive(from, message)
      for (const { message: sent } of outcome.outbox) if (recorded.length < 2000) recorded.push(sent)
      return outcome
    },
  })
  runAdversarial<AcsMessage, AcsOutput>({
    seed: 0xbeef,
    participants: ids,
    byzantine: [],
    honest: (id) => record(acsMachine(runConfig(ids, id, faults, 'other session'), new TextEncoder().encode(`old ${id}`))),
    byzantineCore: (id) => acsMachine(runConfig(ids, id, faults, 'other session'), new Uint8Array(0)),
    toolkit: { equivocate, garbage: (random) => garbage(random, ids.length), fromBytes: acsFromBytes, otherSession: [] },
  })
  sessions.set(key, recorded)
  return recorded
}

export function acsToolkit(ids: readonly string[], faults: number): AdversaryToolkit<AcsMessage> {
  return { equivocate, garbage: (random) => garbage(random, ids.length), fromBytes: acsFromBytes, otherSession: otherSession(ids, faults) }
}

/** The Byzantine ids of a seed: t of the n, chosen by the seed (not always the last ones). */
export function byzantineOf(ids: readonly string[], faults: number, seed: number): string[] {
  const random = createRandom(`byzantine/${ids.length}/${seed}`)
  const pool = ids.slice()
  const chosen: string[] = []
  for (let i = 0; i < faults; i++) chosen.push(pool.splice(random.int(pool.length), 1)[0] as string)
  return chosen
}

export interface AcsRun {
  readonly result: AdversarialRunResult<AcsOutput>
  readonly byzantine: readonly string[]
  /** Safety and liveness violations; empty when the run is correct. */
  readonly violations: readonly string[]
  /** The delivery fingerprint plus a hash of the agreed output. */
  readonly fingerprint: string
}

/** One adversarial ACS run with n facilitators, t of them Byzantine, checked. */
export function runAcsAdversarially(n: number, faults: number, seed: number, behaviours?: readonly ByzantineBehaviour[]): AcsRun {
  const ids = facilitators(n)
  const byzantine = byzantineOf(ids, faults, seed)
  const result = runAdversarial<AcsMessage, AcsOutput>({
    seed,
    participants: ids,
    byzantine,
    honest: (id) => acsMachine(runConfig(ids, id, faults, seed), honestProposal(id)),
    byzantineCore: (id, copy) => acsMachine(runConfig(ids, id, faults, seed), new TextEncoder().encode(`twin ${copy} of ${id}`)),
    toolkit: acsToolkit(ids, faults),
    ...(behaviours === undefined ? {} : { behaviours }),
  })
  const violations = checkAcsRun(ids, byzantine, faults, result)
  const first = [...result.outputs.values()][0]?.[0]
  const outputHash =
    first === undefined ? 'none' : toHex(sha256(new TextEncoder().encode([...first.proposals].map(([id, v]) => `${id}=${toHex(v)}`).join(',')))).slice(0, 16)
  return { result, byzantine, violations, fingerprint: `${result.fingerprint}/${outputHash}` }
}

/**
 * Agreement (identical maps), liveness (every honest facilitator outputs, exactly once), the subset's size
 * (>= n - t proposals, >= n - 2t of them honest) and validity (an honest proposer's entry is what it proposed).
 */
export function checkAcsRun(ids: readonly string[], byzantine: readonly string[], faults: number, result: AdversarialRunResult<AcsOutput>): string[] {
  const violations: string[] = []
  const n = ids.length
  let reference: ReadonlyMap<string, Uint8Array> | undefined
  let referenceId = ''
  for (const [id, outputs] of result.outputs) {
    if (outputs.length !== 1) {
      violations.push(`${id} output ${outputs.length} times`)
      continue
    }
    const proposals = (outputs[0] as AcsOutput).proposals
    if (reference === undefined) {
      reference = proposals
      referenceId = id
    } else if (
      proposals.size !== reference.size ||
      [...proposals].some(([p, v]) => !equalBytes(v, reference?.get(p) ?? new Uint8Array(0)) || !reference?.has(p))
    ) {
      violations.push(`${id} and ${referenceId} output different subsets: [${[...proposals.keys()]}] vs [${[...reference.keys()]}]`)
    }
  }
  if (reference !== undefined) {
    if (reference.size < n - faults) violations.push(`the subset holds ${reference.size} proposals, fewer than n - t = ${n - faults}`)
    const honestIncluded = [...reference.keys()].filter((id) => !byzantine.includes(id))
    if (honestIncluded.length < n - 2 * faults) violations.push(`the subset holds ${honestIncluded.length} honest proposals, fewer than n - 2t`)
    for (const id of honestIncluded) {
      if (!equalBytes(reference.get(id) as Uint8Array, honestProposal(id))) violations.push(`${id}'s entry is not what it proposed`)
    }
  }
  return violations
}
