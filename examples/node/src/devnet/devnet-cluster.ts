/**
 * The running processes of a devnet: one `constellation start` per data dir of a layout, their HTTP APIs once each
 * has printed its ready line, and the one way they end (`stop`: SIGTERM to all, SIGKILL to any still running after
 * the grace period, and the exits reported). A node can be stopped, killed and started again on the same data dir
 * (the end-to-end tests do). Children are put in their own process group, so a terminal's Ctrl-C reaches only the
 * devnet, which stops the load, gathers the figures and then stops the nodes; if the devnet process itself goes away
 * uncleanly, an exit hook kills whatever is still running. A layout written `behindProxies` gets its loopback proxy
 * (devnet/loopback-proxy.ts) started before the nodes and closed after them; `proxy` is how a node's network is cut.
 */
import { readApiCookie } from '../api/api-token.js'
import { LoopbackProxy } from './loopback-proxy.js'
import type { DevnetLayout, DevnetNodeLayout } from './devnet-layout.js'
import { NodeApi } from './node-api.js'
import { describeExit, type NodeExit, NodeProcess, type ReadyLine } from './node-process.js'
import { pollUntil } from './poll-until.js'

/** Longer than the node's own shutdown timeout (cli/shutdown.ts), so a slow close is not cut short. */
export const STOP_GRACE_MS = 15_000
/** A node that is not up after this long will not come up. */
const READY_TIMEOUT_MS = 90_000

export interface RunningNode {
  readonly layout: DevnetNodeLayout
  process: NodeProcess
  ready: ReadyLine
  api: NodeApi
}

export interface NodeStopReport {
  readonly name: string
  readonly exit: NodeExit
  /** Not a clean exit: a non-zero code, or killed after the grace period. */
  readonly failed: boolean
}

export class DevnetCluster {
  readonly layout: DevnetLayout
  readonly nodes: RunningNode[] = []
  /** In front of every node when the layout is behind proxies. */
  #proxy: LoopbackProxy | undefined
  readonly #all = new Set<NodeProcess>()
  /** Stopped or killed on purpose (`stopNode`, `killNode`): their exits are not faults. */
  readonly #ended = new Set<NodeProcess>()
  readonly #exitHook = () => {
    for (const child of this.#all) child.kill()
  }

  private constructor(layout: DevnetLayout) {
    this.layout = layout
    process.once('exit', this.#exitHook)
  }

  /** Starts every node of `layout` and resolves once all are ready; on failure, what started is killed. */
  static async start(layout: DevnetLayout, options: { readonly signal?: AbortSignal; readonly env?: NodeJS.ProcessEnv } = {}): Promise<DevnetCluster> {
    const cluster = new DevnetCluster(layout)
    try {
      if (layout.behindProxies) {
        cluster.#proxy = await LoopbackProxy.start(
          layout.nodes.map((node) => {
            if (node.proxyPort === undefined) throw new Error(`node-${node.index} of a layout behind proxies has no proxy port`)
            return { port: node.proxyPort, target: { host: node.p2pHost, port: node.p2pPort }, source: node.p2pHost }
          }),
        )
      }
      const processes = layout.nodes.map((node) => cluster.#spawn(node, options.env))
      const readies = await withAbort(
        Promise.all(processes.map((child) => withTimeout(child.ready(), READY_TIMEOUT_MS, `${child.name} to be ready`))),
        options.signal,
      )
      const apis = await Promise.all(layout.nodes.map((node, i) => apiOf(node, readies[i] as ReadyLine)))
      layout.nodes.forEach((node, i) => {
        cluster.nodes.push({ layout: node, process: processes[i] as NodeProcess, ready: readies[i] as ReadyLine, api: apis[i] as NodeApi })
      })
      return cluster
    } catch (error) {
      await cluster.stop(0)
      throw error
    }
  }

  /** The proxy in front of the nodes, when the layout put them behind one. */
  get proxy(): LoopbackProxy | undefined {
    return this.#proxy
  }

  /** Starts node `index` again on its data dir (after `stopNode` or `killNode`); resolves when it is ready. */
  async restart(index: number, options: { readonly env?: NodeJS.ProcessEnv } = {}): Promise<RunningNode> {
    const node = this.#node(index)
    if (node.process.exit === undefined) throw new Error(`${node.process.name} is still running`)
    node.api.close()
    node.process = this.#spawn(node.layout, options.env)
    node.ready = await withTimeout(node.process.ready(), READY_TIMEOUT_MS, `${node.process.name} to be ready again`)
    node.api = await apiOf(node.layout, node.ready)
    return node
  }

  async stopNode(index: number, graceMs = STOP_GRACE_MS): Promise<NodeExit> {
    const child = this.#node(index).process
    this.#ended.add(child)
    return child.stop(graceMs)
  }

  /** SIGKILL, and resolves once the process is gone. */
  async killNode(index: number): Promise<NodeExit> {
    const child = this.#node(index).process
    this.#ended.add(child)
    child.kill()
    return child.exited()
  }

  /** Resolves once every node's certified round is at least `round`. */
  async untilRound(round: number, options: { readonly timeoutMs: number; readonly signal?: AbortSignal }): Promise<number[]> {
    return pollUntil(
      () => Promise.all(this.nodes.map(async (node) => (await node.api.status(options.signal)).round)),
      (rounds) => rounds.every((r) => r >= round),
      { timeoutMs: options.timeoutMs, what: `every node to certify round ${round}`, ...(options.signal !== undefined && { signal: options.signal }) },
    )
  }

  /**
   * Stops every node that is still running (SIGTERM, then SIGKILL after `graceMs`; 0: SIGKILL at once) and reports
   * how each ended. A node failed if it had exited on its own before, or did not exit with code 0 when stopped.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<NodeStopReport[]> {
    const children = [...this.#all]
    const reports = await Promise.all(
      children.map(async (child): Promise<NodeStopReport> => {
        const exitedByItself = child.exit !== undefined && !this.#ended.has(child)
        let exit: NodeExit
        if (graceMs === 0) {
          child.kill()
          exit = await child.exited()
        } else {
          exit = await child.stop(graceMs)
        }
        const failed = exitedByItself || (graceMs > 0 && !this.#ended.has(child) && exit.code !== 0)
        this.#ended.add(child)
        return { name: child.name, exit, failed }
      }),
    )
    for (const node of this.nodes) node.api.close()
    // After the nodes: they close their connections through it.
    await this.#proxy?.close()
    process.off('exit', this.#exitHook)
    return reports
  }

  #spawn(layout: DevnetNodeLayout, env: NodeJS.ProcessEnv | undefined): NodeProcess {
    const child = new NodeProcess({ name: `node-${layout.index}`, dataDir: layout.dataDir, detached: true, ...(env !== undefined && { env }) })
    this.#all.add(child)
    return child
  }

  #node(index: number): RunningNode {
    const node = this.nodes[index]
    if (node === undefined) throw new Error(`no node ${index} in this devnet`)
    return node
  }
}

export function describeStop(report: NodeStopReport): string {
  return `${report.name} exited with ${describeExit(report.exit)}`
}

/** A node's API with the token it wrote at this start (a new one each time). */
async function apiOf(layout: DevnetNodeLayout, ready: ReadyLine): Promise<NodeApi> {
  return new NodeApi(ready.api, { token: await readApiCookie(layout.dataDir) })
}

function withTimeout<A>(promise: Promise<A>, ms: number, what: string): Promise<A> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function withAbort<A>(promise: Promise<A>, signal: AbortSignal | undefined): Promise<A> {
  if (signal === undefined) return promise
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort as () => void))
}
