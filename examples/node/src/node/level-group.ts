/**
 * A group above level 0 that this node validates — a star cluster, a galaxy, the root — as the node runs it: the
 * consensus package's `LevelNode` over the node's own network (its protocols and topics carry the level, so one
 * network serves the solar system and every level), and the read-only view the node's modules get of it.
 *
 * The validator follows its children's certificates, facilitates when the group's election picks it, signs and
 * gossips the group's certificates (which commit the children's), and serves certificate ranges and finality paths;
 * the root also takes membership requests. Like the solar system's facilitators, the group's are connected to at
 * once, and again each time a certificate names the next committee.
 */
import type { Crypto, KeyPair } from '@constellation/crypto'
import { createLevelNode, type LevelNode } from '@constellation/consensus'
import type { Clock } from '@constellation/interface'
import type { LevelGroupOf } from '../config/network-genesis.js'
import type { Logger } from '../log/logger.js'
import { CommitteeLinks } from './committee-links.js'
import type { LevelView } from './full-node.js'
import type { NodeNetwork } from './node-parts.js'

export interface LevelGroupComponents {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly network: NodeNetwork
  readonly clock: Clock
  readonly log: (module: string) => Logger
  readonly onError: (error: unknown) => void
}

/** Starts validating `group`; the caller stops `node` when the node closes. */
export async function startLevelGroup(group: LevelGroupOf, components: LevelGroupComponents): Promise<{ readonly node: LevelNode; readonly view: LevelView }> {
  const { genesis, children, root } = group
  const log = components.log('hierarchy')
  const node = createLevelNode({
    crypto: components.crypto,
    keyPair: components.keyPair,
    network: components.network,
    clock: components.clock,
    genesis,
    children,
    rules: group.rules,
    membership: root,
    onError: components.onError,
  })
  // Links of its own: CommitteeLinks remembers the one committee it connected last.
  const links = new CommitteeLinks(components.network, components.log('network'))
  node.onCertificate((certificate, state) => {
    links.connect(state.committee.facilitators)
    log.debug({ level: genesis.level, group: genesis.group, round: state.round, children: certificate.result.body.checkpoints.length }, 'certified')
  })
  await node.start()
  links.connect(genesis.members)
  log.info({ level: genesis.level, group: genesis.group, root, validators: genesis.members.length }, 'validating')
  const view: LevelView = {
    genesis,
    children,
    get state() {
      return node.state
    },
    get history() {
      return node.history
    },
    get stats() {
      return node.stats
    },
    childHistory: (child) => (children.some((c) => c.group === child) ? node.index.history(genesis.level - 1, child) : undefined),
    facilitating: () => node.facilitatorRound !== undefined,
    finalityPath: (level, group, round) => node.index.finalityPath(level, group, round),
  }
  return { node, view }
}
