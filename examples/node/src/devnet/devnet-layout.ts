/**
 * The files of a local devnet, written before any node starts: one data dir per node with its key file and
 * `config.json` (what `constellation init` writes, with fixed loopback ports and every other node as bootstrap
 * peer), and one `genesis.json` shared by all. The nodes' libp2p peer ids follow from their public keys
 * (`libp2pPeerIdOf`), so every bootstrap address is known before the first node runs.
 *
 * Behind proxies (`behindProxies`, the soak's topology: see devnet/loopback-proxy.ts), node i listens on its own
 * loopback address 127.0.0.(i+2) and dials from it, and announces a proxy port on 127.0.0.1 instead, which the
 * others' bootstrap lists name too; the devnet cluster starts the proxy before the nodes.
 */
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { createKeyFile, type Crypto, toHex } from '@constellation/crypto'
import { libp2pPeerIdOf } from '@constellation/gossip'
import { checkGenesis, foundedSolarSystems, type NetworkGenesis } from '../config/network-genesis.js'
import { dataPaths, defaultNodeConfig, type LogLevel, type NodeConfig } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { nodeHost } from './loopback-proxy.js'
import { reserveFreePorts } from './free-ports.js'

const HOST = '127.0.0.1'

export interface DevnetNodeLayout {
  readonly index: number
  /** Hex public key. */
  readonly id: string
  /** The solar system the node is a member of. */
  readonly group: string
  readonly dataDir: string
  /** Where the node listens: 127.0.0.1, or behind a proxy its own loopback address. */
  readonly p2pHost: string
  readonly p2pPort: number
  readonly apiPort: number
  /** Behind a proxy: the proxy's port on 127.0.0.1 for this node, which it announces and the others dial. */
  readonly proxyPort?: number
  /** Where the others dial it: `/ip4/127.0.0.1/tcp/PORT/p2p/<libp2p id>` (the proxy's port when behind one). */
  readonly address: string
  readonly apiUrl: string
  readonly config: NodeConfig
}

export interface DevnetLayout {
  readonly baseDir: string
  readonly genesisFile: string
  readonly genesis: NetworkGenesis
  readonly nodes: readonly DevnetNodeLayout[]
  /** Every node is reached through a loopback proxy (each has a `proxyPort`). */
  readonly behindProxies: boolean
}

export interface DevnetLayoutOptions {
  readonly baseDir: string
  readonly nodes: number
  readonly facilitators: number
  /** Opening balance of every member. */
  readonly balance: number
  readonly crypto: Crypto
  /** The solar system's group (default `devnet`); with several, their groups are `sol-0`, `sol-1`, … */
  readonly group?: string
  /**
   * Solar systems the nodes are split among, in order (default 1). With more than one, a star cluster (`cluster`,
   * level 1) certifies them all and is the root (see `devnetGenesis`).
   */
  readonly solarSystems?: number
  readonly logLevel?: LogLevel
  /** Put every node behind a loopback proxy, so that its network can be cut (default: nodes dial each other directly). */
  readonly behindProxies?: boolean
}

/** The paths a layout of `nodes` nodes writes in `baseDir` (and a devnet removes afterwards). */
export function devnetPaths(baseDir: string, nodes: number): { readonly genesisFile: string; readonly dataDirs: readonly string[] } {
  return { genesisFile: join(baseDir, 'genesis.json'), dataDirs: Array.from({ length: nodes }, (_, i) => join(baseDir, `node-${i}`)) }
}

/** Refuses a base dir that already holds a devnet's files: a new one must not overwrite (or later remove) them. */
export function checkFreshBaseDir(baseDir: string, nodes: number): void {
  const { genesisFile, dataDirs } = devnetPaths(baseDir, nodes)
  const taken = [genesisFile, ...dataDirs].filter((path) => existsSync(path))
  if (taken.length > 0) {
    throw new NodeError(
      NodeErrorCode.ALREADY_INITIALISED,
      `${baseDir} already holds a devnet (${taken.map((path) => basename(path)).join(', ')}): remove it or choose another base dir`,
      { baseDir },
    )
  }
}

export async function writeDevnetLayout(options: DevnetLayoutOptions): Promise<DevnetLayout> {
  const { baseDir, crypto } = options
  checkFreshBaseDir(baseDir, options.nodes)
  const { genesisFile, dataDirs } = devnetPaths(baseDir, options.nodes)
  const behindProxies = options.behindProxies ?? false
  // Direct: a p2p and an API port each, on 127.0.0.1. Behind proxies: an API and a proxy port on 127.0.0.1, and a
  // p2p port on the node's own address.
  const ports = await reserveFreePorts(2 * options.nodes, HOST)
  const drafts: Omit<DevnetNodeLayout, 'config' | 'group'>[] = []
  for (let index = 0; index < options.nodes; index++) {
    const dataDir = dataDirs[index] as string
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    const keyPair = await createKeyFile(dataPaths(dataDir).key, { crypto })
    const id = toHex(keyPair.publicKey)
    const apiPort = ports[2 * index + 1] as number
    const p2pHost = behindProxies ? nodeHost(index) : HOST
    const p2pPort = behindProxies ? ((await reserveFreePorts(1, p2pHost))[0] as number) : (ports[2 * index] as number)
    const dialledPort = ports[2 * index] as number
    drafts.push({
      index,
      id,
      dataDir,
      p2pHost,
      p2pPort,
      apiPort,
      ...(behindProxies && { proxyPort: dialledPort }),
      address: `/ip4/${HOST}/tcp/${dialledPort}/p2p/${libp2pPeerIdOf(id)}`,
      apiUrl: `http://${HOST}:${apiPort}`,
    })
  }
  const genesis = devnetGenesis({
    ids: drafts.map((draft) => draft.id),
    solarSystems: options.solarSystems ?? 1,
    facilitators: options.facilitators,
    balance: options.balance,
    timestamp: Date.now(),
    ...(options.group !== undefined && { group: options.group }),
  })
  const groupOf = new Map(foundedSolarSystems(genesis).flatMap((system) => system.members.map((member) => [member.id, system.group] as const)))
  await writeFile(genesisFile, `${JSON.stringify(genesis, null, 2)}\n`)
  const nodes = await Promise.all(
    drafts.map(async (draft) => {
      const defaults = defaultNodeConfig(draft.dataDir)
      const config: NodeConfig = {
        ...defaults,
        genesisFile,
        p2p: {
          listen: [`/ip4/${draft.p2pHost}/tcp/${draft.p2pPort}`],
          bootstrap: drafts.filter((other) => other !== draft).map((other) => other.address),
          ...(draft.proxyPort !== undefined && { announce: [`/ip4/${HOST}/tcp/${draft.proxyPort}`], dialFrom: draft.p2pHost }),
        },
        api: { ...defaults.api, host: HOST, port: draft.apiPort },
        log: { level: options.logLevel ?? 'info' },
      }
      await writeFile(dataPaths(draft.dataDir).config, `${JSON.stringify(config, null, 2)}\n`)
      return { ...draft, group: groupOf.get(draft.id) as string, config }
    }),
  )
  return { baseDir, genesisFile, genesis, nodes, behindProxies }
}

/** Validators of the star cluster, at least: four tolerate one faulty (n >= 3t + 1). */
const CLUSTER_VALIDATORS = 4

/**
 * A devnet's genesis. One solar system: version 1, as before. Several: the nodes split among `sol-0`, `sol-1`, … in
 * order (sizes differing by one at most), each with `facilitators` facilitators (at most its size), and one star
 * cluster above them all as the root, validated by the first ⌈4 / S⌉ members of each system — validators are
 * members that serve the higher level, spread over the systems so that no system's loss takes the root with it —
 * with four facilitators (fewer when there are fewer validators).
 */
export function devnetGenesis(options: {
  readonly ids: readonly string[]
  readonly solarSystems: number
  readonly facilitators: number
  readonly balance: number
  readonly timestamp: number
  readonly group?: string
}): NetworkGenesis {
  const { ids, solarSystems, facilitators, balance, timestamp } = options
  if (!(Number.isInteger(solarSystems) && solarSystems >= 1 && solarSystems * 2 <= ids.length)) {
    throw new RangeError(`solar systems must be an integer from 1 to half the nodes (${Math.floor(ids.length / 2)}), got ${solarSystems}`)
  }
  const members = (slice: readonly string[]) => slice.map((id) => ({ id, balance }))
  if (solarSystems === 1) return checkGenesis({ version: 1, group: options.group ?? 'devnet', timestamp, facilitators, members: members(ids) })
  const systems = Array.from({ length: solarSystems }, (_, i) => {
    const slice = ids.filter((_, index) => Math.floor((index * solarSystems) / ids.length) === i)
    return { group: `sol-${i}`, facilitators: Math.min(facilitators, slice.length), members: members(slice) }
  })
  const perSystem = Math.ceil(CLUSTER_VALIDATORS / solarSystems)
  const validators = systems.flatMap((system) => system.members.slice(0, perSystem).map((member) => member.id))
  return checkGenesis({
    version: 2,
    timestamp,
    solarSystems: systems,
    levels: [
      {
        level: 1,
        group: 'cluster',
        facilitators: Math.min(CLUSTER_VALIDATORS, validators.length),
        validators,
        children: systems.map((system) => system.group),
      },
    ],
  })
}
