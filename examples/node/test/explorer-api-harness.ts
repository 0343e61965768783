/**
 * What the explorer API tests share: a small network of in-process nodes (createNode on temp dirs, one genesis,
 * libp2p on loopback, as test/api.test.ts starts them) with the contracts module, the explorer module and the HTTP
 * API; plain HTTP calls; and a server-sent events client that parses the stream as it arrives.
 */
import { Agent, type IncomingHttpHeaders, request as httpRequest } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile, type KeyPair, loadCrypto, toHex } from '@constellation/crypto'
import { type Logger, pino } from 'pino'
import { type ApiModule, apiModule } from '../src/api/index.js'
import { contractRoutes } from '../src/api/routes/contracts.js'
import { defaultNodeConfig, type NodeConfig } from '../src/config/node-config.js'
import { contractsModule } from '../src/contracts/contracts-module.js'
import type { ExplorerBundler } from '../src/explorer/explorer-assets.js'
import { type ExplorerModuleOptions, explorerModule, explorerRoutes } from '../src/explorer/explorer-module.js'
import type { ExplorerEvent } from '../src/explorer/explorer-views.js'
import { createNode } from '../src/node/create-node.js'
import type { FullNode } from '../src/node/full-node.js'
import type { TransactionView } from './api-bodies.js'
import { ownerHeaders, rememberOwnerToken } from './api-owner.js'

/** An answer; `json` is the parsed body (undefined if it is not JSON), of the type the caller said it expects. */
export interface Reply<T = unknown> {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
  readonly text: string
  readonly json: T
}

const agent = new Agent({ keepAlive: true })

/** `url` over HTTP; `T` is the body the test expects (see api-bodies.ts): not checked, a wrong guess fails the test. */
export function call<T = unknown>(url: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  const method = options.method ?? 'GET'
  const headers = { ...(payload !== undefined && { 'content-type': 'application/json' }), ...ownerHeaders(url, method), ...options.headers }
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        const text = body.toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: json as T })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/**
 * POST /v1/transactions on `url` (a node's API), then, if the answer was 202 pending (no answer from the counterparty
 * within the node's wait, which a busy machine can take), GET it until agreed: the transaction view once agreed.
 */
export async function agreedTransfer(url: string, to: string, amount: number, timeoutMs = 15_000): Promise<TransactionView> {
  const sent = await call<TransactionView>(`${url}/v1/transactions`, { method: 'POST', body: { to, amount } })
  if (sent.status === 201) return sent.json
  if (sent.status !== 202) throw new Error(`POST /v1/transactions answered ${sent.status}: ${sent.text}`)
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const shown = await call<TransactionView>(`${url}/v1/transactions/${sent.json.id}`)
    if (shown.json?.status !== 'pending') {
      if (shown.json?.status === 'refused') throw new Error(`transaction ${sent.json.id} was refused: ${shown.text}`)
      return shown.json
    }
    if (Date.now() > deadline) throw new Error(`transaction ${sent.json.id} still pending after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export interface TestNetwork {
  readonly nodes: readonly FullNode[]
  /** Node i's key pair (a test signs as a node with it: the node itself never hands it out). */
  readonly keyPairs: readonly KeyPair[]
  readonly apis: readonly ApiModule[]
  url(node: number, path: string): string
  close(): Promise<void>
}

/**
 * `count` nodes, every one a member and a facilitator; node 0 runs the explorer with `explorer` options (the others
 * with the defaults) and every node serves the app from `bundler`.
 */
export async function startNetwork(options: {
  readonly count: number
  readonly bundler: ExplorerBundler
  readonly explorer?: ExplorerModuleOptions
  /** Consensus settings beside the harness's fast rounds. */
  readonly consensus?: NodeConfig['consensus']
  /** Node i's logger (default: silent). */
  readonly logger?: (node: number) => Logger
  /** A version-2 genesis: the nodes' solar system under a star cluster they all validate (default: one solar system). */
  readonly hierarchy?: boolean
}): Promise<TestNetwork> {
  const crypto = await loadCrypto()
  const base = await mkdtemp(join(tmpdir(), 'constellation-explorer-'))
  const dirs = Array.from({ length: options.count }, (_, i) => join(base, `n${i}`))
  const keys = await Promise.all(dirs.map((dir) => createKeyFile(join(dir, 'node.key'), { crypto })))
  const genesisFile = join(base, 'genesis.json')
  const members = keys.map((key) => ({ id: toHex(key.publicKey), balance: 1_000_000 }))
  const ids = members.map((member) => member.id)
  const genesis =
    options.hierarchy === true
      ? {
          version: 2,
          timestamp: Date.now(),
          solarSystems: [{ group: 'explorer-test', facilitators: options.count, members }],
          levels: [{ level: 1, group: 'cluster', facilitators: options.count, validators: ids, children: ['explorer-test'] }],
        }
      : { version: 1, group: 'explorer-test', timestamp: Date.now(), facilitators: options.count, members }
  await writeFile(genesisFile, JSON.stringify(genesis))
  const logger = pino({ level: 'silent' })
  const nodes: FullNode[] = []
  const apis: ApiModule[] = []
  for (const [i, dir] of dirs.entries()) {
    const defaults = defaultNodeConfig(dir)
    const config = {
      ...defaults,
      genesisFile,
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: nodes.flatMap((node) => node.network.listenAddresses()) },
      // Rounds often enough that a test sees a certificate within a second or two.
      consensus: { checkpointDelayMs: 100, ...options.consensus },
    }
    const startApi = apiModule({ routes: [...contractRoutes, ...explorerRoutes({ bundler: options.bundler })] })
    nodes.push(
      await createNode(config, {
        logger: options.logger?.(i) ?? logger,
        modules: [
          contractsModule(),
          explorerModule(i === 0 ? (options.explorer ?? {}) : {}),
          async (node) => {
            const api = await startApi(node)
            await rememberOwnerToken(api.url, node.config.dataDir)
            apis.push(api)
            return api
          },
        ],
      }),
    )
  }
  return {
    nodes,
    keyPairs: keys,
    apis,
    url: (node, path) => `${apis[node]?.url}${path}`,
    async close() {
      // The servers close their connections, kept-alive ones too.
      for (const node of [...nodes].reverse()) await node.close()
      await rm(base, { recursive: true, force: true })
    },
  }
}

/** A server-sent events client: the events and comments received so far, and ways to wait for the next ones. */
export interface EventClient {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly events: ExplorerEvent[]
  /** `event:` field of each event, in order (checks that it matches `kind`). */
  readonly names: string[]
  readonly comments: string[]
  /** The body of an error answer (complete once `ended` resolves). */
  readonly text: string
  /** Resolves when the server ends the stream (or the connection closes). */
  readonly ended: Promise<void>
  /** The first event received (now or later) that satisfies `test`. */
  next<E extends ExplorerEvent>(test: (event: ExplorerEvent) => event is E, timeoutMs?: number): Promise<E>
  /** Resolves once at least `count` comments have arrived. */
  comment(count: number, timeoutMs?: number): Promise<void>
  close(): void
}

/** Opens `GET url` as an event stream; an error answer resolves too (with its status, and no events). */
export function openEvents(url: string): Promise<EventClient> {
  return new Promise((resolve, reject) => {
    // Its own connection (no agent): a stream holds its socket for as long as it runs.
    const req = httpRequest(url, { headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
      const events: ExplorerEvent[] = []
      const names: string[] = []
      const comments: string[] = []
      const waiters = new Set<() => void>()
      const wake = () => {
        for (const waiter of [...waiters]) waiter()
      }
      let buffer = ''
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (res.statusCode !== 200) {
          text += chunk
          return
        }
        buffer += chunk
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          if (frame.startsWith(':')) comments.push(frame.slice(1).trim())
          else {
            const fields = new Map(frame.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as const))
            names.push(fields.get('event') ?? '')
            events.push(JSON.parse(fields.get('data') ?? 'null') as ExplorerEvent)
          }
        }
        wake()
      })
      const ended = new Promise<void>((done) => {
        res.once('end', done)
        res.once('close', done)
        res.once('error', done)
      })
      void ended.then(wake)
      const waitFor = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
        new Promise((found, fail) => {
          const attempt = () => {
            const value = check()
            if (value === undefined) return
            waiters.delete(attempt)
            clearTimeout(timer)
            found(value)
          }
          const timer = setTimeout(() => {
            waiters.delete(attempt)
            fail(new Error(`no ${what} within ${timeoutMs} ms (events so far: ${names.join(', ')})`))
          }, timeoutMs)
          waiters.add(attempt)
          attempt()
        })
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        names,
        comments,
        ended,
        next: (test, timeoutMs = 15_000) => waitFor(() => events.find(test), timeoutMs, 'matching event'),
        comment: (count, timeoutMs = 5_000) =>
          waitFor(() => (comments.length >= count ? true : undefined), timeoutMs, `${count} comments`).then(() => undefined),
        close: () => req.destroy(),
        get text() {
          return text
        },
      } as EventClient)
    })
    req.on('error', reject)
    req.end()
  })
}
