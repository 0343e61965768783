/**
 * The network genesis as a value: its JSON form (the codec), the groups it founds and its fingerprint. Pure — no
 * file, no node — so the explorer's browser app derives a solar system's genesis and checks certificates from it
 * exactly as a node does (network-genesis.ts reads and checks the operators' file).
 *
 * Two versions are read. Version 1 founds one solar system (`group`, `facilitators`, `members`). Version 2 founds a
 * hierarchy: `solarSystems` (level 0, each with its members and their opening balances) and `levels`, the groups
 * above — star clusters, galaxies, the universe — each naming its validators and the groups one level down that it
 * certifies; the one group of the highest level is the root. A node is a member of exactly one solar system and may
 * validate any number of groups above (its roles: node-roles.ts).
 */
import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import { defaultSolarSystemRules, type SolarSystemGenesis, type SolarSystemRules } from '@constellation/consensus'
import * as t from 'io-ts'
import { type Hex32, Hex32Codec, SafeNonNegativeInteger } from './value-codecs.js'

export const GenesisMemberCodec = t.exact(t.type({ id: Hex32Codec, balance: SafeNonNegativeInteger }))

/** Certificates and gossip topics carry a group's name, so two networks (or two groups) never mix. */
export const GroupName = t.refinement(t.string, (s) => /^[a-z0-9][a-z0-9-]{0,62}$/.test(s), 'GroupName')
/** Facilitators per round (n >= 4 tolerates t = floor((n - 1) / 3) faulty ones). */
const FacilitatorCount = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1 && n <= 64, 'FacilitatorCount')
/** Levels above the solar systems: star clusters (1), galaxies (2), the universe (3) — and room for more. */
export const MAX_GENESIS_LEVEL = 8
const LevelNumber = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1 && n <= MAX_GENESIS_LEVEL, 'LevelNumber')

export const NetworkGenesisV1Codec = t.exact(
  t.type({
    version: t.literal(1),
    /** The solar system's group name. */
    group: GroupName,
    /** Milliseconds since the epoch: the timestamp of every member's genesis block. */
    timestamp: SafeNonNegativeInteger,
    facilitators: FacilitatorCount,
    members: t.array(GenesisMemberCodec),
  }),
)

/** A solar system the genesis founds: its group, its facilitators per round, its members and their balances. */
export const FoundedSolarSystemCodec = t.exact(t.type({ group: GroupName, facilitators: FacilitatorCount, members: t.array(GenesisMemberCodec) }))

/** A group above level 0: its level, its validators (node ids), its facilitators per round, and the groups it certifies. */
export const FoundedLevelGroupCodec = t.exact(
  t.type({ level: LevelNumber, group: GroupName, facilitators: FacilitatorCount, validators: t.array(Hex32Codec), children: t.array(GroupName) }),
)

export const NetworkGenesisV2Codec = t.exact(
  t.type({
    version: t.literal(2),
    timestamp: SafeNonNegativeInteger,
    solarSystems: t.array(FoundedSolarSystemCodec),
    levels: t.array(FoundedLevelGroupCodec),
  }),
)

export const NetworkGenesisCodec = t.union([NetworkGenesisV1Codec, NetworkGenesisV2Codec])
export type NetworkGenesis = t.TypeOf<typeof NetworkGenesisCodec>
export type GenesisMember = t.TypeOf<typeof GenesisMemberCodec>
export type FoundedSolarSystem = t.TypeOf<typeof FoundedSolarSystemCodec>
export type FoundedLevelGroup = t.TypeOf<typeof FoundedLevelGroupCodec>

/** The solar systems the genesis founds (version 1: its one). */
export function foundedSolarSystems(genesis: NetworkGenesis): readonly FoundedSolarSystem[] {
  return genesis.version === 1 ? [{ group: genesis.group, facilitators: genesis.facilitators, members: genesis.members }] : genesis.solarSystems
}

/** The groups above level 0, lowest level first (version 1: none). */
export function foundedLevels(genesis: NetworkGenesis): readonly FoundedLevelGroup[] {
  return genesis.version === 1 ? [] : [...genesis.levels].sort((a, b) => a.level - b.level || (a.group < b.group ? -1 : 1))
}

/** Each group's parent by `level/group` (the solar systems' at level 0): the group one level up that certifies it. */
export function parentOf(genesis: NetworkGenesis): ReadonlyMap<string, string> {
  const parents = new Map<string, string>()
  for (const group of foundedLevels(genesis)) for (const child of group.children) parents.set(`${group.level - 1}/${child}`, group.group)
  return parents
}

/** Every founding member of every solar system, system by system. */
export function networkMembers(genesis: NetworkGenesis): readonly GenesisMember[] {
  return foundedSolarSystems(genesis).flatMap((system) => system.members)
}

/** The member and the solar system it belongs to, or undefined for a key the genesis does not found. */
export function memberOf(genesis: NetworkGenesis, publicKey: Uint8Array): (GenesisMember & { readonly group: string }) | undefined {
  const id: Hex32 = toHex(publicKey)
  for (const system of foundedSolarSystems(genesis)) {
    const member = system.members.find((m) => m.id === id)
    if (member !== undefined) return { ...member, group: system.group }
  }
  return undefined
}

/**
 * A founded solar system's genesis: its group, the founding members with their opening balances (what each member's
 * genesis block states and may spend), and as first facilitators those with the lowest ids.
 */
export function solarSystemGenesisOf(genesis: NetworkGenesis, group: string): SolarSystemGenesis {
  const system = foundedSystem(genesis, group)
  return foundedGenesis(
    0,
    system.group,
    system.members.map((m) => m.id),
    system.facilitators,
    system.members,
  )
}

/** A solar system the genesis founds, and the rules it runs by. */
export function solarSystemOf(genesis: NetworkGenesis, group: string): { genesis: SolarSystemGenesis; rules: SolarSystemRules } {
  return { genesis: solarSystemGenesisOf(genesis, group), rules: defaultSolarSystemRules({ facilitators: foundedSystem(genesis, group).facilitators }) }
}

function foundedSystem(genesis: NetworkGenesis, group: string): FoundedSolarSystem {
  const system = foundedSolarSystems(genesis).find((s) => s.group === group)
  if (system === undefined) throw new RangeError(`the genesis founds no solar system ${group}`)
  return system
}

/** A group above level 0 as the consensus runs it: its genesis (validators as members, no balances), rules, children. */
export interface LevelGroupOf {
  readonly genesis: SolarSystemGenesis
  readonly rules: SolarSystemRules
  readonly children: readonly SolarSystemGenesis[]
  /** The root: the one group of the highest level, which certifies membership requests. */
  readonly root: boolean
}

/** Every group above level 0 as the consensus runs it, lowest level first. */
export function levelGroupsOf(genesis: NetworkGenesis): readonly LevelGroupOf[] {
  const levels = foundedLevels(genesis)
  const top = Math.max(0, ...levels.map((g) => g.level))
  const geneses = new Map<string, SolarSystemGenesis>(foundedSolarSystems(genesis).map((s) => [`0/${s.group}`, solarSystemGenesisOf(genesis, s.group)]))
  const out: LevelGroupOf[] = []
  for (const group of levels) {
    const own = foundedGenesis(group.level, group.group, group.validators, group.facilitators, [])
    geneses.set(`${group.level}/${group.group}`, own)
    const children = group.children.map((child) => geneses.get(`${group.level - 1}/${child}`)).filter((g): g is SolarSystemGenesis => g !== undefined)
    out.push({ genesis: own, rules: defaultSolarSystemRules({ facilitators: group.facilitators }), children, root: group.level === top })
  }
  return out
}

function foundedGenesis(level: number, group: string, ids: readonly string[], facilitators: number, members: readonly GenesisMember[]): SolarSystemGenesis {
  return {
    level,
    group,
    members: [...ids],
    facilitators: [...ids].sort().slice(0, facilitators),
    balances: Object.fromEntries(members.map((m) => [m.id, m.balance])),
  }
}

/**
 * SHA-256 of the genesis's canonical encoding, hex: what operators publish so that anyone can tell the genesis a node
 * (or a page) uses is the network's. Encoded from the decoded value, so key order, spacing and unknown fields in
 * the file do not change it.
 */
export function genesisFingerprint(crypto: Crypto, genesis: NetworkGenesis): string {
  return toHex(crypto.sha256(encodeCanonical(NetworkGenesisCodec.encode(genesis))))
}
