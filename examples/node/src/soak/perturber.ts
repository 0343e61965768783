/**
 * Applies a manifest's perturbations to the running processes of a devnet (devnet-cluster.ts), and keeps what the
 * load needs to know meanwhile: which nodes are down (killed, stopping, starting again) and each node's current API
 * token (a node writes a new cookie at every start). A paused node is not down: it holds its connections and
 * answers late, as a stopped machine does, and the load keeps sending to it. Nor is a disconnected one: its API
 * answers (the load keeps sending to it), but its transfers find no counterparty and its peers lose it.
 *
 *   kill                  SIGKILL; `downMs` later started again on the same data dir, awaited until ready
 *   restart               SIGTERM (the node closes cleanly), then started again, awaited until ready
 *   pause                 SIGSTOP, `forMs`, SIGCONT
 *   disconnect            through the cluster's loopback proxy (devnet/loopback-proxy.ts): every p2p connection from
 *                         or to the node reset and new ones refused for `forMs`, then let through again; the nodes
 *                         find each other again by themselves
 *   restart-facilitators  the current committee (from a node's `/v1/status`) stopped with SIGTERM all at once,
 *                         then all started again at once
 */
import { setTimeout as delay } from 'node:timers/promises'
import * as t from 'io-ts'
import { readApiCookie } from '../api/api-token.js'
import type { DevnetCluster } from '../devnet/devnet-cluster.js'
import { describePerturbation, type Perturbation } from './soak-manifest.js'

export interface AppliedPerturbation {
  readonly perturbation: Perturbation
  readonly description: string
  /** Since the load started: when the manifest asked for it, when it began and when it was over (nodes back up). */
  readonly plannedAtMs: number
  readonly startedAtMs: number
  readonly endedAtMs: number
  /** The nodes it touched. */
  readonly nodes: readonly number[]
  /** Why it could not be carried out (a node that did not come back up). */
  readonly error?: string
}

const CommitteeCodec = t.type({ facilitators: t.array(t.string) })

export class Perturber {
  readonly #cluster: DevnetCluster
  readonly #origin: () => number
  readonly #down = new Set<number>()
  readonly #paused = new Set<number>()
  readonly #tokens: string[] = []

  constructor(cluster: DevnetCluster, origin: () => number) {
    this.#cluster = cluster
    this.#origin = origin
  }

  /** Reads every node's token (after the cluster started). */
  async init(): Promise<void> {
    await Promise.all(this.#cluster.nodes.map(async (node, i) => (this.#tokens[i] = await readApiCookie(node.layout.dataDir))))
  }

  /** Node `index`'s API URL and token, or undefined while it is down. */
  endpoint(index: number): { readonly url: string; readonly token: string } | undefined {
    const node = this.#cluster.nodes[index]
    const token = this.#tokens[index]
    if (node === undefined || token === undefined || this.#down.has(index) || node.process.exit !== undefined) return undefined
    return { url: node.api.url, token }
  }

  async apply(perturbation: Perturbation): Promise<AppliedPerturbation> {
    const startedAtMs = this.#now()
    let nodes: readonly number[] = 'node' in perturbation ? [perturbation.node] : []
    let error: string | undefined
    try {
      switch (perturbation.kind) {
        case 'kill':
          await this.#bounce(perturbation.node, () => this.#cluster.killNode(perturbation.node), perturbation.downMs ?? 0)
          break
        case 'restart':
          await this.#bounce(perturbation.node, () => this.#cluster.stopNode(perturbation.node), 0)
          break
        case 'pause':
          await this.#pause(perturbation.node, perturbation.forMs)
          break
        case 'disconnect':
          await this.#disconnect(perturbation.node, perturbation.forMs)
          break
        case 'restart-facilitators':
          nodes = await this.#committee()
          await Promise.all(nodes.map((node) => this.#bounce(node, () => this.#cluster.stopNode(node), 0)))
          break
      }
    } catch (cause) {
      error = (cause as Error).message
    }
    return {
      perturbation,
      description: describePerturbation(perturbation),
      plannedAtMs: perturbation.atMs,
      startedAtMs,
      endedAtMs: this.#now(),
      nodes,
      ...(error === undefined ? {} : { error }),
    }
  }

  /**
   * SIGCONT to every node still paused and the network back to every node still cut (before the cluster is stopped,
   * so that SIGTERM can be handled and the nodes close their connections as usual).
   */
  resumeAll(): void {
    for (const index of this.#paused) this.#signal(index, 'SIGCONT')
    this.#paused.clear()
    const proxy = this.#cluster.proxy
    if (proxy !== undefined) for (const index of this.#cluster.nodes.keys()) proxy.reconnect(index)
  }

  async #bounce(index: number, stop: () => Promise<unknown>, downMs: number): Promise<void> {
    this.#down.add(index)
    try {
      await stop()
      if (downMs > 0) await delay(downMs)
      await this.#cluster.restart(index)
      this.#tokens[index] = await readApiCookie((this.#cluster.nodes[index] as { layout: { dataDir: string } }).layout.dataDir)
    } finally {
      // A node that failed to come back is left as it is: it exited, so `endpoint` still says it is down.
      this.#down.delete(index)
    }
  }

  async #pause(index: number, forMs: number): Promise<void> {
    this.#signal(index, 'SIGSTOP')
    this.#paused.add(index)
    try {
      await delay(forMs)
    } finally {
      this.#signal(index, 'SIGCONT')
      this.#paused.delete(index)
    }
  }

  async #disconnect(index: number, forMs: number): Promise<void> {
    const proxy = this.#cluster.proxy
    if (proxy === undefined) throw new Error('the network was not started behind proxies: a node cannot be disconnected')
    proxy.disconnect(index)
    try {
      await delay(forMs)
    } finally {
      proxy.reconnect(index)
    }
  }

  /** The facilitators of the current committee, as node indices, from the first node that answers. */
  async #committee(): Promise<number[]> {
    const ids = this.#cluster.nodes.map((node) => node.layout.id)
    for (const [index, node] of this.#cluster.nodes.entries()) {
      if (this.endpoint(index) === undefined) continue
      try {
        const { facilitators } = await node.api.get('/v1/status', CommitteeCodec, AbortSignal.timeout(5_000))
        const indices = facilitators.map((id) => ids.indexOf(id)).filter((i) => i >= 0)
        if (indices.length > 0) return indices
      } catch {
        // Paused or busy: ask the next.
      }
    }
    throw new Error('no node answered with the current committee')
  }

  #signal(index: number, signal: NodeJS.Signals): void {
    const node = this.#cluster.nodes[index]
    const pid = node?.process.pid
    if (pid === undefined || node?.process.exit !== undefined) return
    try {
      process.kill(pid, signal)
    } catch {
      // ESRCH: it exited in between.
    }
  }

  #now(): number {
    return Math.round(performance.now() - this.#origin())
  }
}
