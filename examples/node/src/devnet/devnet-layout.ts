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
import { checkGenesis, type NetworkGenesis } from '../config/network-genesis.js'
import { dataPaths, defaultNodeConfig, type LogLevel, type NodeConfig } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { nodeHost } from './loopback-proxy.js'
import { reserveFreePorts } from './free-ports.js'

const HOST = '127.0.0.1'

export interface DevnetNodeLayout {
  readonly index: number
  /** Hex public key. */
  readonly id: string
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
  readonly group?: string
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
  const drafts: Omit<DevnetNodeLayout, 'config'>[] = []
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
  const genesis = checkGenesis({
    version: 1,
    group: options.group ?? 'devnet',
    timestamp: Date.now(),
    facilitators: options.facilitators,
    members: drafts.map((node) => ({ id: node.id, balance: options.balance })),
  })
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
      return { ...draft, config }
    }),
  )
  return { baseDir, genesisFile, genesis, nodes, behindProxies }
}
