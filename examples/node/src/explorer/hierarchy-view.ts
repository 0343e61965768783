/**
 * The hierarchy as this node sees it (`GET /v1/hierarchy`): every group the genesis founds, level by level from the
 * solar systems up to the root, with what this node knows of each from running it. Its own solar system comes from
 * its consensus state; a group it validates (a star cluster, the root) from that group's state, and that group's
 * children from the certificates it follows of them; the other solar systems and the root from the certificates it
 * follows of them to transfer across systems (other-systems.ts). A group this node neither runs nor follows is shown as the
 * genesis founded it, with no round (`followed: false`): the view says what the node knows, not more.
 */
import { toHex } from '@constellation/crypto'
import type { SolarSystemGenesis } from '@constellation/consensus'
import { genesisHashOf } from '@constellation/consensus/round'
import { foundedSolarSystems, levelGroupsOf, parentOf, solarSystemGenesisOf } from '../config/network-genesis.js'
import { followedHistory } from '../node/followed-history.js'
import type { FullNode, LevelView } from '../node/full-node.js'
import { roleNames } from '../node/node-roles.js'
import type { HierarchyGroup, HierarchyLevel, HierarchyLevelName, HierarchyView } from './explorer-views.js'

/** The name of each level of the hierarchy, by level number. */
export const LEVEL_NAMES: readonly HierarchyLevelName[] = ['solar system', 'star cluster', 'galaxy', 'universe']

export function hierarchyView(node: FullNode): HierarchyView {
  const parents = parentOf(node.genesis)
  const validated = new Map(node.levels.map((level) => [`${level.genesis.level}/${level.genesis.group}`, level]))
  const groups: HierarchyGroup[] = []
  for (const system of foundedSolarSystems(node.genesis)) {
    const parent = parents.get(`0/${system.group}`) ?? null
    if (system.group === node.roles.solarSystem) {
      const state = node.consensus.state
      groups.push({
        level: 0,
        group: system.group,
        parent,
        members: [...state.members].sort(),
        facilitators: [...state.committee.facilitators],
        round: state.round,
        resultHash: toHex(state.resultHash),
        followed: true,
        validating: false,
        facilitating: node.consensus.facilitating(),
        children: [],
        committed: [],
      })
      continue
    }
    const genesis = solarSystemGenesisOf(node.genesis, system.group)
    const history = followedHistory(node, 0, system.group)
    groups.push({
      level: 0,
      group: system.group,
      parent,
      members: [...genesis.members].sort(),
      facilitators: [...(history?.committeeFor(history.round + 1)?.facilitators ?? genesis.facilitators)],
      round: history?.round ?? null,
      resultHash: history === undefined ? null : toHex(history.resultHashOf(history.round) as Uint8Array),
      followed: history !== undefined,
      validating: false,
      facilitating: false,
      children: [],
      committed: [],
    })
  }
  for (const group of levelGroupsOf(node.genesis)) {
    const { level, group: name } = group.genesis
    const running = validated.get(`${level}/${name}`)
    // Validated here, or followed without running it (a member follows the root to settle across solar systems).
    const known = running ?? node.followed.find((followed) => followed.genesis.level === level && followed.genesis.group === name)
    const children = group.children.map((child) => child.group)
    groups.push({
      level,
      group: name,
      parent: parents.get(`${level}/${name}`) ?? null,
      members: [...group.genesis.members].sort(),
      facilitators: [...(known?.state.committee.facilitators ?? group.genesis.facilitators)],
      round: known?.state.round ?? null,
      resultHash: known === undefined ? null : toHex(known.state.resultHash),
      followed: known !== undefined,
      validating: running !== undefined,
      facilitating: running?.facilitating() ?? false,
      children,
      committed: known === undefined ? [] : committedChildren(node, group.children, known.state),
    })
  }
  const top = Math.max(...groups.map((g) => g.level))
  const levels: HierarchyLevel[] = []
  for (let level = 0; level <= top; level++) {
    levels.push({ level, name: LEVEL_NAMES[level] ?? 'universe', groups: groups.filter((g) => g.level === level) })
  }
  const root = groups.find((g) => g.level === top) as HierarchyGroup
  return {
    self: node.id,
    solarSystem: node.roles.solarSystem,
    roles: roleNames(node.roles),
    levels,
    root: { level: root.level, group: root.group },
  }
}

/** Per child, the newest of its rounds the group has certified (committed), and the group's round that did it. */
function committedChildren(node: FullNode, children: readonly SolarSystemGenesis[], state: LevelView['state']): HierarchyGroup['committed'] {
  return children.map((child) => {
    const certified = state.lastCheckpoints.get(toHex(genesisHashOf(node.crypto, child)))
    return { group: child.group, round: certified?.entry.sequenceNumber ?? 0, in: certified?.round ?? 0 }
  })
}
