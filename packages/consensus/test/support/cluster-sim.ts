/**
 * A star cluster on the seeded simulator with the real shells: several solar systems of `SolarSystemNode`s and one
 * level-1 group run by `LevelNode` validators, all on one `SimNetwork`. A validator is also a member of a solar
 * system (one network node holds both roles), picked round-robin across the systems. Same seed, same run.
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { createRandom, type Random, SimNetwork, uniformLatency } from '@constellation/gossip'
import {
  type ConsensusNetwork,
  createLevelNode,
  defaultSolarSystemRules,
  type LevelNode,
  type LevelTiming,
  type SolarSystemGenesis,
  type SolarSystemRules,
} from '../../src/index.js'
import { createSimMember, type SimMember, testCrypto } from './solar-system-sim.js'

export interface ClusterSimOptions {
  readonly seed: string
  readonly systems: number
  readonly membersPerSystem: number
  /** Facilitators of a solar-system round (every member when equal to `membersPerSystem`). */
  readonly facilitators: number
  /** Validators of the star cluster; all of them facilitate each of its rounds. */
  readonly validators: number
  /** Validators (by index) whose level node is built but not started: the test starts them late. */
  readonly late?: readonly number[]
  /** Validators whose network an adversary rewrites. */
  readonly corrupt?: ReadonlyMap<number, (network: ConsensusNetwork, random: Random) => ConsensusNetwork>
  readonly levelTiming?: Partial<LevelTiming>
  /** Whether the cluster (the root here) certifies membership requests. */
  readonly membership?: boolean
}

export interface ClusterValidator {
  readonly member: SimMember
  readonly level: LevelNode
  readonly network: ConsensusNetwork
}

export interface ClusterSim {
  readonly crypto: Crypto
  readonly net: SimNetwork
  readonly systems: readonly { readonly genesis: SolarSystemGenesis; readonly members: readonly SimMember[] }[]
  readonly cluster: SolarSystemGenesis
  readonly clusterRules: SolarSystemRules
  readonly validators: readonly ClusterValidator[]
  readonly errors: unknown[]
  /** Runs until every started validator has applied round `round` of the cluster. */
  runUntilClusterRound(round: number, timeoutMs?: number): Promise<void>
  /** Starts a late validator's level node; from then on `runUntilClusterRound` waits for it too. */
  startValidator(index: number): Promise<void>
  stop(): Promise<void>
}

function keyFor(crypto: Crypto, label: string): KeyPair {
  return crypto.keyPairFromSeed(crypto.sha256(new TextEncoder().encode(label)))
}

export async function createClusterSim(options: ClusterSimOptions): Promise<ClusterSim> {
  const crypto = await testCrypto()
  const net = new SimNetwork({ crypto, seed: options.seed, latency: uniformLatency(5, 25), degree: 6 })
  const errors: unknown[] = []
  const systems: { genesis: SolarSystemGenesis; members: SimMember[] }[] = []
  const rules = defaultSolarSystemRules({ facilitators: options.facilitators })
  for (let s = 0; s < options.systems; s++) {
    const keys = Array.from({ length: options.membersPerSystem }, (_, i) => keyFor(crypto, `${options.seed}/sol-${s}/${i}`))
    const ids = keys.map((pair) => toHex(pair.publicKey))
    const genesis: SolarSystemGenesis = { level: 0, group: `sol-${s}`, members: ids, facilitators: [...ids].sort().slice(0, options.facilitators) }
    const members: SimMember[] = []
    for (const [i, keyPair] of keys.entries()) members.push(await createSimMember(net, keyPair, { seed: s * 1_000 + i, genesis, rules, errors }))
    systems.push({ genesis, members })
  }
  const chosen: SimMember[] = []
  for (let v = 0; v < options.validators; v++) {
    const member = systems[v % options.systems]?.members[Math.floor(v / options.systems)]
    if (member === undefined) throw new Error('more validators than members')
    chosen.push(member)
  }
  const ids = chosen.map((member) => member.id)
  const cluster: SolarSystemGenesis = { level: 1, group: 'cluster-0', members: ids, facilitators: [...ids].sort() }
  const clusterRules = defaultSolarSystemRules({ facilitators: options.validators, maxProposalBytes: 900 * 1_024 })
  const validators = chosen.map((member, v): ClusterValidator => {
    const corrupt = options.corrupt?.get(v)
    const network: ConsensusNetwork = corrupt === undefined ? member.sim : corrupt(member.sim, createRandom(`${options.seed}/byzantine/${v}`))
    const level = createLevelNode({
      crypto,
      keyPair: member.keyPair,
      network,
      clock: net.clock,
      genesis: cluster,
      children: systems.map((system) => system.genesis),
      rules: clusterRules,
      membership: options.membership === true,
      ...(options.levelTiming === undefined ? {} : { timing: options.levelTiming }),
      onError: (error) => errors.push(error),
    })
    return { member, level, network }
  })
  for (const system of systems) for (const member of system.members) void member.consensus.start()
  const late = new Set(options.late ?? [])
  for (const [v, validator] of validators.entries()) if (!late.has(v)) void validator.level.start()
  const started = new Set<LevelNode>(validators.filter((_, v) => !late.has(v)).map((v) => v.level))
  return {
    crypto,
    net,
    systems,
    cluster,
    clusterRules,
    validators,
    errors,
    async runUntilClusterRound(round, timeoutMs = 120_000) {
      const reached = new Promise<void>((resolve) => {
        const check = () => {
          if ([...started].every((level) => level.history.round >= round)) {
            for (const off of offs) off()
            resolve()
          }
        }
        const offs = [...started].map((level) => level.onCertificate(check))
        check()
      })
      await net.runUntil(reached, timeoutMs)
    },
    async startValidator(index) {
      const validator = validators[index] as ClusterValidator
      started.add(validator.level)
      await validator.level.start()
    },
    async stop() {
      for (const validator of validators) await validator.level.stop()
      for (const system of systems) {
        for (const member of system.members) {
          await member.consensus.stop()
          await member.chain.stop()
        }
      }
    },
  }
}
