/**
 * The hierarchy this node actually runs (`GET /v1/hierarchy`). Today a node runs one solar system, the genesis's, at
 * level 0, and nothing certifies its certificates further up: that solar system is the network's root. The view is
 * built from the node's consensus state (members, the facilitators of the round under way, the latest round and its
 * result hash), not from a picture of levels the network does not run; when the node runs higher levels (a
 * `HierarchyIndex` over star clusters and galaxies), they belong here.
 */
import { toHex } from '@constellation/crypto'
import type { FullNode } from '../node/full-node.js'
import type { HierarchyGroup, HierarchyLevelName, HierarchyView } from './explorer-views.js'

/** The name of each level of the hierarchy, by level number. */
export const LEVEL_NAMES: readonly HierarchyLevelName[] = ['solar system', 'star cluster', 'galaxy', 'universe']

export function hierarchyView(node: FullNode): HierarchyView {
  const state = node.consensus.state
  const { level, group } = state.genesis
  const solarSystem: HierarchyGroup = {
    level,
    group,
    parent: null,
    members: [...state.members].sort(),
    facilitators: [...state.committee.facilitators],
    round: state.round,
    resultHash: toHex(state.resultHash),
    followed: true,
  }
  return {
    levels: [{ level, name: LEVEL_NAMES[level] ?? 'universe', groups: [solarSystem] }],
    root: { level, group },
  }
}
