/**
 * The API's server limits, against in-process one-member nodes with small configured limits: a half-sent upload and
 * headers that never end are answered 408 and closed once their timeout passes (Node's defaults held them for
 * minutes), an idle kept-alive connection is closed, and one address cannot hold more connections than
 * `api.maxConnectionsPerClient` (one more is answered 429 and closed; once one closes, a new one is served).
 * Everything awaits socket events; nothing sleeps.
 */
import { Agent, request as httpRequest } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile, loadCrypto, toHex } from '@constellation/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readApiCookie } from '../src/api/api-token.js'
import { apiModule, type ApiModule } from '../src/api/index.js'
import { defaultNodeConfig, type NodeConfig } from '../src/config/node-config.js'
import { createNode } from '../src/node/create-node.js'
import type { FullNode } from '../src/node/full-node.js'

const REQUEST_TIMEOUT_MS = 600
const HEADERS_TIMEOUT_MS = 300
const IDLE_TIMEOUT_MS = 100
const MAX_CONNECTIONS = 3

let base: string
const nodes: FullNode[] = []

/** A node alone in its own network, its API with `api` over the defaults. */
async function startNode(name: string, api: Partial<NodeConfig['api']>): Promise<{ node: FullNode; api: ApiModule }> {
  const crypto = await loadCrypto()
  const dir = join(base, name)
  const key = await createKeyFile(join(dir, 'node.key'), { crypto })
  const genesisFile = join(dir, 'genesis.json')
  await writeFile(
    genesisFile,
    JSON.stringify({ version: 1, group: `limits-${name}`, timestamp: Date.now(), facilitators: 1, members: [{ id: toHex(key.publicKey), balance: 1_000 }] }),
  )
  const defaults = defaultNodeConfig(dir)
  let module: ApiModule | undefined
  const start = apiModule()
  const node = await createNode(
    { ...defaults, genesisFile, api: { ...defaults.api, ...api }, log: { level: 'silent' } },
    {
      modules: [
        async (full) => {
          module = await start(full)
          return module
        },
      ],
    },
  )
  nodes.push(node)
  return { node, api: module as ApiModule }
}

/** A raw TCP connection to `url`'s host and port, with everything it receives until the server closes it. */
async function rawConnection(url: string): Promise<{ socket: Socket; received: Promise<string> }> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const received = new Promise<string>((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8'))))
  return { socket, received }
}

/** One GET on `agent`'s connection (kept alive after the answer). */
function get(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
      .on('error', reject)
      .end()
  })
}

function bodyOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
}

let timed: { node: FullNode; api: ApiModule }
let capped: { node: FullNode; api: ApiModule }

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'constellation-limits-'))
  timed = await startNode('timed', { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, idleTimeoutMs: IDLE_TIMEOUT_MS })
  capped = await startNode('capped', { maxConnectionsPerClient: MAX_CONNECTIONS })
}, 60_000)

afterAll(async () => {
  for (const node of nodes) await node.close()
  await rm(base, { recursive: true, force: true })
})

describe('server timeouts', () => {
  it('a half-sent upload is answered 408 and closed once api.requestTimeoutMs has passed', async () => {
    const token = await readApiCookie(timed.node.config.dataDir)
    const { socket, received } = await rawConnection(timed.api.url)
    const sentAt = Date.now()
    socket.write(
      `POST /v1/transactions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"to": `,
    )
    const answer = await received
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50)
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(bodyOf(answer)).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: expect.stringMatching(/did not arrive in time/) } })
    expect(timed.node.transactions.totals.submitted).toBe(0)
  })

  it('headers that never end are answered 408 and closed once api.headersTimeoutMs has passed', async () => {
    const { socket, received } = await rawConnection(timed.api.url)
    socket.write('GET /v1/status HTTP/1.1\r\nhost: 127.0.0.1\r\n')
    const answer = await received
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(bodyOf(answer)).toMatchObject({ error: { code: 'REQUEST_TIMEOUT' } })
  })

  it('a kept-alive connection without a request is closed after api.idleTimeoutMs', async () => {
    const { socket, received } = await rawConnection(timed.api.url)
    socket.write('GET /v1/status HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')
    const answer = await received
    // Answered and kept alive, then closed by the server: `received` settles only on the close.
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer).toMatch(/^connection: keep-alive\r$/im)
  })

  it('the node serves as usual meanwhile', async () => {
    expect((await fetch(`${timed.api.url}/v1/status`)).status).toBe(200)
  })
})

describe('connections per client', () => {
  it(`one address holds at most api.maxConnectionsPerClient (${MAX_CONNECTIONS}): one more is answered 429 and closed; once one closes, a new one is served`, async () => {
    const agents = Array.from({ length: MAX_CONNECTIONS }, () => new Agent({ keepAlive: true, maxSockets: 1 }))
    try {
      // Each answered request is a connection the server has counted and keeps open.
      expect(await Promise.all(agents.map((agent) => get(`${capped.api.url}/v1/status`, agent)))).toEqual(agents.map(() => 200))
      const { socket, received } = await rawConnection(capped.api.url)
      socket.write('GET /v1/status HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')
      const answer = await received
      expect(answer).toMatch(/^HTTP\/1\.1 429 /)
      expect(answer).toMatch(/^retry-after: 1\r$/m)
      expect(bodyOf(answer)).toEqual({ error: { code: 'TOO_MANY_CONNECTIONS', message: expect.stringMatching(/api\.maxConnectionsPerClient/) } })

      // The connections still open keep working.
      expect(await get(`${capped.api.url}/v1/status`, agents[0] as Agent)).toBe(200)
      // One closes: the server frees its place when it sees the close, after which a new connection is served.
      agents.pop()?.destroy()
      let status = 0
      for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
        const fresh = new Agent({ keepAlive: false })
        status = await get(`${capped.api.url}/v1/status`, fresh)
        fresh.destroy()
      }
      expect(status).toBe(200)
    } finally {
      for (const agent of agents) agent.destroy()
    }
  })
})
