/**
 * A seeded adversarial network for pure protocol machines, generic in the message type (the ACS tests use it
 * with AcsMessage; the checkpoint round can use it with its own message, which wraps the ACS one).
 *
 * The scheduler holds every message in flight and delivers them one at a time in an order chosen by the seed:
 * the asynchronous model — honest links deliver everything eventually, in any order. The t Byzantine ids are
 * played by the adversary, each with behaviours drawn from the seed:
 *   - twins: two copies of an honest machine with the same id but different inputs, each copy talking to its own
 *     random subset of peers; the subsets overlap, so some peers hear both copies;
 *   - equivocation: a different variant of a message to different peers (proposals, votes);
 *   - withholding: silent towards a random subset of peers, or all of them;
 *   - garbage: malformed messages of every kind the toolkit knows, and random bytes through the wire decoder;
 *   - replays: earlier messages sent again, and messages recorded in another session;
 *   - delayed forever: some of its messages are never delivered.
 * The network also re-delivers some honest messages (duplicates). The same seed gives the same delivery order
 * and so the same outcome; `fingerprint` summarises a run so a test can check that it replays exactly.
 */
import { createRandom, type Random } from '@constellation/gossip'

export interface Outgoing<M> {
  readonly to: string | 'all'
  readonly message: M
}

export interface StepOutcome<M, O> {
  readonly outbox: readonly Outgoing<M>[]
  readonly output?: O
}

/** A protocol machine as the scheduler drives it: started once, then handed messages. */
export interface Machine<M, O> {
  start(): StepOutcome<M, O>
  receive(from: string, message: M): StepOutcome<M, O>
}

/** What the adversary needs to know about the message type to attack with it. */
export interface AdversaryToolkit<M> {
  /** A conflicting variant of a message (another proposal, the other vote), or undefined if it has none. */
  equivocate(message: M, random: Random): M | undefined
  /** A malformed or out-of-range message as the receiving machine would be handed it. */
  garbage(random: Random): M
  /** Decodes bytes as the wire would (random bytes usually give undefined). */
  fromBytes(bytes: Uint8Array): M | undefined
  /** Messages recorded in another session of the protocol, for cross-session replays. */
  otherSession: readonly M[]
}

export type ByzantineBehaviour = 'twins' | 'equivocate' | 'withhold' | 'garbage' | 'replay' | 'delay-forever'
export const BYZANTINE_BEHAVIOURS: readonly ByzantineBehaviour[] = ['twins', 'equivocate', 'withhold', 'garbage', 'replay', 'delay-forever']

export interface AdversarialRunOptions<M, O> {
  readonly seed: number
  readonly participants: readonly string[]
  readonly byzantine: readonly string[]
  /** The honest machine of an id. */
  honest(id: string): Machine<M, O>
  /** An honest machine the adversary runs under a Byzantine id; `copy` 0 or 1 (twins get different inputs). */
  byzantineCore(id: string, copy: 0 | 1): Machine<M, O>
  readonly toolkit: AdversaryToolkit<M>
  /** Restrict the behaviours drawn (default: all). */
  readonly behaviours?: readonly ByzantineBehaviour[]
  /** Give up after this many deliveries (a liveness failure then shows as missing outputs). */
  readonly maxDeliveries?: number
}

export interface AdversarialRunResult<O> {
  /** Every output of every honest id, in order (exactly one each is expected). */
  readonly outputs: ReadonlyMap<string, readonly O[]>
  readonly behaviours: ReadonlyMap<string, readonly ByzantineBehaviour[]>
  readonly deliveries: number
  /** Hash of the delivery order (which message, from whom, to whom, at each delivery). */
  readonly fingerprint: string
  /** What was drawn for this seed, for failure messages. */
  readonly description: string
}

interface Envelope<M> {
  readonly sequence: number
  readonly from: string
  readonly to: string
  readonly message: M
  /** Which twin copy receives it, when `to` is a twin pair. */
  readonly copy?: 0 | 1
}

/** Holds messages in flight and hands them out in a seeded random order. */
export class AdversarialScheduler<M> {
  private readonly inFlight: Envelope<M>[] = []
  private sequence = 0
  private hash = 0x811c9dc5
  delivered = 0

  constructor(readonly random: Random) {}

  get pending(): number {
    return this.inFlight.length
  }

  post(from: string, to: string, message: M, copy?: 0 | 1): Envelope<M> {
    const envelope: Envelope<M> = copy === undefined ? { sequence: this.sequence++, from, to, message } : { sequence: this.sequence++, from, to, message, copy }
    this.inFlight.push(envelope)
    return envelope
  }

  /** Re-posts an envelope already delivered (a network duplicate), under a new sequence number. */
  repost(envelope: Envelope<M>): void {
    this.post(envelope.from, envelope.to, envelope.message, envelope.copy)
  }

  next(): Envelope<M> | undefined {
    if (this.inFlight.length === 0) return undefined
    const at = this.random.int(this.inFlight.length)
    const envelope = this.inFlight[at] as Envelope<M>
    this.inFlight[at] = this.inFlight[this.inFlight.length - 1] as Envelope<M>
    this.inFlight.pop()
    this.delivered++
    this.hash = Math.imul(this.hash ^ envelope.sequence, 0x01000193) >>> 0
    return envelope
  }

  fingerprint(): string {
    return `${this.delivered}:${this.hash.toString(16).padStart(8, '0')}`
  }
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random.int(items.length)] as T
}

function subset<T>(random: Random, items: readonly T[], probability: number): T[] {
  return items.filter(() => random.next() < probability)
}

/** The adversary's plan for one Byzantine id, drawn from the seed. */
interface ByzantinePlan {
  readonly behaviours: readonly ByzantineBehaviour[]
  /** Twins: the peers each copy talks to (they overlap and together cover everyone). */
  readonly reach: readonly [ReadonlySet<string>, ReadonlySet<string>]
  /** Withholding: the peers it never sends to. */
  readonly silentTo: ReadonlySet<string>
}

function planFor(random: Random, id: string, participants: readonly string[], allowed: readonly ByzantineBehaviour[]): ByzantinePlan {
  const peers = participants.filter((p) => p !== id)
  const behaviours = subset(random, allowed, 0.4)
  if (behaviours.length === 0) behaviours.push(pick(random, allowed))
  // Twins: a random split; peers in `shared` hear both copies.
  const first = new Set<string>()
  const second = new Set<string>()
  const shared = pick(random, peers)
  for (const peer of peers) {
    const side = peer === shared ? 2 : random.int(3)
    if (side !== 1) first.add(peer)
    if (side !== 0) second.add(peer)
  }
  const silentTo = random.next() < 0.3 ? new Set(peers) : new Set(subset(random, peers, 0.5))
  return { behaviours, reach: [first, second], silentTo }
}

/** Runs honest machines against the adversary until no message is in flight (or the delivery budget runs out). */
export function runAdversarial<M, O>(options: AdversarialRunOptions<M, O>): AdversarialRunResult<O> {
  const { seed, participants, byzantine, toolkit } = options
  const random = createRandom(`adversarial/${seed}`)
  const adversary = random.fork()
  const scheduler = new AdversarialScheduler<M>(random.fork())
  const byzantineIds = new Set(byzantine)
  const honestIds = participants.filter((id) => !byzantineIds.has(id))
  const plans = new Map<string, ByzantinePlan>()
  for (const id of byzantine) plans.set(id, planFor(adversary, id, participants, options.behaviours ?? BYZANTINE_BEHAVIOURS))
  const has = (id: string, behaviour: ByzantineBehaviour) => plans.get(id)?.behaviours.includes(behaviour) === true

  const honest = new Map<string, Machine<M, O>>()
  const outputs = new Map<string, O[]>(honestIds.map((id) => [id, []]))
  const cores = new Map<string, readonly Machine<M, O>[]>()
  const seen = new Map<string, M[]>(byzantine.map((id) => [id, []]))
  let injected = 0
  const injectionBudget = 40 * participants.length

  /** Sends what a Byzantine core produced, through the adversary's plan. */
  const sendByzantine = (id: string, copy: 0 | 1, outbox: readonly Outgoing<M>[]) => {
    const plan = plans.get(id) as ByzantinePlan
    for (const { to, message } of outbox) {
      for (const target of to === 'all' ? participants : [to]) {
        if (target === id) continue
        if (has(id, 'twins') && !plan.reach[copy].has(target)) continue
        if (has(id, 'withhold') && plan.silentTo.has(target)) continue
        if (has(id, 'delay-forever') && adversary.next() < 0.3) continue
        let sent = message
        if (has(id, 'equivocate') && adversary.next() < 0.5) sent = toolkit.equivocate(message, adversary) ?? message
        deliverTo(id, target, sent)
      }
    }
  }
  const sendHonest = (id: string, outbox: readonly Outgoing<M>[]) => {
    for (const { to, message } of outbox) {
      for (const target of to === 'all' ? participants : [to]) if (target !== id) deliverTo(id, target, message)
    }
  }
  const deliverTo = (from: string, to: string, message: M) => {
    if (has(to, 'twins')) {
      const plan = plans.get(to) as ByzantinePlan
      if (plan.reach[0].has(from)) scheduler.post(from, to, message, 0)
      if (plan.reach[1].has(from)) scheduler.post(from, to, message, 1)
    } else {
      scheduler.post(from, to, message)
    }
  }
  const recordOutput = (id: string, outcome: StepOutcome<M, O>) => {
    if (outcome.output !== undefined) outputs.get(id)?.push(outcome.output)
  }

  for (const id of participants) {
    if (byzantineIds.has(id)) {
      const copies: Machine<M, O>[] = has(id, 'twins') ? [options.byzantineCore(id, 0), options.byzantineCore(id, 1)] : [options.byzantineCore(id, 0)]
      cores.set(id, copies)
      copies.forEach((core, copy) => sendByzantine(id, copy as 0 | 1, core.start().outbox))
    } else {
      const machine = options.honest(id)
      honest.set(id, machine)
      const outcome = machine.start()
      recordOutput(id, outcome)
      sendHonest(id, outcome.outbox)
    }
  }

  /** The adversary's extra moves after a Byzantine id receives something. */
  const meddle = (id: string) => {
    if (injected >= injectionBudget) return
    const targets = participants.filter((p) => p !== id)
    if (has(id, 'garbage') && adversary.next() < 0.2) {
      injected++
      const target = pick(adversary, targets)
      if (adversary.next() < 0.5) {
        deliverTo(id, target, toolkit.garbage(adversary))
      } else {
        const bytes = new Uint8Array(adversary.int(24))
        for (let i = 0; i < bytes.length; i++) bytes[i] = adversary.int(256)
        const decoded = toolkit.fromBytes(bytes)
        if (decoded !== undefined) deliverTo(id, target, decoded)
      }
    }
    if (has(id, 'replay') && adversary.next() < 0.2) {
      injected++
      const history = seen.get(id) as M[]
      const pool = adversary.next() < 0.5 && history.length > 0 ? history : toolkit.otherSession
      if (pool.length > 0) deliverTo(id, pick(adversary, targets), pick(adversary, pool))
    }
  }

  const maxDeliveries = options.maxDeliveries ?? 5_000_000
  let duplicates = 0
  for (let envelope = scheduler.next(); envelope !== undefined && scheduler.delivered <= maxDeliveries; envelope = scheduler.next()) {
    const { from, to, message } = envelope
    const machine = honest.get(to)
    if (machine !== undefined) {
      const outcome = machine.receive(from, message)
      recordOutput(to, outcome)
      sendHonest(to, outcome.outbox)
      // The network duplicates a few honest messages; the machines must shrug them off.
      if (!byzantineIds.has(from) && duplicates < 4 * participants.length && random.next() < 0.002) {
        duplicates++
        scheduler.repost(envelope)
      }
    } else {
      const copies = cores.get(to) as readonly Machine<M, O>[]
      const copy = envelope.copy ?? 0
      const core = copies[copy]
      if (core !== undefined) sendByzantine(to, copy, core.receive(from, message).outbox)
      const history = seen.get(to) as M[]
      if (history.length < 512) history.push(message)
      meddle(to)
    }
  }

  const behaviours = new Map([...plans].map(([id, plan]) => [id, plan.behaviours]))
  const description = `seed ${seed}, n = ${participants.length}, byzantine ${[...plans].map(([id, plan]) => `${id}: ${plan.behaviours.join('+')}`).join(', ')}`
  return { outputs, behaviours, deliveries: scheduler.delivered, fingerprint: scheduler.fingerprint(), description }
}
