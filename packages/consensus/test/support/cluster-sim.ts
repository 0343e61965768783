/**
 * A star cluster on the seeded simulator with the real shells: several solar systems of `SolarSystemNode`s and one
 * level-1 group run by `LevelNode` validators, all on one `SimNetwork`. A validator is also a member of a solar
 * system (one network node holds both roles), picked round-robin across the systems. With `epochs`, every member
 * derives its solar system's epochs from the cluster's certified results (an `EpochFollower`), and `addMember` brings
 * in a node the cluster admitted. Same seed, same run.
 */
import { type Crypto, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import { createRandom, type Random, SimNetwork, type SimNode, uniformLatency } from '@constellation/gossip'
import type { AnchoredNodeOptions, BlockStore, CertifiedAnchors } from '@constellation/trustchain'
import {
  type ConsensusNetwork,
  type AwaitingAgreement,
  type CrossSystemOptions,
  createEpochFollower,
  createSolarSystemFollower,
  fetchFinalityPath,
  type SolarSystemFollower,
  createLevelNode,
  type EpochFollower,
  type EpochRules,
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
  /** The epoch rules a member (by system and index) derives its epochs with; undefined: no epochs. */
  readonly epochs?: (system: number, member: number) => EpochRules | undefined
  /**
   * Every genesis member's opening balance (the solar system genesis's `balances`, which its chain's genesis block
   * states), for tests that move value; default none (0). A member admitted later opens with 0.
   */
  readonly balance?: number
  /** Rounds an idle solar-system member goes between checkpoints (the node's default when absent). */
  readonly idleCheckpointRounds?: number
  /**
   * Transfers across solar systems: every member follows the other systems (`SolarSystemFollower`), checks
   * proposers from them against their anchors, and settles them: `rooted` (or true) with rooted proofs, the cluster
   * as the root (needs `epochs`, whose followers give each member the root's history); `followed` with proofs
   * checked against the followed systems' histories.
   */
  readonly crossSystem?: boolean | 'rooted' | 'followed'
  /** Options of a member's anchored chain (by system and index), such as the policy it countersigns by. */
  readonly chain?: (system: number, member: number) => Partial<AnchoredNodeOptions> | undefined
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
  /** The members' epoch followers, by member id. */
  readonly followers: ReadonlyMap<string, EpochFollower>
  /** With `crossSystem`: each member's followers of the other solar systems, by member id, then group. */
  readonly foreign: ReadonlyMap<string, ReadonlyMap<string, SolarSystemFollower>>
  /** A node admitted to `group`: a member that derives its epochs with `rules`, started (follower and consensus). */
  addMember(keyPair: KeyPair, group: string, rules: EpochRules, seed: number): Promise<SimMember>
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
  const keys = Array.from({ length: options.systems }, (_, s) =>
    Array.from({ length: options.membersPerSystem }, (_, i) => keyFor(crypto, `${options.seed}/sol-${s}/${i}`)),
  )
  const geneses = keys.map((system, s): SolarSystemGenesis => {
    const ids = system.map((pair) => toHex(pair.publicKey))
    const genesis: SolarSystemGenesis = { level: 0, group: `sol-${s}`, members: ids, facilitators: [...ids].sort().slice(0, options.facilitators) }
    return options.balance === undefined ? genesis : { ...genesis, balances: Object.fromEntries(ids.map((id) => [id, options.balance as number])) }
  })
  const validatorIds: string[] = []
  for (let v = 0; v < options.validators; v++) {
    const keyPair = keys[v % options.systems]?.[Math.floor(v / options.systems)]
    if (keyPair === undefined) throw new Error('more validators than members')
    validatorIds.push(toHex(keyPair.publicKey))
  }
  const cluster: SolarSystemGenesis = { level: 1, group: 'cluster-0', members: validatorIds, facilitators: [...validatorIds].sort() }
  const followers = new Map<string, EpochFollower>()
  const extra: SimMember[] = []
  const follow = (id: string, group: string, epochRules: EpochRules) => (network: ConsensusNetwork) => {
    const follower = createEpochFollower({
      crypto,
      network,
      clock: net.clock,
      root: cluster,
      systems: geneses,
      group,
      rules: epochRules,
      onError: (error) => errors.push(error),
    })
    followers.set(id, follower)
    return follower
  }
  const foreign = new Map<string, Map<string, SolarSystemFollower>>()
  let proofProbes = 0
  // A member's view of the other systems: their anchors beside its own, and the evidence its transfers with them need.
  const mode = options.crossSystem === 'followed' ? 'followed' : 'rooted'
  const crossSystemOf = (self: KeyPair, genesis: SolarSystemGenesis) => (parts: { sim: SimNode; store: BlockStore; own: CertifiedAnchors }) => {
    const id = toHex(self.publicKey)
    const others = new Map(
      geneses
        .filter((other) => other.group !== genesis.group)
        .map((other) => [
          other.group,
          createSolarSystemFollower({ crypto, network: parts.sim, clock: net.clock, genesis: other, rules, onError: (error) => errors.push(error) }),
        ]),
    )
    foreign.set(id, others)
    const systemOf = (key: string) => [...others.values()].find((follower) => follower.state.members.has(key))
    const anchors: CertifiedAnchors = {
      round: () => parts.own.round(),
      roundOf: (publicKey) => systemOf(toHex(publicKey))?.state.round ?? parts.own.round(),
      anchorOf: (publicKey) => parts.own.anchorOf(publicKey) ?? systemOf(toHex(publicKey))?.anchors().anchorOf(publicKey),
    }
    const halvesOf = async (waiting: AwaitingAgreement) => {
      const proposal = await parts.store.get(fromHex(waiting.proposer), waiting.sequenceNumber)
      const agreement = await parts.store.get(self.publicKey, waiting.agreementSequenceNumber)
      return proposal === undefined || agreement === undefined ? undefined : { proposal, agreement }
    }
    const followedMode: Partial<CrossSystemOptions> = {
      followedHistory: (group) => others.get(group)?.history,
      agreementProofOf: async (waiting) => {
        const system = systemOf(waiting.proposer)
        const halves = await halvesOf(waiting)
        return system === undefined || halves === undefined || system.finalisedIn(halves) === undefined ? undefined : system.agreementProof(halves)
      },
    }
    const crossSystem: CrossSystemOptions = {
      ...(mode === 'followed' ? followedMode : {}),
      rootCommittee: (group, level, round) => (group === cluster.group && level === 1 ? followers.get(id)?.history.committeeFor(round) : undefined),
      answered: async (sequenceNumber) => {
        const proposal = await parts.store.get(self.publicKey, sequenceNumber)
        if (proposal === undefined) return undefined
        const agreement = (await parts.store.getLinked(self.publicKey, sequenceNumber)).find(
          (block) => block.linkSequenceNumber === sequenceNumber && toHex(block.publicKey) === toHex(proposal.linkPublicKey),
        )
        return agreement === undefined ? undefined : { proposal, agreement }
      },
      rootedProofOf: async (waiting) => {
        const system = systemOf(waiting.proposer)
        const halves = await halvesOf(waiting)
        if (system === undefined || halves === undefined || system.finalisedIn(halves) === undefined) return undefined
        const proof = system.agreementProof(halves)
        const validator = cluster.members[proofProbes++ % cluster.members.length] as string
        const path = await fetchFinalityPath(crypto, parts.sim, validator, proof.certificate, { level: 1 })
        return path === undefined ? undefined : { proof, paths: [path] }
      },
    }
    return { anchors, options: crossSystem }
  }
  for (const [s, genesis] of geneses.entries()) {
    const members: SimMember[] = []
    for (const [i, keyPair] of (keys[s] as KeyPair[]).entries()) {
      const epochRules = options.epochs?.(s, i)
      const epochs = epochRules === undefined ? undefined : follow(toHex(keyPair.publicKey), genesis.group, epochRules)
      const idle = options.idleCheckpointRounds === undefined ? {} : { idleCheckpointRounds: options.idleCheckpointRounds }
      const cross = options.crossSystem === undefined || options.crossSystem === false ? {} : { crossSystem: crossSystemOf(keyPair, genesis) }
      const chain = options.chain?.(s, i)
      if (chain !== undefined) Object.assign(cross, { chain })
      members.push(
        await createSimMember(net, keyPair, { seed: s * 1_000 + i, genesis, rules, errors, ...idle, ...cross, ...(epochs === undefined ? {} : { epochs }) }),
      )
    }
    systems.push({ genesis, members })
  }
  const chosen = validatorIds.map((_, v) => systems[v % options.systems]?.members[Math.floor(v / options.systems)] as SimMember)
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
  for (const follower of followers.values()) void follower.start()
  for (const others of foreign.values()) for (const follower of others.values()) follower.start()
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
    followers,
    foreign,
    async addMember(keyPair, group, epochRules, seed) {
      const genesis = geneses.find((g) => g.group === group) as SolarSystemGenesis
      const member = await createSimMember(net, keyPair, { seed, genesis, rules, errors, epochs: follow(toHex(keyPair.publicKey), group, epochRules) })
      extra.push(member)
      void followers.get(member.id)?.start()
      void member.consensus.start()
      return member
    },
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
      for (const follower of followers.values()) await follower.stop()
      for (const others of foreign.values()) for (const follower of others.values()) await follower.stop()
      for (const system of [...systems, { members: extra }]) {
        for (const member of system.members) {
          await member.consensus.stop()
          await member.chain.stop()
        }
      }
    },
  }
}
