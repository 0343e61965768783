/**
 * The roles the genesis gives a node: member of one solar system (every node is: it keeps a chain and transacts
 * there), and validator of the groups above level 0 that name it — a star cluster, a galaxy, the root. Facilitating
 * is no standing role: each round's election picks the facilitators of every group, so a node learns it per round
 * (`NodeStatus.facilitating`, the hierarchy view's `facilitating`).
 */
import { toHex } from '@constellation/crypto'
import { type LevelGroupOf, levelGroupsOf, memberOf, type NetworkGenesis } from '../config/network-genesis.js'

export interface NodeRoles {
  /** The solar system this node is a member of. */
  readonly solarSystem: string
  /** The opening balance the genesis gives it (its chain's genesis block states it). */
  readonly balance: number
  /** The groups above level 0 this node validates, lowest level first. */
  readonly validates: readonly LevelGroupOf[]
}

/** The node's roles, or undefined when the genesis does not found it (it is no member of any solar system). */
export function rolesOf(genesis: NetworkGenesis, publicKey: Uint8Array): NodeRoles | undefined {
  const member = memberOf(genesis, publicKey)
  if (member === undefined) return undefined
  const id = toHex(publicKey)
  return { solarSystem: member.group, balance: member.balance, validates: levelGroupsOf(genesis).filter((group) => group.genesis.members.includes(id)) }
}

/** The roles by name, as status and the API show them: `member`, and `validator:<level>/<group>` (`root` for the root). */
export function roleNames(roles: NodeRoles): string[] {
  return ['member', ...roles.validates.map((group) => `${group.root ? 'root validator' : 'validator'} ${group.genesis.level}/${group.genesis.group}`)]
}
