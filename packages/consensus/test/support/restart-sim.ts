/**
 * A solar system on the seeded simulator whose facilitators crash and restart as processes do: a crash takes the
 * node off the network at once (nothing it had not sent yet leaves), and a restart builds a new consensus node from
 * what would be on its disk — its chain, the certificates it had stored (optionally missing the last few, as a store
 * written behind the rounds is after a kill) and its round journal. An equivocation detector reads every round frame
 * any facilitator sends, over all its lives.
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { SimNetwork, type SimNode, uniformLatency } from '@constellation/gossip'
import { type AnchoredNode, createAnchoredNode, createGenesisBlock, createMemoryBlockStore } from '@constellation/trustchain'
import {
  type CheckpointCertificate,
  type ConsensusNetwork,
  createMemoryRoundJournal,
  createSolarSystemNode,
  defaultSolarSystemRules,
  type MemoryRoundJournal,
  type SolarSystemNode,
  type SolarSystemRules,
  type SolarSystemTiming,
} from '../../src/index.js'
import type { FacilitatorRoundState } from '../../src/round.js'
import type { AcsMessage } from '../../src/acs.js'
import { decodeRoundFrame, ROUND_PROTOCOL, type RoundFrame } from '../../src/shell/wire.js'
import { SIM_BALANCE, simGenesis, simKeyPairs, testCrypto, withRequests } from './solar-system-sim.js'

/** Conflicting messages one facilitator sent: two values for one slot of one round. */
export interface Equivocation {
  readonly sender: string
  readonly round: number
  readonly slot: string
}

/**
 * Every message a facilitator sends has a slot that admits one value: its proposal (INIT), its ECHO and READY per
 * broadcast, the VALUE it serves per broadcast, its AUX and CONF per agreement round, its TERM per agreement, its
 * signature share per round. A BVAL may carry both values and a VALUE-REQUEST carries none, so neither can conflict.
 */
function slotOf(message: AcsMessage): { slot: string; value: string } | undefined {
  switch (message.kind) {
    case 'init':
    case 'value':
      return { slot: `${message.kind}/${message.instance}`, value: toHex(message.value) }
    case 'echo':
    case 'ready':
      return { slot: `${message.kind}/${message.instance}`, value: toHex(message.digest) }
    case 'aux':
      return { slot: `aux/${message.instance}/${message.round}`, value: String(message.value) }
    case 'conf':
      return { slot: `conf/${message.instance}/${message.round}`, value: String(message.values) }
    case 'term':
      return { slot: `term/${message.instance}`, value: String(message.value) }
    case 'bval':
    case 'value-request':
      return undefined
  }
}

export class EquivocationDetector {
  readonly #seen = new Map<string, string>()
  readonly conflicts: Equivocation[] = []
  messages = 0
  /** Messages seen by kind ('share', or the ACS kind). */
  readonly kinds = new Map<string, number>()

  /** Records one round frame `sender` sent. */
  observe(sender: string, frameBytes: Uint8Array): void {
    const frame = decodeRoundFrame(frameBytes, 1 << 24, 1 << 24)
    for (const message of frame.messages) {
      const kind = message.kind === 'share' ? 'share' : message.message.kind
      this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1)
      const slotted = message.kind === 'share' ? { slot: 'share', value: toHex(message.signature) } : slotOf(message.message)
      if (slotted === undefined) continue
      this.messages++
      const key = `${sender}/${frame.round}/${slotted.slot}`
      const held = this.#seen.get(key)
      if (held === undefined) this.#seen.set(key, slotted.value)
      else if (held !== slotted.value) this.conflicts.push({ sender: sender.slice(0, 8), round: frame.round, slot: slotted.slot })
    }
  }
}

/** What a facilitator has just done in its round when a crash is triggered: proposed, voted (BVAL), signed. */
export type CrashPoint = 'proposed' | 'voted' | 'signed'

/** Whether the machine has reached `point`: checked after each journal write (before what it sends leaves). */
function machineAt(machine: FacilitatorRoundState | undefined, point: CrashPoint): boolean {
  if (machine === undefined) return false
  if (point === 'proposed') return machine.proposal !== undefined
  if (point === 'voted') return machine.acs.agreements.some((agreement) => agreement.input !== undefined)
  return machine.result !== undefined
}

/** Whether a frame carries `point`'s message (for a node that journals nothing: the crash comes as it is sent). */
function frameAt(frame: RoundFrame, point: CrashPoint): boolean {
  return frame.messages.some((message) => {
    if (point === 'signed') return message.kind === 'share'
    if (message.kind !== 'acs') return false
    return message.message.kind === (point === 'proposed' ? 'init' : 'bval')
  })
}

export interface RestartMember {
  readonly index: number
  readonly keyPair: KeyPair
  readonly id: string
  readonly sim: SimNode
  readonly chain: AnchoredNode
  /** What survives a crash: the round journal (appends are durable when they return). */
  readonly journal: MemoryRoundJournal
  /** The node of the current life. */
  node: SolarSystemNode
  up: boolean
  lives: number
}

/**
 * A crash the simulation triggers itself, the first time a facilitator's round machine of a round >= `fromRound` has
 * reached `point`: seen when its journal write completes, or (for a node that journals nothing) when it sends the
 * frame that carries the point's message.
 */
export interface CrashTrigger {
  readonly point: CrashPoint
  readonly fromRound: number
  /**
   * Whether what the step sends leaves before the crash. False: the crash comes between the journal write and the
   * send — the journal holds what nobody received.
   */
  readonly leaves: boolean
  /** Who crashes, given the facilitator that sent the frame and the round's committee. */
  readonly victims: (sender: RestartMember, committee: readonly string[]) => readonly RestartMember[]
  /** Virtual milliseconds until the i-th victim starts again. */
  readonly downMs: (i: number) => number
  /** Certificates the i-th victim's store lost at the crash (the last ones it had applied). */
  readonly lag: (i: number) => number
}

export interface RestartSimOptions {
  readonly seed: string
  readonly members: number
  readonly facilitators: number
  readonly timing?: Partial<SolarSystemTiming>
}

export interface RestartSim {
  readonly crypto: Crypto
  readonly net: SimNetwork
  readonly members: readonly RestartMember[]
  readonly detector: EquivocationDetector
  readonly errors: unknown[]
  /** Crashes the first time the trigger's condition holds; `crashed` resolves with the round it happened in. */
  arm(trigger: CrashTrigger): Promise<number>
  /** Runs until every member that is up has certified `round` (throws on a stall of `timeoutMs` virtual ms). */
  runUntilRound(round: number, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

export async function createRestartSim(options: RestartSimOptions): Promise<RestartSim> {
  const crypto = await testCrypto()
  const net = new SimNetwork({ crypto, seed: options.seed, latency: uniformLatency(5, 25), degree: Math.min(6, options.members - 1) })
  const keyPairs = simKeyPairs(crypto, `restart-${options.seed}`, options.members)
  const genesis = simGenesis(
    keyPairs.map((pair) => toHex(pair.publicKey)),
    options.facilitators,
  )
  const rules: SolarSystemRules = defaultSolarSystemRules({ facilitators: options.facilitators })
  const timing: Partial<SolarSystemTiming> = { proposalTimeoutMs: 300, ...options.timing }
  const errors: unknown[] = []
  const detector = new EquivocationDetector()
  const members: RestartMember[] = []
  let trigger: { readonly spec: CrashTrigger; readonly fired: (round: number) => void } | undefined

  const crash = (member: RestartMember): void => {
    if (!member.up) return
    member.up = false
    net.crash(member.id)
    void member.node.stop()
  }

  const restart = (member: RestartMember, lag: number): void => {
    net.restart(member.id)
    const old = member.node
    const kept = Math.max(0, old.history.round - lag)
    const restore: CheckpointCertificate[] = Array.from({ length: kept }, (_, i) => old.history.certificate(i + 1) as CheckpointCertificate)
    member.node = newNode(member, restore)
    member.up = true
    member.lives++
    member.node.start().catch((error: unknown) => errors.push(error))
  }

  /** Fires the armed trigger once: crashes the victims now or (when what was sent leaves first) a moment later. */
  const fire = (self: RestartMember, round: number): void => {
    const armed = trigger
    if (armed === undefined) return
    trigger = undefined
    const committee = self.node.facilitatorRound?.config.seed.committee.facilitators ?? [self.id]
    const victims = armed.spec.victims(self, committee)
    const down = () => {
      for (const victim of victims) crash(victim)
      victims.forEach((victim, i) => net.clock.setTimer(armed.spec.downMs(i), () => restart(victim, armed.spec.lag(i))))
      armed.fired(round)
    }
    if (armed.spec.leaves) net.clock.setTimer(0, down)
    else down()
  }

  /** The member's journal, watched: after each write, the armed trigger may fire. */
  const journalOf = (index: number): MemoryRoundJournal => {
    const inner = createMemoryRoundJournal({ deferred: true })
    return {
      get records() {
        return inner.records
      },
      get appends() {
        return inner.appends
      },
      load: () => inner.load(),
      prune: (round) => inner.prune(round),
      append(records) {
        const written = inner.append(records)
        const self = members[index]
        const machine = self?.node.facilitatorRound
        if (
          self?.up === true &&
          trigger !== undefined &&
          machine !== undefined &&
          machine.round >= trigger.spec.fromRound &&
          machineAt(machine, trigger.spec.point)
        ) {
          fire(self, machine.round)
        }
        return written
      },
    }
  }

  /** The network a member's consensus runs on: its simulated node, with every round frame it sends observed. */
  const networkOf = (index: number, sim: SimNode): ConsensusNetwork =>
    withRequests(sim, (peer, protocol, data, requestOptions) => {
      if (protocol !== ROUND_PROTOCOL) return sim.request(peer, protocol, data, requestOptions)
      const self = members[index] as RestartMember
      const frame = decodeRoundFrame(data, 1 << 24, 1 << 24)
      const armed = trigger
      if (armed !== undefined && self.up && frame.round >= armed.spec.fromRound && frameAt(frame, armed.spec.point)) {
        fire(self, frame.round)
        if (!self.up) return Promise.reject(new Error('crashed before the frame left'))
      }
      detector.observe(self.id, data)
      return sim.request(peer, protocol, data, requestOptions)
    })

  const newNode = (member: Omit<RestartMember, 'node' | 'up' | 'lives'>, restore: readonly CheckpointCertificate[]): SolarSystemNode =>
    createSolarSystemNode({
      crypto,
      keyPair: member.keyPair,
      network: networkOf(member.index, member.sim),
      clock: net.clock,
      chain: {
        checkpoint: (request) => member.chain.checkpoint(request),
        stretch: (after) => member.chain.stretch(after),
      },
      genesis,
      rules,
      timing,
      restore,
      roundJournal: member.journal,
      onError: (error) => errors.push(error),
    })

  for (const [index, keyPair] of keyPairs.entries()) {
    const sim = net.addNode(keyPair)
    await sim.start()
    const store = createMemoryBlockStore({ crypto })
    await store.write({ blocks: [createGenesisBlock({ crypto, keyPair }, { balance: SIM_BALANCE, timestamp: 0 })] })
    const id = toHex(keyPair.publicKey)
    // The chain checks proposals against whichever life of the consensus runs now.
    const chain = createAnchoredNode({
      crypto,
      keyPair,
      store,
      network: sim,
      anchors: { round: () => members[index]?.node.state.round ?? 0, anchorOf: (publicKey) => members[index]?.node.anchors().anchorOf(publicKey) },
      clock: net.clock,
      onError: (error) => errors.push(error),
    })
    await chain.start()
    const partial = { index, keyPair, id, sim, chain, journal: journalOf(index) }
    members.push({ ...partial, node: newNode(partial, []), up: true, lives: 1 })
  }
  for (const member of members) member.node.start().catch((error: unknown) => errors.push(error))

  return {
    crypto,
    net,
    members,
    detector,
    errors,
    arm(spec) {
      return new Promise<number>((resolve) => {
        trigger = { spec, fired: resolve }
      })
    },
    async runUntilRound(round, timeoutMs = 60_000) {
      let watching = true
      const reached = new Promise<void>((resolve) => {
        // Lives come and go, so the members are polled in virtual time rather than watched through one node's events.
        const poll = () => {
          if (!watching) return
          if (!members.every((m) => m.up && m.node.history.round >= round)) return void net.clock.setTimer(50, poll)
          watching = false
          resolve()
        }
        poll()
      })
      try {
        await net.runUntil(reached, timeoutMs)
      } catch (error) {
        watching = false
        const rounds = members.map((m) => `${m.id.slice(0, 6)}:${m.up ? m.node.history.round : 'down'}`).join(' ')
        throw new Error(`round ${round} not reached by every member (${rounds}): ${String(error)}`)
      }
    },
    async stop() {
      trigger = undefined
      for (const member of members) {
        await member.node.stop()
        await member.chain.stop()
      }
    },
  }
}
