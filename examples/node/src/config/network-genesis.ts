/**
 * The network genesis: the file every node of one network shares. It names the solar system (its group), the
 * founding members with their opening balances, how many facilitators run each round, and the genesis time. From
 * it each node derives the same `SolarSystemGenesis` and rules, and its own chain's genesis block.
 */
import { toHex } from '@constellation/crypto'
import { defaultSolarSystemRules, type SolarSystemGenesis, type SolarSystemRules } from '@constellation/consensus'
import * as t from 'io-ts'
import { NodeError, NodeErrorCode } from '../errors.js'
import { decodeJsonFile, type Hex32, Hex32Codec, SafeNonNegativeInteger } from './codecs.js'

/** Members of one solar system at most (the consensus's own bound on a committee's electorate). */
export const MAX_GENESIS_MEMBERS = 1_024
/** A genesis file is small; anything larger is not one. */
export const MAX_GENESIS_BYTES = 256 * 1024

export const GenesisMemberCodec = t.exact(t.type({ id: Hex32Codec, balance: SafeNonNegativeInteger }))

export const NetworkGenesisCodec = t.exact(
  t.type({
    version: t.literal(1),
    /** The solar system's group name: certificates and gossip topics carry it, so two networks never mix. */
    group: t.refinement(t.string, (s) => /^[a-z0-9][a-z0-9-]{0,62}$/.test(s), 'GroupName'),
    /** Milliseconds since the epoch: the timestamp of every member's genesis block. */
    timestamp: SafeNonNegativeInteger,
    /** Facilitators per round (n >= 4 tolerates t = floor((n - 1) / 3) faulty ones). */
    facilitators: t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1 && n <= 64, 'FacilitatorCount'),
    members: t.array(GenesisMemberCodec),
  }),
)
export type NetworkGenesis = t.TypeOf<typeof NetworkGenesisCodec>
export type GenesisMember = t.TypeOf<typeof GenesisMemberCodec>

/** Checks what the codec cannot: members distinct, enough of them for the facilitators, not too many. */
export function checkGenesis(genesis: NetworkGenesis): NetworkGenesis {
  const ids = new Set(genesis.members.map((m) => m.id))
  if (ids.size !== genesis.members.length) throw new NodeError(NodeErrorCode.INVALID_GENESIS, 'genesis members must be distinct')
  if (genesis.members.length > MAX_GENESIS_MEMBERS) throw new NodeError(NodeErrorCode.INVALID_GENESIS, `at most ${MAX_GENESIS_MEMBERS} genesis members`)
  if (genesis.facilitators > genesis.members.length) {
    throw new NodeError(NodeErrorCode.INVALID_GENESIS, `${genesis.facilitators} facilitators need at least as many members, the genesis has ${genesis.members.length}`)
  }
  return genesis
}

export async function readNetworkGenesis(path: string): Promise<NetworkGenesis> {
  return checkGenesis(await decodeJsonFile(path, NetworkGenesisCodec, MAX_GENESIS_BYTES, NodeErrorCode.INVALID_GENESIS, 'genesis file'))
}

/** The solar system the genesis founds: the first facilitators are the members with the lowest ids. */
export function solarSystemOf(genesis: NetworkGenesis): { genesis: SolarSystemGenesis; rules: SolarSystemRules } {
  const ids = genesis.members.map((m) => m.id)
  return {
    genesis: { level: 0, group: genesis.group, members: ids, facilitators: [...ids].sort().slice(0, genesis.facilitators) },
    rules: defaultSolarSystemRules({ facilitators: genesis.facilitators }),
  }
}

export function memberOf(genesis: NetworkGenesis, publicKey: Uint8Array): GenesisMember | undefined {
  const id: Hex32 = toHex(publicKey)
  return genesis.members.find((m) => m.id === id)
}
