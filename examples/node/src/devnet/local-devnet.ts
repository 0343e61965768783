/**
 * A small devnet in a temp dir, certifying, for scripts and end-to-end tests: writes the layout, starts the nodes,
 * waits until every node has certified a couple of rounds; `close()` stops the nodes and removes the dir.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Crypto } from '@constellation/crypto'
import { DevnetCluster, type NodeStopReport } from './devnet-cluster.js'
import { writeDevnetLayout } from './devnet-layout.js'

export interface LocalDevnet {
  readonly cluster: DevnetCluster
  readonly baseDir: string
  /** Stops every node (SIGTERM, then SIGKILL) and removes the base dir; reports how each node ended. */
  close(): Promise<NodeStopReport[]>
}

export interface LocalDevnetOptions {
  readonly crypto: Crypto
  /** Names the network (its genesis group) and the temp dir. */
  readonly name: string
  readonly nodes: number
  readonly facilitators: number
  readonly balance: number
  /** Solar systems the nodes are split among, with a star cluster above them (default 1; see devnet-layout.ts). */
  readonly solarSystems?: number
  /** Every node has certified this round before the devnet is handed over (default 2). */
  readonly round?: number
  readonly timeoutMs?: number
}

export async function startLocalDevnet(options: LocalDevnetOptions): Promise<LocalDevnet> {
  const baseDir = await mkdtemp(join(tmpdir(), `constellation-${options.name}-`))
  try {
    const layout = await writeDevnetLayout({
      baseDir,
      nodes: options.nodes,
      facilitators: options.facilitators,
      balance: options.balance,
      crypto: options.crypto,
      group: options.name,
      ...(options.solarSystems !== undefined && { solarSystems: options.solarSystems }),
    })
    const cluster = await DevnetCluster.start(layout)
    const close = async () => {
      try {
        return await cluster.stop()
      } finally {
        await rm(baseDir, { recursive: true, force: true })
      }
    }
    try {
      await cluster.untilRound(options.round ?? 2, { timeoutMs: options.timeoutMs ?? 30_000 })
    } catch (error) {
      await close()
      throw error
    }
    return { cluster, baseDir, close }
  } catch (error) {
    await rm(baseDir, { recursive: true, force: true })
    throw error
  }
}
