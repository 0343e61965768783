/**
 * The network genesis: the file every node of one network shares. It names the solar systems (their groups), their
 * founding members with their opening balances, how many facilitators run each round, the groups above them with
 * their validators, and the genesis time. From it each node derives the same geneses and rules, and its own chain's
 * genesis block. Its form, the derivation and the fingerprint are pure (network-genesis-form.ts, which the
 * explorer's page uses too); this module reads and checks the file.
 */
import { NodeError, NodeErrorCode } from '../errors.js'
import { decodeJsonFile } from './codecs.js'
import { foundedLevels, foundedSolarSystems, type NetworkGenesis, NetworkGenesisCodec } from './network-genesis-form.js'

export {
  type FoundedLevelGroup,
  type FoundedSolarSystem,
  foundedLevels,
  foundedSolarSystems,
  type GenesisMember,
  GenesisMemberCodec,
  genesisFingerprint,
  GroupName,
  MAX_GENESIS_LEVEL,
  type LevelGroupOf,
  levelGroupsOf,
  memberOf,
  type NetworkGenesis,
  NetworkGenesisCodec,
  networkMembers,
  parentOf,
  solarSystemGenesisOf,
  solarSystemOf,
} from './network-genesis-form.js'

/** Members of one solar system at most (the consensus's own bound on a committee's electorate). */
export const MAX_GENESIS_MEMBERS = 1_024
/** Groups of every level at most: a genesis founds a network, further solar systems open as nodes join. */
export const MAX_GENESIS_GROUPS = 256
/** A genesis file is small; anything larger is not one. */
export const MAX_GENESIS_BYTES = 1024 * 1024

const invalid = (message: string, detail: Record<string, unknown> = {}) => new NodeError(NodeErrorCode.INVALID_GENESIS, message, detail)

/**
 * Checks what the codec cannot: members distinct across the network, enough of them for each system's facilitators
 * and not too many; group names distinct; above level 0 a tree — each group's children one level down, each group
 * below the top with exactly one parent, one root — whose validators are founding members, distinct, and enough for
 * the group's facilitators.
 */
export function checkGenesis(genesis: NetworkGenesis): NetworkGenesis {
  const systems = foundedSolarSystems(genesis)
  const levels = foundedLevels(genesis)
  if (systems.length === 0) throw invalid('the genesis must found at least one solar system')
  if (systems.length + levels.length > MAX_GENESIS_GROUPS) throw invalid(`at most ${MAX_GENESIS_GROUPS} groups`)
  const members = new Set<string>()
  const names = new Set<string>()
  for (const system of systems) {
    if (names.has(system.group)) throw invalid(`group ${system.group} is named twice`, { group: system.group })
    names.add(system.group)
    for (const member of system.members) {
      if (members.has(member.id)) throw invalid('genesis members must be distinct', { id: member.id })
      members.add(member.id)
    }
    if (system.members.length > MAX_GENESIS_MEMBERS) throw invalid(`at most ${MAX_GENESIS_MEMBERS} genesis members`, { group: system.group })
    if (system.facilitators > system.members.length) {
      throw invalid(`${system.facilitators} facilitators need at least as many members, the genesis has ${system.members.length}`, { group: system.group })
    }
  }
  // Which group of level k - 1 each group of level k certifies; every group below the top has exactly one parent.
  const byLevel = new Map<number, Set<string>>([[0, new Set(systems.map((s) => s.group))]])
  const parentOf = new Map<string, string>()
  for (const group of levels) {
    if (names.has(group.group)) throw invalid(`group ${group.group} is named twice`, { group: group.group })
    names.add(group.group)
    const below = byLevel.get(group.level - 1)
    if (below === undefined) throw invalid(`level ${group.level} has no level ${group.level - 1} below it`, { group: group.group })
    if (group.children.length === 0) throw invalid(`group ${group.group} certifies no children`, { group: group.group })
    if (new Set(group.children).size !== group.children.length) throw invalid(`group ${group.group} names a child twice`, { group: group.group })
    if (group.validators.length > MAX_GENESIS_MEMBERS) throw invalid(`at most ${MAX_GENESIS_MEMBERS} validators in a group`, { group: group.group })
    for (const child of group.children) {
      if (!below.has(child)) throw invalid(`group ${group.group} names ${child}, not a group of level ${group.level - 1}`, { group: group.group, child })
      const other = parentOf.get(`${group.level - 1}/${child}`)
      if (other !== undefined) throw invalid(`group ${child} has two parents, ${other} and ${group.group}`, { child })
      parentOf.set(`${group.level - 1}/${child}`, group.group)
    }
    if (new Set(group.validators).size !== group.validators.length) throw invalid(`group ${group.group} names a validator twice`, { group: group.group })
    const stranger = group.validators.find((id) => !members.has(id))
    if (stranger !== undefined) throw invalid(`validator ${stranger} of ${group.group} is not a founding member`, { group: group.group, id: stranger })
    if (group.facilitators > group.validators.length) {
      throw invalid(`${group.facilitators} facilitators need at least as many validators, ${group.group} has ${group.validators.length}`, {
        group: group.group,
      })
    }
    const level = byLevel.get(group.level) ?? new Set<string>()
    level.add(group.group)
    byLevel.set(group.level, level)
  }
  const top = Math.max(...byLevel.keys())
  for (const [level, groups] of byLevel) {
    if (level === top) continue
    for (const group of groups) if (!parentOf.has(`${level}/${group}`)) throw invalid(`group ${group} of level ${level} has no parent`, { group })
  }
  if ((byLevel.get(top)?.size ?? 0) !== 1) throw invalid(`the top level (${top}) must hold exactly one group, the root`)
  return genesis
}

export async function readNetworkGenesis(path: string): Promise<NetworkGenesis> {
  return checkGenesis(await decodeJsonFile(path, NetworkGenesisCodec, MAX_GENESIS_BYTES, NodeErrorCode.INVALID_GENESIS, 'genesis file'))
}
