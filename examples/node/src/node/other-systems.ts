/**
 * The other solar systems of the network, as a member sees them: what it needs to transfer with their members.
 *
 * With several solar systems under one root (a version-2 genesis of two levels), a member follows each other system's
 * certificates (`SolarSystemFollower`: one certificate check per round, no stretches) and the root's. From them:
 *   - its chain checks a proposer from another system against that system's certified anchors, and knows the members
 *     of the others as counterparties (`anchors`);
 *   - its solar system settles transfers across systems (`crossSystem`, see the consensus README's "Transfers across
 *     solar systems"): its own proposals' answers come from its store; for an agreement it gave to a proposal from
 *     another system, the proof is that system's agreement proof (from the follower's certificates and leaves),
 *     which facilitators — every member follows every system — check against their own follower of it; rooted
 *     proofs, should a member send one, are checked against the root's committees from the followed root history.
 * A network of one solar system has none of this; deeper hierarchies are not supported yet (paths reach one level).
 */
import {
  type CertificateHistory,
  type CrossSystemOptions,
  createSolarSystemFollower,
  type SolarSystemFollower,
  type SolarSystemGenesis,
  type SolarSystemRules,
  type TransactionHalves,
} from '@constellation/consensus'
import { type Crypto, fromHex, toHex } from '@constellation/crypto'
import type { Clock } from '@constellation/interface'
import type { BlockStore, CertifiedAnchors } from '@constellation/trustchain'
import { foundedSolarSystems, levelGroupsOf, type NetworkGenesis, solarSystemOf } from '../config/network-genesis.js'
import type { NodeNetwork } from './node-parts.js'

export interface OtherSystemsOptions {
  readonly crypto: Crypto
  readonly network: NodeNetwork
  readonly clock: Clock
  readonly genesis: NetworkGenesis
  /** The node's own solar system. */
  readonly solarSystem: string
  readonly publicKey: Uint8Array
  readonly store: BlockStore
  /** The rules a solar system runs by, from the ones its genesis derives (every node of a network uses the same). */
  readonly rulesOf: (fromGenesis: SolarSystemRules) => SolarSystemRules
  readonly onError: (error: unknown) => void
}

export class OtherSystems {
  /** The other solar systems' followers, by group. */
  readonly systems: ReadonlyMap<string, SolarSystemFollower>
  /** The root's follower (the group one level above the solar systems). */
  readonly root: SolarSystemFollower
  readonly #options: OtherSystemsOptions

  private constructor(options: OtherSystemsOptions, systems: ReadonlyMap<string, SolarSystemFollower>, root: SolarSystemFollower) {
    this.#options = options
    this.systems = systems
    this.root = root
  }

  /** The followers for `genesis`, or undefined when the network has one solar system (or more than two levels). */
  static of(options: OtherSystemsOptions): OtherSystems | undefined {
    const { crypto, network, clock, genesis, solarSystem, onError } = options
    const groups = levelGroupsOf(genesis)
    const root = groups.find((group) => group.root)
    if (root === undefined || root.genesis.level !== 1 || groups.length !== 1 || foundedSolarSystems(genesis).length < 2) return undefined
    const follow = (group: { readonly genesis: SolarSystemGenesis; readonly rules: SolarSystemRules }) =>
      createSolarSystemFollower({ crypto, network, clock, genesis: group.genesis, rules: group.rules, onError })
    const systems = new Map(
      foundedSolarSystems(genesis)
        .filter((system) => system.group !== solarSystem)
        .map((system) => {
          const founded = solarSystemOf(genesis, system.group)
          return [system.group, follow({ genesis: founded.genesis, rules: options.rulesOf(founded.rules) })]
        }),
    )
    return new OtherSystems(options, systems, follow(root))
  }

  start(): void {
    this.root.start()
    for (const follower of this.systems.values()) follower.start()
  }

  async stop(): Promise<void> {
    await this.root.stop()
    for (const follower of this.systems.values()) await follower.stop()
  }

  /** The follower of the solar system `member` belongs to, if another one. */
  systemOf(member: string): SolarSystemFollower | undefined {
    for (const follower of this.systems.values()) if (follower.state.members.has(member)) return follower
    return undefined
  }

  /** The own system's anchors, and the other systems' for their members. */
  anchors(own: CertifiedAnchors): CertifiedAnchors {
    return {
      round: () => own.round(),
      roundOf: (publicKey) => this.systemOf(toHex(publicKey))?.state.round ?? own.round(),
      anchorOf: (publicKey) => own.anchorOf(publicKey) ?? this.systemOf(toHex(publicKey))?.anchors().anchorOf(publicKey),
    }
  }

  /** What the node's solar system needs to settle its transfers with the other systems. */
  crossSystem(): CrossSystemOptions {
    const { store, publicKey } = this.#options
    const rootHistory: CertificateHistory = this.root.history
    const rootGroup = this.root.state.genesis
    return {
      rootCommittee: (group, level, round) => (group === rootGroup.group && level === rootGroup.level ? rootHistory.committeeFor(round) : undefined),
      answered: async (sequenceNumber) => {
        const proposal = await store.get(publicKey, sequenceNumber)
        if (proposal === undefined) return undefined
        const agreement = (await store.getLinked(publicKey, sequenceNumber)).find(
          (block) => block.linkSequenceNumber === sequenceNumber && toHex(block.publicKey) === toHex(proposal.linkPublicKey),
        )
        return agreement === undefined ? undefined : { proposal, agreement }
      },
      // Every member follows every other system, so credits are checked against those histories: a credit names
      // its certificate by round instead of carrying it and its root path (tens of kilobytes in a busy round).
      followedHistory: (group) => this.systems.get(group)?.history,
      agreementProofOf: async (waiting) => {
        const system = this.systemOf(waiting.proposer)
        const proposal = await store.get(fromHex(waiting.proposer), waiting.sequenceNumber)
        const agreement = await store.get(publicKey, waiting.agreementSequenceNumber)
        if (system === undefined || proposal === undefined || agreement === undefined) return undefined
        const halves: TransactionHalves = { proposal, agreement }
        return system.finalisedIn(halves) === undefined ? undefined : system.agreementProof(halves)
      },
    }
  }
}
