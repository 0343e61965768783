/**
 * Only the node's owner can spend from it: against in-process nodes (createNode on temp dirs), a request that changes
 * state without the node's token — a plain fetch from another process would send the same — is answered 401 with
 * `WWW-Authenticate: Bearer` and moves nothing, while reading stays open; the token is in `<dataDir>/api.cookie`,
 * created owner-only (0600 even under umask 0) and removed at a clean stop; the CLI with `--data-dir` picks it up;
 * `api.token` fixes it for remote clients.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile, type Crypto, loadCrypto, toHex } from '@constellation/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readApiCookie } from '../src/api/api-token.js'
import { dataPaths, defaultNodeConfig, type NodeConfig } from '../src/config/node-config.js'
import type { FullNode } from '../src/node/full-node.js'
import { cli } from './cli-helpers.js'
import { startAsStartDoes, writeTestGenesis } from './node-as-started.js'

const BALANCE = 1_000
const FIXED_TOKEN = 'remote-client-token-'.padEnd(48, 'x')

let crypto: Crypto
let base: string
let genesisFile: string
let memberIds: string[] = []
let node: FullNode
let api: { url: string }
const umask = process.umask()

async function startNode(index: number, api: Partial<NodeConfig['api']> = {}): Promise<{ node: FullNode; api: { url: string } }> {
  const defaults = defaultNodeConfig(join(base, `n${index}`))
  return startAsStartDoes({ ...defaults, genesisFile, api: { ...defaults.api, ...api }, log: { level: 'silent' } })
}

function transfer(url: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ to: memberIds[1], amount: 7 }),
  })
}

beforeAll(async () => {
  crypto = await loadCrypto()
  base = await mkdtemp(join(tmpdir(), 'constellation-auth-'))
  const keys = await Promise.all([0, 1, 2].map((i) => createKeyFile(join(base, `n${i}`, 'node.key'), { crypto })))
  memberIds = keys.map((k) => toHex(k.publicKey))
  genesisFile = join(base, 'genesis.json')
  // Node 1 never runs: a transfer to it is signed and stays pending, which is enough to see whether the node paid.
  await writeTestGenesis(genesisFile, { group: 'auth-test', members: memberIds, balance: BALANCE, facilitators: 1 })
  // The cookie must be owner-only because of how it is created, not because of the umask.
  process.umask(0)
  try {
    ;({ node, api } = await startNode(0))
  } finally {
    process.umask(umask)
  }
})

afterAll(async () => {
  await node?.close()
  await rm(base, { recursive: true, force: true })
})

describe('the API token', () => {
  it('is written at start to api.cookie, owner-only (0600) even under umask 0: 64 hex characters of randomness', async () => {
    const path = dataPaths(node.config.dataDir).apiCookie
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readFile(path, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/)
  })

  it('a request that would make the node pay, without the token: 401 with a Bearer challenge, and nothing moved', async () => {
    const before = { available: node.status().available, height: node.status().chainHeight }
    const refused = await transfer(api.url)
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="constellation"')
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await refused.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/Authorization: Bearer/) } })

    const wrong = await transfer(api.url, { authorization: `Bearer ${'0'.repeat(64)}` })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="constellation", error="invalid_token"')
    for (const authorization of ['Basic Zm9vOmJhcg==', 'Bearer', `${await readApiCookie(node.config.dataDir)}`]) {
      expect((await transfer(api.url, { authorization })).status).toBe(401)
    }
    // Every route that changes state is behind the token, whatever it does.
    for (const path of ['/v1/transactions/batch', '/v1/blocks', '/v1/contracts', `/v1/contracts/${'ab'.repeat(32)}/invoke`]) {
      const reply = await fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      expect({ path, status: reply.status }).toEqual({ path, status: 401 })
    }
    expect({ available: node.status().available, height: node.status().chainHeight }).toEqual(before)
    expect(node.transactions.totals.submitted).toBe(0)
  })

  it('reading stays open without a token', async () => {
    expect((await fetch(`${api.url}/v1/status`)).status).toBe(200)
    expect((await fetch(`${api.url}/v1/transactions`)).status).toBe(200)
    expect((await fetch(`${api.url}/explorer/`)).status).toBe(200)
  })

  it('with the token from the cookie, the same request pays', async () => {
    const token = await readApiCookie(node.config.dataDir)
    const before = node.status().available
    const paid = await transfer(api.url, { authorization: `bearer ${token}` })
    expect(paid.status).toBe(202)
    expect(node.status().available).toBe(before - 7)
  })

  it('the CLI finds the token in the data dir; with --api and no token it says what to pass', async () => {
    const dataDir = node.config.dataDir
    const sent = await cli(['tx', 'send', '--data-dir', dataDir, '--to', memberIds[1] as string, '--amount', '3', '--json'])
    expect(sent.stderr).toBe('')
    expect(JSON.parse(sent.stdout)).toMatchObject({ status: 'pending', amount: 3 })

    const anonymous = await cli(['tx', 'send', '--api', api.url, '--to', memberIds[1] as string, '--amount', '3'])
    expect(anonymous.code).toBe(1)
    expect(anonymous.stderr).toMatch(
      /^error UNAUTHORIZED: .*no token was sent: pass --data-dir of the node \(as its owner\), or --api-token, or set CONSTELLATION_API_TOKEN\n$/,
    )

    const token = await readApiCookie(dataDir)
    const withFlag = await cli(['tx', 'send', '--api', api.url, '--api-token', token, '--to', memberIds[1] as string, '--amount', '2', '--json'])
    expect(withFlag.stderr).toBe('')
    const withEnv = await cli(['tx', 'send', '--api', api.url, '--to', memberIds[1] as string, '--amount', '2', '--json'], { CONSTELLATION_API_TOKEN: token })
    expect(withEnv.stderr).toBe('')
    const badEnv = await cli(['tx', 'send', '--api', api.url, '--to', memberIds[1] as string, '--amount', '2'], { CONSTELLATION_API_TOKEN: 'short' })
    expect(badEnv).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^error INVALID_CONFIG: environment variable CONSTELLATION_API_TOKEN: expected ApiToken/),
    })
  })

  it('a fixed api.token is served instead of a random one, and is what the cookie holds; a clean stop removes the cookie', async () => {
    const fixed = await startNode(2, { token: FIXED_TOKEN })
    const path = dataPaths(fixed.node.config.dataDir).apiCookie
    try {
      expect(await readFile(path, 'utf8')).toBe(`${FIXED_TOKEN}\n`)
      expect((await transfer(fixed.api.url, { authorization: `Bearer ${FIXED_TOKEN}` })).status).toBe(202)
      expect((await transfer(fixed.api.url, { authorization: `Bearer ${await readApiCookie(node.config.dataDir)}` })).status).toBe(401)
    } finally {
      await fixed.node.close()
    }
    expect(existsSync(path)).toBe(false)
  })
})
