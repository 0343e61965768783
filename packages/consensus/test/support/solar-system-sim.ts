/**
 * A whole solar system on the seeded simulator: every member a SimNetwork node with a memory block store, an
 * anchored TrustChain node (genesis block with the genesis balance) and a SolarSystemNode whose certified anchors it
 * checks proposals against. Same seed, same run.
 */
import { type Crypto, type KeyPair, loadCrypto, toHex } from '@constellation/crypto'
import {
  type Clock,
  createRandom,
  GossipError,
  GossipErrorCode,
  type LatencyModel,
  type Random,
  SimNetwork,
  type SimNode,
  sleep,
  uniformLatency,
} from '@constellation/gossip'
import {
  type AnchoredNode,
  type AnchoredNodeOptions,
  type BlockStore,
  type CertifiedAnchors,
  createAnchoredNode,
  createGenesisBlock,
  createMemoryBlockStore,
} from '@constellation/trustchain'
import {
  type CheckpointCertificate,
  type ConsensusNetwork,
  type CrossSystemOptions,
  type MemberSchedule,
  createSolarSystemNode,
  defaultSolarSystemRules,
  type SolarSystemGenesis,
  type SolarSystemNode,
  type SolarSystemRules,
  type SolarSystemTiming,
} from '../../src/index.js'
import type { RoundMessage } from '../../src/round/facilitator-round.js'
import { decodeRoundFrame, encodeRoundFrame } from '../../src/shell/wire.js'
import { equivocate } from './adversarial-acs.js'

let shared: Promise<Crypto> | undefined
export const testCrypto = (): Promise<Crypto> => (shared ??= loadCrypto())

export interface SimMember {
  readonly keyPair: KeyPair
  readonly id: string
  readonly sim: SimNode
  readonly store: BlockStore
  readonly chain: AnchoredNode
  readonly consensus: SolarSystemNode
}

/** Every member's opening balance in the simulated solar systems. */
export const SIM_BALANCE = 1_000_000

export interface SolarSystemSimOptions {
  readonly seed: number | string
  readonly members: number
  readonly facilitators: number
  readonly lossRate?: number
  readonly latency?: LatencyModel
  readonly timing?: Partial<SolarSystemTiming>
  readonly rules?: SolarSystemRules
  /** Members crashed from the start (their simulated node is down and their consensus never starts). */
  readonly silent?: readonly number[]
  /**
   * Probability that a consensus request (a round frame, a checkpoint submission) or its answer is lost. The
   * simulator's streams never lose requests, so loss is injected here; gossip loss is `lossRate`.
   */
  readonly requestLossRate?: number
  /** Options of the members' anchored TrustChain nodes (a signing policy, timeouts). */
  readonly chain?: Partial<AnchoredNodeOptions>
  /** The solar system's epoch changes, shared by every member. */
  readonly epochs?: MemberSchedule
  /** Members whose consensus traffic an adversary rewrites (see `byzantine` in sim/byzantine.test.ts). */
  readonly corrupt?: ReadonlyMap<number, (network: ConsensusNetwork, random: Random) => ConsensusNetwork>
  /** Rounds an idle member goes between checkpoints (the node's default when absent). */
  readonly idleCheckpointRounds?: number
}

export interface SolarSystemSim {
  readonly crypto: Crypto
  readonly net: SimNetwork
  readonly members: readonly SimMember[]
  readonly genesis: SolarSystemGenesis
  readonly rules: SolarSystemRules
  readonly errors: unknown[]
  /** Runs the simulation until every running member has certified `round` (or `timeoutMs` of virtual time pass). */
  runUntilRound(round: number, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

/** The members' key pairs of a simulated solar system, from its seed's label. */
export function simKeyPairs(crypto: Crypto, label: string, count: number): KeyPair[] {
  return Array.from({ length: count }, (_, i) => crypto.keyPairFromSeed(seedBytes(label, i)))
}

/** A level-0 genesis: the first `facilitators` ids in order are its first committee, each member holds SIM_BALANCE. */
export function simGenesis(ids: readonly string[], facilitators: number): SolarSystemGenesis {
  return {
    level: 0,
    group: 'sol-0',
    members: ids,
    facilitators: [...ids].sort().slice(0, facilitators),
    balances: Object.fromEntries(ids.map((id) => [id, SIM_BALANCE])),
  }
}

function seedBytes(label: string, i: number): Uint8Array {
  const bytes = new Uint8Array(32)
  const text = new TextEncoder().encode(`${label}/${i}`)
  bytes.set(text.subarray(0, 32))
  bytes[31] = i & 0xff
  bytes[30] = (i >> 8) & 0xff
  return bytes
}

export interface SimMemberOptions {
  /** The TrustChain node's seed. */
  readonly seed: number
  readonly genesis: SolarSystemGenesis
  readonly rules: SolarSystemRules
  readonly errors: unknown[]
  readonly timing?: Partial<SolarSystemTiming>
  readonly chain?: Partial<AnchoredNodeOptions>
  /** The network the consensus runs on (default: the simulated node itself). */
  readonly network?: (sim: SimNode) => ConsensusNetwork
  /** The epoch changes, or how to make them from the member's network (an `EpochFollower` that derives them). */
  readonly epochs?: MemberSchedule | ((network: ConsensusNetwork) => MemberSchedule)
  /** Rounds an idle member goes between checkpoints (the node's default when absent). */
  readonly idleCheckpointRounds?: number
  /**
   * Transfers with other solar systems: the anchors the chain checks proposers against, from the own system's
   * (`own`), and the consensus's cross-system options, both made from the member's parts.
   */
  readonly crossSystem?: (parts: { readonly sim: SimNode; readonly store: BlockStore; readonly own: CertifiedAnchors }) => {
    readonly anchors: CertifiedAnchors
    readonly options: CrossSystemOptions
  }
}

/**
 * One member on `net`: a started simulated node, a memory store with its genesis block (its genesis balance), an
 * anchored TrustChain node checking proposals against the consensus's certified anchors, and its (not started)
 * consensus.
 */
export async function createSimMember(net: SimNetwork, keyPair: KeyPair, options: SimMemberOptions): Promise<SimMember> {
  const crypto = await testCrypto()
  const { errors } = options
  const sim = net.addNode(keyPair)
  await sim.start()
  const store = createMemoryBlockStore({ crypto })
  const balance = options.genesis.balances?.[toHex(keyPair.publicKey)] ?? 0
  await store.write({ blocks: [createGenesisBlock({ crypto, keyPair }, { balance, timestamp: 0 })] })
  // The chain and the consensus need each other: the consensus appends to the chain, the chain checks against the
  // consensus's anchors. The anchors are read through this holder, filled once the consensus exists.
  let consensus: SolarSystemNode | undefined
  const own: CertifiedAnchors = { round: () => consensus?.state.round ?? 0, anchorOf: (publicKey) => consensus?.anchors().anchorOf(publicKey) }
  const crossSystem = options.crossSystem?.({ sim, store, own })
  const chain = createAnchoredNode({
    crypto,
    keyPair,
    store,
    network: sim,
    anchors: crossSystem?.anchors ?? own,
    clock: net.clock,
    onError: (error) => errors.push(error),
    ...options.chain,
  })
  await chain.start()
  const network = options.network?.(sim) ?? sim
  const epochs = typeof options.epochs === 'function' ? options.epochs(network) : options.epochs
  consensus = createSolarSystemNode({
    crypto,
    keyPair,
    network,
    clock: net.clock,
    chain: {
      checkpoint: (request) => chain.checkpoint(request),
      stretch: (after) => chain.stretch(after),
      proposalOf: (agreement) => store.get(agreement.linkPublicKey, agreement.linkSequenceNumber),
      onGrown: (listener) => chain.onGrown(() => listener()),
    },
    genesis: options.genesis,
    rules: options.rules,
    ...(options.timing === undefined ? {} : { timing: options.timing }),
    ...(epochs === undefined ? {} : { epochs }),
    ...(options.idleCheckpointRounds === undefined ? {} : { idleCheckpointRounds: options.idleCheckpointRounds }),
    ...(crossSystem === undefined ? {} : { crossSystem: crossSystem.options }),
    onError: (error) => errors.push(error),
  })
  return { keyPair, id: toHex(keyPair.publicKey), sim, store, chain, consensus }
}

export async function createSolarSystemSim(options: SolarSystemSimOptions): Promise<SolarSystemSim> {
  const crypto = await testCrypto()
  const net = new SimNetwork({
    crypto,
    seed: options.seed,
    latency: options.latency ?? uniformLatency(5, 25),
    lossRate: options.lossRate ?? 0,
    degree: Math.min(6, options.members - 1),
  })
  const keyPairs = simKeyPairs(crypto, `member-${options.seed}`, options.members)
  const ids = keyPairs.map((pair) => toHex(pair.publicKey))
  const genesis = simGenesis(ids, options.facilitators)
  const rules = options.rules ?? defaultSolarSystemRules({ facilitators: options.facilitators })
  const errors: unknown[] = []
  const members: SimMember[] = []
  const silent = new Set(options.silent ?? [])
  for (const [i, keyPair] of keyPairs.entries()) {
    const lossRate = options.requestLossRate ?? 0
    const corrupt = options.corrupt?.get(i)
    const network = (sim: SimNode): ConsensusNetwork => {
      const base: ConsensusNetwork = lossRate > 0 ? lossyRequests(sim, net.clock, createRandom(`${options.seed}/loss/${i}`), lossRate) : sim
      return corrupt === undefined ? base : corrupt(base, createRandom(`${options.seed}/byzantine/${i}`))
    }
    members.push(
      await createSimMember(net, keyPair, {
        seed: i,
        genesis,
        rules,
        errors,
        network,
        ...(options.timing === undefined ? {} : { timing: options.timing }),
        ...(options.chain === undefined ? {} : { chain: options.chain }),
        ...(options.epochs === undefined ? {} : { epochs: options.epochs }),
        ...(options.idleCheckpointRounds === undefined ? {} : { idleCheckpointRounds: options.idleCheckpointRounds }),
      }),
    )
  }
  for (const [i, member] of members.entries()) {
    if (silent.has(i)) net.crash(member.id)
    else void member.consensus.start()
  }
  const running = () => members.filter((_, i) => !silent.has(i))
  return {
    crypto,
    net,
    members,
    genesis,
    rules,
    errors,
    async runUntilRound(round, timeoutMs = 120_000) {
      const reached = new Promise<void>((resolve) => {
        const check = () => {
          if (running().every((m) => m.consensus.history.round >= round)) {
            for (const off of offs) off()
            resolve()
          }
        }
        const offs = running().map((m) => m.consensus.onCertificate(check))
        check()
      })
      await net.runUntil(reached, timeoutMs)
    },
    async stop() {
      for (const member of members) {
        await member.consensus.stop()
        await member.chain.stop()
      }
    },
  }
}

/** `network` with its requests sent through `request`, everything else passed on: for faults injected per request. */
export function withRequests(network: ConsensusNetwork, request: ConsensusNetwork['request']): ConsensusNetwork {
  return {
    peerId: network.peerId,
    limits: network.limits,
    publish: (topic, data) => network.publish(topic, data),
    subscribe: (topic, handler) => network.subscribe(topic, handler),
    handle: (protocol, handler) => network.handle(protocol, handler),
    peers: () => network.peers(),
    request,
  }
}

/** The node's network, with each request (or its answer) lost with probability `rate`: the requester times out. */
function lossyRequests(sim: SimNode, clock: Clock, random: Random, rate: number): ConsensusNetwork {
  const lost = (timeout: number) =>
    sleep(clock, timeout).then(() => {
      throw new GossipError(GossipErrorCode.TIMEOUT, 'lost in the simulated network')
    })
  return withRequests(sim, (peer, protocol, data, options = {}) => {
    const draw = random.next()
    const timeout = options.timeout ?? sim.limits.requestTimeoutMs
    if (draw < rate / 2) return lost(timeout)
    if (draw < rate) return sim.request(peer, protocol, data, options).then(() => lost(timeout))
    return sim.request(peer, protocol, data, options)
  })
}

/** The certified result hashes by round, as one member holds them. */
export function certifiedHashes(member: SimMember): string[] {
  const out: string[] = []
  for (let round = 1; round <= member.consensus.history.round; round++) out.push(toHex(member.consensus.history.resultHashOf(round) as Uint8Array))
  return out
}

export type { CheckpointCertificate }

/**
 * `network` with the round frames it sends on `protocol` rewritten by an adversary: each message kept, corrupted
 * (votes and digests equivocated, shares forged) or withheld, per peer, by the seed.
 */
export function rewriteRoundFrames(network: ConsensusNetwork, random: Random, protocol: string): ConsensusNetwork {
  return withRequests(network, (peer, requested, data, options) => {
    if (requested !== protocol) return network.request(peer, requested, data, options)
    const frame = decodeRoundFrame(data, network.limits.maxMessageBytes, 1 << 20)
    const messages: RoundMessage[] = []
    for (const message of frame.messages) {
      const draw = random.next()
      if (draw < 0.15) continue // withheld from this peer
      if (draw < 0.5) {
        if (message.kind === 'share') messages.push({ kind: 'share', signature: Uint8Array.from({ length: 64 }, () => random.int(256)) })
        else messages.push({ kind: 'acs', message: equivocate(message.message, random) ?? message.message })
      } else messages.push(message)
    }
    return network.request(peer, requested, encodeRoundFrame({ ...frame, messages }), options)
  })
}
