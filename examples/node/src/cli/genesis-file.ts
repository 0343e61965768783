/**
 * Assembling a network genesis by hand: create one with its founding members, add members one at a time, write it
 * where every node reads it. A genesis being assembled may name more facilitators than it has members yet (the
 * members are added next); `start` checks the finished file with `checkGenesis`.
 */
import { randomBytes } from 'node:crypto'
import { rename, writeFile } from 'node:fs/promises'
import { decodeJsonFile, decodeWith } from '../config/codecs.js'
import { type GenesisMember, MAX_GENESIS_BYTES, MAX_GENESIS_MEMBERS, type NetworkGenesis, NetworkGenesisCodec } from '../config/network-genesis.js'
import { NetworkGenesisV1Codec } from '../config/network-genesis-form.js'

/** The genesis these commands assemble: one solar system (version 1). A hierarchy's (version 2) is written as JSON. */
type DraftGenesis = Extract<NetworkGenesis, { version: 1 }>
import { NodeError, NodeErrorCode } from '../errors.js'

function checkDraft(genesis: DraftGenesis): DraftGenesis {
  const seen = new Set<string>()
  for (const member of genesis.members) {
    if (seen.has(member.id)) throw new NodeError(NodeErrorCode.INVALID_GENESIS, `${member.id} is a member twice`, { id: member.id })
    seen.add(member.id)
  }
  if (genesis.members.length > MAX_GENESIS_MEMBERS) throw new NodeError(NodeErrorCode.INVALID_GENESIS, `at most ${MAX_GENESIS_MEMBERS} genesis members`)
  return genesis
}

export function createGenesis(options: {
  readonly group: string
  readonly facilitators: number
  readonly members: readonly GenesisMember[]
  readonly timestamp: number
}): DraftGenesis {
  const genesis = decodeWith(
    NetworkGenesisV1Codec,
    { version: 1, group: options.group, timestamp: options.timestamp, facilitators: options.facilitators, members: options.members },
    NodeErrorCode.INVALID_GENESIS,
    'genesis',
  )
  return checkDraft(genesis)
}

export function addGenesisMember(genesis: DraftGenesis, member: GenesisMember): DraftGenesis {
  if (genesis.members.some((m) => m.id === member.id)) throw new NodeError(NodeErrorCode.INVALID_GENESIS, `${member.id} is already a member`, { id: member.id })
  return checkDraft({ ...genesis, members: [...genesis.members, member] })
}

/** Reads a genesis that may still be missing members (see the module comment). */
export async function readGenesisDraft(path: string): Promise<DraftGenesis> {
  const genesis = await decodeJsonFile(path, NetworkGenesisCodec, MAX_GENESIS_BYTES, NodeErrorCode.INVALID_GENESIS, 'genesis file')
  if (genesis.version !== 1) {
    throw new NodeError(NodeErrorCode.INVALID_GENESIS, `${path} founds a hierarchy (version 2): add members to its solarSystems in the JSON`, { path })
  }
  return checkDraft(genesis)
}

export function genesisText(genesis: NetworkGenesis): string {
  return `${JSON.stringify(genesis, null, 2)}\n`
}

/** Written beside its final name and renamed, so a node never reads half a genesis. */
export async function writeGenesisFile(path: string, genesis: NetworkGenesis): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temporary, genesisText(genesis))
  await rename(temporary, path)
}
