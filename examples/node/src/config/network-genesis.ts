/**
 * The network genesis: the file every node of one network shares. It names the solar system (its group), the
 * founding members with their opening balances, how many facilitators run each round, and the genesis time. From
 * it each node derives the same `SolarSystemGenesis` and rules, and its own chain's genesis block. Its form, the
 * derivation and the fingerprint are pure (network-genesis-form.ts, which the explorer's page uses too); this
 * module reads and checks the file.
 */
import { NodeError, NodeErrorCode } from '../errors.js'
import { decodeJsonFile } from './codecs.js'
import { type NetworkGenesis, NetworkGenesisCodec } from './network-genesis-form.js'

export {
  type GenesisMember,
  GenesisMemberCodec,
  genesisFingerprint,
  memberOf,
  type NetworkGenesis,
  NetworkGenesisCodec,
  solarSystemGenesisOf,
  solarSystemOf,
} from './network-genesis-form.js'

/** Members of one solar system at most (the consensus's own bound on a committee's electorate). */
export const MAX_GENESIS_MEMBERS = 1_024
/** A genesis file is small; anything larger is not one. */
export const MAX_GENESIS_BYTES = 256 * 1024

/** Checks what the codec cannot: members distinct, enough of them for the facilitators, not too many. */
export function checkGenesis(genesis: NetworkGenesis): NetworkGenesis {
  const ids = new Set(genesis.members.map((m) => m.id))
  if (ids.size !== genesis.members.length) throw new NodeError(NodeErrorCode.INVALID_GENESIS, 'genesis members must be distinct')
  if (genesis.members.length > MAX_GENESIS_MEMBERS) throw new NodeError(NodeErrorCode.INVALID_GENESIS, `at most ${MAX_GENESIS_MEMBERS} genesis members`)
  if (genesis.facilitators > genesis.members.length) {
    throw new NodeError(
      NodeErrorCode.INVALID_GENESIS,
      `${genesis.facilitators} facilitators need at least as many members, the genesis has ${genesis.members.length}`,
    )
  }
  return genesis
}

export async function readNetworkGenesis(path: string): Promise<NetworkGenesis> {
  return checkGenesis(await decodeJsonFile(path, NetworkGenesisCodec, MAX_GENESIS_BYTES, NodeErrorCode.INVALID_GENESIS, 'genesis file'))
}
