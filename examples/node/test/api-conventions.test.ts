/**
 * Rules every route of the API follows, checked against every route a node started as `constellation start` starts
 * it serves (the node's own, the contracts' and the explorer's): HEAD is answered wherever GET is, with the same
 * status and headers and no body; a query parameter the route does not read, or one given twice, is a 400; a body
 * field the route does not know, or a JSON key given twice, is a 400 — and such a refused request moves nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile, loadCrypto, toHex } from '@constellation/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readApiCookie } from '../src/api/api-token.js'
import type { Route } from '../src/api/index.js'
import { defaultNodeConfig } from '../src/config/node-config.js'
import { type StartedNode, startAsStartDoes, writeTestGenesis } from './node-as-started.js'

let base: string
let started: StartedNode
let other = ''
let token = ''

/** A concrete path for a route: a parameter becomes a value of the right shape (a round number, hex, a file name). */
function concrete(route: Route): string {
  return route.path.replace(/:(\w+)/g, (_, name: string) => (name === 'round' ? '1' : name === 'asset' ? 'missing.js' : 'ab'.repeat(32)))
}

const url = (path: string) => `${started.api.url}${path}`

function post(path: string, body: string) {
  return fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body })
}

/** What a refused request must leave as it was. */
function moved() {
  const status = started.node.status()
  return { available: status.available, height: status.chainHeight, submitted: started.node.transactions.totals.submitted }
}

beforeAll(async () => {
  const crypto = await loadCrypto()
  base = await mkdtemp(join(tmpdir(), 'constellation-conventions-'))
  const keys = await Promise.all(['self', 'other'].map((name) => createKeyFile(join(base, name, 'node.key'), { crypto })))
  other = toHex((keys[1] as { publicKey: Uint8Array }).publicKey)
  const genesisFile = join(base, 'genesis.json')
  await writeTestGenesis(genesisFile, { group: 'conventions', members: keys.map((key) => toHex(key.publicKey)), balance: 1_000, facilitators: 1 })
  started = await startAsStartDoes({ ...defaultNodeConfig(join(base, 'self')), genesisFile, log: { level: 'silent' } })
  token = await readApiCookie(started.node.config.dataDir)
}, 60_000)

afterAll(async () => {
  await started?.node.close()
  await rm(base, { recursive: true, force: true })
})

describe('every route', () => {
  const routes = (method: Route['method']) => started.api.router.routes.filter((route) => route.method === method)

  it('answers HEAD wherever it answers GET: the same status and headers, no body', async () => {
    const gets = routes('GET')
    expect(gets.map((route) => route.path)).toEqual(expect.arrayContaining(['/v1/status', '/v1/metrics', '/v1/events', '/explorer/:asset', '/']))
    for (const route of [...gets.map(concrete), '/explorer/', `/v1/transactions/${'cd'.repeat(32)}`]) {
      const get = await fetch(url(route), { redirect: 'manual' })
      // The event stream never ends: its headers are what is compared.
      await get.body?.cancel()
      const head = await fetch(url(route), { method: 'HEAD', redirect: 'manual' })
      expect(await head.text()).toBe('')
      // Not compared: the date, the length (below), and the hop-by-hop headers: fetch asks to close after a HEAD, and a
      // stream's chunked framing is about a body HEAD does not have (Node leaves it out).
      const hopByHop = ['date', 'content-length', 'connection', 'keep-alive', 'transfer-encoding']
      const headers = (response: Response) => Object.fromEntries([...response.headers].filter(([name]) => !hopByHop.includes(name)))
      expect({ route, status: head.status, headers: headers(head), length: head.headers.has('content-length') }).toEqual({
        route,
        status: get.status,
        headers: headers(get),
        length: get.headers.has('content-length'),
      })
      // Where the answer cannot change between the two requests, its length is the GET's too.
      if (route.startsWith('/explorer') || get.status >= 400) expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'))
    }
    const postOnly = await fetch(url('/v1/blocks'), { method: 'HEAD' })
    expect(postOnly.status).toBe(405)
    expect(postOnly.headers.get('allow')).toBe('POST')
    expect((await fetch(url('/v1/status'), { method: 'DELETE' })).headers.get('allow')).toBe('GET, HEAD')
  })

  it('refuses a query parameter it does not read, and one given twice, with 400 naming it', async () => {
    for (const route of routes('GET')) {
      const reply = await fetch(url(`${concrete(route)}?bogus=1`), { redirect: 'manual' })
      const body = (await reply.json()) as { error: { code: string; message: string } }
      expect({ path: route.path, status: reply.status, code: body.error.code }).toEqual({ path: route.path, status: 400, code: 'INVALID_REQUEST' })
      expect(body.error.message).toMatch(/^invalid query: unknown parameter bogus \(known: /)
    }
    for (const path of ['/v1/transactions?limit=1&limit=2', '/v1/dag?perChain=2&perChain=2', '/v1/consensus/rounds?from=1&from=1']) {
      const reply = await fetch(url(path))
      expect({ path, status: reply.status }).toEqual({ path, status: 400 })
      expect(((await reply.json()) as { error: { message: string } }).error.message).toMatch(/given more than once/)
    }
    // Known parameters still work.
    expect((await fetch(url('/v1/transactions?limit=1'))).status).toBe(200)
    // A route that changes state is held to the same rule, before it does anything.
    const before = moved()
    expect((await post('/v1/transactions?dryRun=1', JSON.stringify({ to: other, amount: 1 }))).status).toBe(400)
    expect(moved()).toEqual(before)
  })

  it('refuses a body field it does not know, at any depth, with 400 naming it, and moves nothing', async () => {
    const before = moved()
    const cases: [string, unknown, string][] = [
      ['/v1/transactions', { to: other, amount: 5, memo: 'x' }, 'memo'],
      [
        '/v1/transactions/batch',
        {
          transfers: [
            { to: other, amount: 5 },
            { to: other, amount: 5, fee: 1 },
          ],
        },
        'transfers.1.fee',
      ],
      ['/v1/transactions/batch', { transfers: [{ to: other, amount: 5 }], atomic: true }, 'atomic'],
      ['/v1/blocks', { block: '00', signature: '00' }, 'signature'],
      [
        '/v1/contracts',
        {
          code: 'function invoke(s, i) { return { state: s, output: i } }',
          signature: { input: { kind: 'integer' }, output: { kind: 'integer' }, state: { kind: 'integer' } },
          initialState: 0,
          gasLimit: 5,
        },
        'gasLimit',
      ],
      [`/v1/contracts/${'ab'.repeat(32)}/invoke`, { input: 1, gas: 5 }, 'gas'],
    ]
    expect(cases.map(([path]) => path)).toEqual(expect.arrayContaining(routes('POST').map(concrete)))
    for (const [path, body, field] of cases) {
      const reply = await post(path, JSON.stringify(body))
      expect({ path, status: reply.status, error: ((await reply.json()) as { error: unknown }).error }).toEqual({
        path,
        status: 400,
        error: { code: 'INVALID_REQUEST', message: `invalid body: unknown field ${field}` },
      })
    }
    expect(moved()).toEqual(before)
  })

  it('refuses a JSON key given twice (JSON.parse would keep the last) with 400, and moves nothing', async () => {
    const before = moved()
    for (const [path, text, where] of [
      ['/v1/transactions', `{"to":"${other}","amount":1,"amount":900}`, 'the body'],
      ['/v1/transactions/batch', `{"transfers":[{"to":"${other}","amount":1},{"to":"${other}","to":"${other}","amount":1}]}`, 'transfers.1'],
      ['/v1/contracts', '{"code":"x","code":"y"}', 'the body'],
    ] as const) {
      const reply = await post(path, text)
      const key = path === '/v1/transactions' ? 'amount' : path === '/v1/contracts' ? 'code' : 'to'
      expect({ path, status: reply.status, error: ((await reply.json()) as { error: unknown }).error }).toEqual({
        path,
        status: 400,
        error: { code: 'INVALID_REQUEST', message: `invalid body: the key "${key}" is given twice in ${where}` },
      })
    }
    expect(moved()).toEqual(before)
  })
})
