/**
 * The network genesis as a value: its JSON form (the codec), the solar system it founds and its fingerprint. Pure —
 * no file, no node — so the explorer's browser app derives the solar system's genesis and checks certificates from
 * it exactly as a node does (network-genesis.ts reads and checks the operators' file).
 */
import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import { defaultSolarSystemRules, type SolarSystemGenesis, type SolarSystemRules } from '@constellation/consensus'
import * as t from 'io-ts'
import { type Hex32, Hex32Codec, SafeNonNegativeInteger } from './value-codecs.js'

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

/**
 * The solar system's genesis: its group, the founding members with their opening balances (what each member's genesis
 * block states and may spend), and as first facilitators those with the lowest ids.
 */
export function solarSystemGenesisOf(genesis: NetworkGenesis): SolarSystemGenesis {
  const ids = genesis.members.map((m) => m.id)
  return {
    level: 0,
    group: genesis.group,
    members: ids,
    facilitators: [...ids].sort().slice(0, genesis.facilitators),
    balances: Object.fromEntries(genesis.members.map((m) => [m.id, m.balance])),
  }
}

/** The solar system the genesis founds, and the rules it runs by. */
export function solarSystemOf(genesis: NetworkGenesis): { genesis: SolarSystemGenesis; rules: SolarSystemRules } {
  return { genesis: solarSystemGenesisOf(genesis), rules: defaultSolarSystemRules({ facilitators: genesis.facilitators }) }
}

/**
 * SHA-256 of the genesis's canonical encoding, hex: what operators publish so that anyone can tell the genesis a node
 * (or a page) uses is the network's. Encoded from the decoded value, so key order, spacing and unknown fields in
 * the file do not change it.
 */
export function genesisFingerprint(crypto: Crypto, genesis: NetworkGenesis): string {
  return toHex(crypto.sha256(encodeCanonical(NetworkGenesisCodec.encode(genesis))))
}

export function memberOf(genesis: NetworkGenesis, publicKey: Uint8Array): GenesisMember | undefined {
  const id: Hex32 = toHex(publicKey)
  return genesis.members.find((m) => m.id === id)
}
