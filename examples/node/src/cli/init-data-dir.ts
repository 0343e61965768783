/**
 * `constellation init`: makes a data dir a node's home — a key file (owner-only, sealed with a passphrase when one
 * is given), `config.json` with the defaults, and the network genesis (copied from a file, or a new network with this
 * node as its only member). An initialised dir is never rewritten unless asked (`force`), and even then the key is
 * kept: the key is the node's identity and its balance, and `init` must not be the way to lose them.
 */
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { createKeyFile, type Crypto, loadCrypto, loadKeyFile, toHex } from '@constellation/crypto'
import { libp2pPeerIdOf } from '@constellation/gossip'
import { type NetworkGenesis, networkMembers, readNetworkGenesis } from '../config/network-genesis.js'
import { dataPaths, defaultNodeConfig } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { createGenesis, writeGenesisFile } from './genesis-file.js'

export type GenesisSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'new-network'; readonly group: string; readonly facilitators: number; readonly balance: number; readonly timestamp: number }

export interface InitOptions {
  readonly dataDir: string
  /** Without one, the genesis is put in `<dataDir>/genesis.json` later (see `constellation genesis`). */
  readonly genesis?: GenesisSource
  /** Rewrite config.json (and genesis.json when a genesis is given); the key is kept. */
  readonly force?: boolean
  readonly passphrase?: string
  readonly crypto?: Crypto
}

export interface InitResult {
  readonly id: string
  /** The libp2p peer id of the same key: what follows `/p2p/` in this node's addresses, for others' `--bootstrap`. */
  readonly peerId: string
  readonly dataDir: string
  readonly keyFile: string
  readonly keyCreated: boolean
  readonly configFile: string
  /** Where the genesis was written, if one was. */
  readonly genesisFile?: string
  /** False when a genesis was given that does not name this node (it cannot start until it does). */
  readonly member?: boolean
}

export async function initDataDir(options: InitOptions): Promise<InitResult> {
  const dataDir = resolve(options.dataDir)
  const paths = dataPaths(dataDir)
  const existing = [paths.config, paths.key].filter((path) => existsSync(path))
  if (existing.length > 0 && options.force !== true) {
    throw new NodeError(
      NodeErrorCode.ALREADY_INITIALISED,
      `${dataDir} is already initialised (${existing.map((path) => path.slice(dataDir.length + 1)).join(', ')}): pass --force to rewrite its config and genesis (the key is kept)`,
      { dataDir },
    )
  }
  // Read the genesis before writing anything, so a bad file leaves the dir as it was.
  const given: NetworkGenesis | undefined = options.genesis?.kind === 'file' ? await readNetworkGenesis(options.genesis.path) : undefined
  const crypto = options.crypto ?? (await loadCrypto())
  const passphrase = options.passphrase === undefined ? {} : { passphrase: options.passphrase }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const keyCreated = !existsSync(paths.key)
  const keyPair = keyCreated ? await createKeyFile(paths.key, { crypto, ...passphrase }) : await loadKeyFile(paths.key, { crypto, ...passphrase })
  const id = toHex(keyPair.publicKey)
  const peerId = libp2pPeerIdOf(id)

  const config = defaultNodeConfig(dataDir)
  await writeFile(paths.config, `${JSON.stringify(config, null, 2)}\n`)

  const source = options.genesis
  const genesis =
    source?.kind === 'new-network'
      ? createGenesis({ group: source.group, facilitators: source.facilitators, timestamp: source.timestamp, members: [{ id, balance: source.balance }] })
      : given
  if (genesis === undefined) return { id, peerId, dataDir, keyFile: paths.key, keyCreated, configFile: paths.config }
  await writeGenesisFile(config.genesisFile, genesis)
  return {
    id,
    peerId,
    dataDir,
    keyFile: paths.key,
    keyCreated,
    configFile: paths.config,
    genesisFile: config.genesisFile,
    member: networkMembers(genesis).some((m) => m.id === id),
  }
}
