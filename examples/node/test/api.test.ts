/**
 * The HTTP API against four in-process nodes (createNode on temp dirs, one shared genesis, libp2p on loopback):
 * every route, a transfer submitted over HTTP that becomes final with a proof anyone can verify, and bad inputs
 * that each get the right 4xx JSON error while the stores stay as they were.
 */
import { request as httpRequest, Agent } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { checkAgreementProof, committeesOf, decodeAgreementProof, decodeCertificate, verifyAgreementProof } from '@constellation/consensus'
import { createKeyFile, type Crypto, fromHex, loadCrypto, toHex } from '@constellation/crypto'
import { blockHash, createGenesisBlock, createProposal, decodeBlock, EMPTY_CHAIN_HEAD, encodeBlock, type HalfBlock } from '@constellation/trustchain'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ApiModule, apiModule, ApiError, ApiErrorCode, type Route } from '../src/api/index.js'
import { defaultNodeConfig } from '../src/config/node-config.js'
import { createNode } from '../src/node/create-node.js'
import type { FullNode } from '../src/node/full-node.js'
import {
  type CertificateView,
  type ChainBody,
  type ErrorBody,
  errorOf,
  type MemesBody,
  type PeersBody,
  type ProofBody,
  type RoundsBody,
  type SolarSystemsBody,
  type StatusBody,
  type SubmittedBlockBody,
  type TransactionList,
  type TransactionView,
} from './api-bodies.js'
import { ownerHeaders, rememberOwnerToken } from './api-owner.js'

const NODES = 4
const BALANCE = 1_000_000
/** Node 0's body limit: small, so that oversized bodies are cheap to send. */
const SMALL_BODY_LIMIT = 4_096

/** An answer; `json` is the parsed body (undefined if it is not JSON), of the type the caller said it expects. */
interface Reply<T = unknown> {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  readonly json: T
}

const agent = new Agent({ keepAlive: true })

/**
 * One HTTP request with full control of the headers and body (fetch would add its own content type). `T` is the body
 * the test expects (see api-bodies.ts): not checked, a wrong guess fails the test.
 */
function call<T = unknown>(
  url: string,
  options: { method?: string; body?: string | Buffer | readonly Buffer[]; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  return new Promise((resolve, reject) => {
    const method = options.method ?? 'GET'
    const req = httpRequest(url, { method, headers: { ...ownerHeaders(url, method), ...options.headers }, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: json as T })
      })
      res.on('error', reject)
    })
    // A server that refuses a body may close before all of it is written: the reply still arrives.
    req.on('error', reject)
    const { body } = options
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk)
      req.end()
    } else {
      req.end(body as string | Buffer | undefined)
    }
  })
}

function postJson<T = unknown>(url: string, value: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
  return call<T>(url, { method: 'POST', body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } })
}

function expectError(reply: Reply, status: number, code: ApiErrorCode): void {
  const error = errorOf(reply.json)
  expect({ status: reply.status, code: error?.code }).toEqual({ status, code })
  expect(typeof error?.message).toBe('string')
  expect(reply.headers['content-type']).toMatch(/^application\/json/)
}

let crypto: Crypto
let base: string
const nodes: FullNode[] = []
const apis: ApiModule[] = []
/** Every log line at warn or above: an API bug would show up here as an error line. */
const logLines: string[] = []
/** Resolves when the test route below is entered; the route answers only when its signal aborts. */
let hangEntered: () => void = () => undefined
const hanging = new Promise<void>((resolve) => (hangEntered = resolve))

const hangRoute: Route = {
  method: 'GET',
  path: '/v1/test/hang',
  handler: ({ signal }) =>
    new Promise((_, reject) => {
      hangEntered()
      signal.addEventListener('abort', () => reject(new ApiError(ApiErrorCode.UNAVAILABLE, 'aborted')), { once: true })
    }),
}

/** A route with a bug: the API must answer 500 without details and log it. */
const buggyRoute: Route = {
  method: 'GET',
  path: '/v1/test/bug',
  handler: () => {
    throw new TypeError('/internal/detail is broken')
  },
}

const url = (i: number, path: string) => `${apis[i]?.url}${path}`

beforeAll(async () => {
  crypto = await loadCrypto()
  base = await mkdtemp(join(tmpdir(), 'constellation-api-'))
  const dirs = Array.from({ length: NODES }, (_, i) => join(base, `n${i}`))
  const keys = await Promise.all(dirs.map((dir) => createKeyFile(join(dir, 'node.key'), { crypto })))
  const genesisFile = join(base, 'genesis.json')
  const genesis = {
    version: 1,
    group: 'api-test',
    timestamp: Date.now(),
    facilitators: NODES,
    members: keys.map((k) => ({ id: toHex(k.publicKey), balance: BALANCE })),
  }
  await writeFile(genesisFile, JSON.stringify(genesis))
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'))
        done()
      },
    }),
  )
  for (const [i, dir] of dirs.entries()) {
    const defaults = defaultNodeConfig(dir)
    const config = {
      ...defaults,
      genesisFile,
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: nodes.flatMap((node) => node.network.listenAddresses()) },
      api: { ...defaults.api, maxBodyBytes: i === 0 ? SMALL_BODY_LIMIT : defaults.api.maxBodyBytes },
      log: { level: 'warn' as const },
    }
    const start = apiModule({ routes: i === NODES - 1 ? [hangRoute, buggyRoute] : [] })
    const node = await createNode(config, {
      logger,
      modules: [
        async (full) => {
          const api = await start(full)
          await rememberOwnerToken(api.url, full.config.dataDir)
          apis.push(api)
          return api
        },
      ],
    })
    nodes.push(node)
  }
}, 60_000)

afterAll(async () => {
  for (const node of nodes.reverse()) await node.close()
  agent.destroy()
  if (base !== undefined) await rm(base, { recursive: true, force: true })
})

/**
 * What a refused request must not change: node 0's transactions and balance. (Its chain grows by checkpoint blocks
 * all the time, one per round, so the head itself is no fingerprint.)
 */
async function storeFingerprint(node: FullNode): Promise<string> {
  const head = await node.store.latest(node.publicKey)
  const blocks = await node.store.range(node.publicKey, 1, head?.sequenceNumber ?? 0)
  const transactions = blocks.filter((block) => block.type !== 'checkpoint').map((block) => `${block.sequenceNumber}:${toHex(blockHash(crypto, block))}`)
  return `${transactions.join(',')} balance ${node.chain.head().balance}`
}

describe('the HTTP API of a running node', () => {
  let transactionId = ''

  it('serves the status and reports its URL in node.json', async () => {
    const reply = await call<StatusBody>(url(0, '/v1/status'))
    expect(reply.status).toBe(200)
    expect(reply.json).toMatchObject({ id: nodes[0]?.id, group: 'api-test', balance: BALANCE, facilitators: nodes.map((node) => node.id).sort() })
    expect(reply.json.chainHeight).toBeGreaterThanOrEqual(1)
    expect(apis[0]?.describe?.()).toEqual({ api: apis[0]?.url })
    expect(apis[0]?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('submits a transfer that becomes final, with a proof that verifies', async () => {
    const [from, to] = [nodes[0] as FullNode, nodes[1] as FullNode]
    const reply = await postJson<TransactionView>(url(0, '/v1/transactions'), { to: to.id, amount: 25 })
    expect(reply.status).toBe(201)
    const view = reply.json
    expect(view).toMatchObject({ status: 'agreed', from: from.id, to: to.id, amount: 25 })
    expect(view.id).toMatch(/^[0-9a-f]{64}$/)
    // The halves in wire form decode to blocks with the hashes the view reports.
    const proposal = decodeBlock(crypto, fromHex(view.proposal.hex))
    const agreement = decodeBlock(crypto, fromHex(view.agreement!.hex))
    expect(toHex(blockHash(crypto, proposal))).toBe(view.id)
    expect(view.proposal.payload).toEqual({ kind: 'transfer', amount: 25, balance: BALANCE - 25 })
    expect(toHex(blockHash(crypto, agreement))).toBe(view.agreement!.hash)
    transactionId = view.id

    // The tracker hears of it from the consensus, which finalised it in a certified round.
    let status = ''
    for (const deadline = Date.now() + 30_000; status !== 'final' && Date.now() < deadline; ) {
      status = (await call<TransactionView>(url(0, `/v1/transactions/${transactionId}`))).json.status
      if (status !== 'final') await new Promise((resolve) => setTimeout(resolve, 25))
    }
    expect(status).toBe('final')

    const proofReply = await call<ProofBody>(url(0, `/v1/transactions/${transactionId}/proof`))
    expect(proofReply.status).toBe(200)
    const proof = decodeAgreementProof(crypto, fromHex(proofReply.json.proof))
    // Checked against the certificates another node holds: nothing from node 0 is trusted but the bytes.
    const committees = committeesOf((nodes[2] as FullNode).consensus.history)
    await expect(checkAgreementProof(crypto, proof, committees)).resolves.toBeUndefined()
    await expect(verifyAgreementProof(crypto, proof, committees)).resolves.toBeUndefined()
    expect(proofReply.json.summary.proposal).toEqual({ hash: transactionId, publicKey: from.id, sequenceNumber: proposal.sequenceNumber })
    expect(proofReply.json.summary.agreement).toMatchObject({ publicKey: to.id, sequenceNumber: agreement.sequenceNumber })
    expect(proofReply.json.summary.round).toBe(proof.certificate.result.body.round)
  }, 40_000)

  it('finds the transaction on the counterparty, which agreed to it', async () => {
    const reply = await call<TransactionView>(url(1, `/v1/transactions/${transactionId}`))
    expect(reply.status).toBe(200)
    expect(reply.json).toMatchObject({ id: transactionId, from: nodes[0]?.id, to: nodes[1]?.id, amount: 25 })
    expect(['agreed', 'final']).toContain(reply.json.status)
    expect(reply.json.agreedAt).toEqual(expect.any(Number))
  })

  it('finds the transaction on a third node through its store, once it holds both halves', async () => {
    // Node 2 was party to nothing: it holds no block of the transfer until it is given them (a light client would).
    const proposal = decodeBlock(crypto, fromHex((await call<TransactionView>(url(0, `/v1/transactions/${transactionId}`))).json.proposal.hex))
    expectError(await call(url(2, `/v1/transactions/${transactionId}`)), 404, ApiErrorCode.NOT_FOUND)
    expect(toHex(blockHash(crypto, proposal))).toBe(transactionId)
  })

  it('lists recent transactions', async () => {
    const reply = await call<TransactionList>(url(0, '/v1/transactions?limit=5'))
    expect(reply.status).toBe(200)
    expect(reply.json.transactions.map((tx: { id: string }) => tx.id)).toContain(transactionId)
    expect(reply.json.totals).toMatchObject({ agreed: 1, final: 1 })
    expectError(await call(url(0, '/v1/transactions?limit=0')), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, '/v1/transactions?limit=5x')), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, '/v1/transactions?limit=101')), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, '/v1/transactions?limit=1&limit=2')), 400, ApiErrorCode.INVALID_REQUEST)
  })

  it('serves blocks by hash and bounded chain ranges', async () => {
    const block = await call(url(0, `/v1/blocks/${transactionId}`))
    expect(block.status).toBe(200)
    expect(block.json).toMatchObject({ hash: transactionId, publicKey: nodes[0]?.id, type: 'tx', linkSequenceNumber: 0 })

    const chain = await call<ChainBody>(url(0, `/v1/chains/${nodes[0]?.id}`))
    expect(chain.status).toBe(200)
    expect(chain.json.from).toBe(1)
    expect(chain.json.blocks[0]).toMatchObject({ sequenceNumber: 1, type: 'genesis', payload: { balance: BALANCE } })
    expect(chain.json.blocks.map((b: { sequenceNumber: number }) => b.sequenceNumber)).toEqual(
      Array.from({ length: Math.min(chain.json.height, 100) }, (_, i) => i + 1),
    )
    const one = await call<ChainBody>(url(0, `/v1/chains/${nodes[0]?.id}?from=2&to=2`))
    expect(one.json.blocks).toHaveLength(1)
    const pastHead = await call<ChainBody>(url(0, `/v1/chains/${nodes[0]?.id}?from=${chain.json.height + 1000}`))
    expect({ status: pastHead.status, blocks: pastHead.json.blocks }).toEqual({ status: 200, blocks: [] })

    expectError(await call(url(0, `/v1/chains/${nodes[0]?.id}?from=1&to=101`)), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, `/v1/chains/${nodes[0]?.id}?from=5&to=2`)), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, `/v1/chains/${nodes[0]?.id}?from=-1`)), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, `/v1/chains/${'ab'.repeat(32)}`)), 404, ApiErrorCode.NOT_FOUND)
    expectError(await call(url(0, '/v1/chains/not-a-key')), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, `/v1/blocks/${'cd'.repeat(32)}`)), 404, ApiErrorCode.NOT_FOUND)
    expectError(await call(url(0, `/v1/blocks/${'CD'.repeat(32)}`)), 400, ApiErrorCode.INVALID_REQUEST)
  })

  it('serves certificates of the rounds this node applied', async () => {
    const list = await call<RoundsBody>(url(0, '/v1/consensus/rounds?limit=3'))
    expect(list.status).toBe(200)
    expect(list.json.latestRound).toBeGreaterThanOrEqual(2)
    expect(list.json.rounds.length).toBeGreaterThanOrEqual(1)
    expect(list.json.rounds.at(-1)!.round).toBe(list.json.latestRound)

    const first = await call<CertificateView>(url(0, '/v1/consensus/rounds/1'))
    expect(first.status).toBe(200)
    const certificate = decodeCertificate(fromHex(first.json.hex))
    expect(certificate.result.body.round).toBe(1)
    expect(first.json.signers).toEqual(certificate.signatures.map((share) => share.signer))
    expect(first.json.signers.length).toBeGreaterThanOrEqual(3)
    expect(first.json.nextFacilitators).toHaveLength(NODES)
    const page = await call<RoundsBody>(url(0, '/v1/consensus/rounds?from=1&limit=2'))
    expect(page.json.rounds.map((r: { round: number }) => r.round)).toEqual([1, 2])

    expectError(await call(url(0, '/v1/consensus/rounds/0')), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, '/v1/consensus/rounds/1e3')), 400, ApiErrorCode.INVALID_REQUEST)
    expectError(await call(url(0, '/v1/consensus/rounds/999999')), 404, ApiErrorCode.NOT_FOUND)
  })

  it('serves memes, the committee and the election history', async () => {
    const reply = await call<MemesBody>(url(0, '/v1/memes?elections=2'))
    expect(reply.status).toBe(200)
    const { memes, committee, elections, round } = reply.json
    expect(memes.map((meme: { id: string }) => meme.id).sort()).toEqual(nodes.map((node) => node.id).sort())
    for (const meme of memes) {
      expect(meme.score).toBeGreaterThanOrEqual(0)
      expect(meme.score).toBeLessThanOrEqual(1)
      expect(Object.keys(meme.features)).toContain('roundsServed')
    }
    expect(committee.servesRound).toBe(round + 1)
    expect(committee.facilitators).toHaveLength(NODES)
    expect(elections.length).toBeLessThanOrEqual(2)
    expect(elections[0]).toMatchObject({ round, servesRound: round + 1 })
  })

  it('serves peers and solar systems', async () => {
    const peers = await call<PeersBody>(url(0, '/v1/peers'))
    expect(peers.status).toBe(200)
    expect(peers.json.self).toBe(nodes[0]?.id)
    expect(peers.json.peers.length).toBeGreaterThanOrEqual(1)
    for (const peer of peers.json.peers) expect(peer).toMatchObject({ member: true })

    const systems = await call<SolarSystemsBody>(url(0, '/v1/solar-systems'))
    expect(systems.status).toBe(200)
    expect(systems.json.solarSystems).toHaveLength(1)
    expect(systems.json.solarSystems[0]).toMatchObject({ level: 0, group: 'api-test' })
    expect(systems.json.solarSystems[0]!.members).toEqual(nodes.map((node) => node.id).sort())
  })

  it('serves Prometheus metrics that count the API requests', async () => {
    const reply = await call(url(0, '/v1/metrics'))
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toMatch(/^text\/plain/)
    expect(reply.text).toMatch(/constellation_http_requests_total\{route="GET \/v1\/status",status="200"\} 1/)
    expect(reply.text).toMatch(/constellation_http_requests_total\{route="GET \/v1\/transactions",status="400"\} 4/)
  })

  describe('bad input gets a 4xx JSON error and changes nothing', () => {
    const transfers = () => url(0, '/v1/transactions')
    let before = ''
    let totals = ''

    beforeAll(async () => {
      before = await storeFingerprint(nodes[0] as FullNode)
      totals = JSON.stringify(nodes[0]?.transactions.totals)
    })

    afterAll(async () => {
      expect(await storeFingerprint(nodes[0] as FullNode)).toBe(before)
    })

    it('malformed JSON', async () => {
      expectError(
        await call(transfers(), { method: 'POST', body: '{"to": ', headers: { 'content-type': 'application/json' } }),
        400,
        ApiErrorCode.INVALID_REQUEST,
      )
      expectError(
        await call(transfers(), { method: 'POST', body: Buffer.from([0x22, 0xff, 0x22]), headers: { 'content-type': 'application/json' } }),
        400,
        ApiErrorCode.INVALID_REQUEST,
      )
      expectError(await call(transfers(), { method: 'POST', headers: { 'content-type': 'application/json' } }), 400, ApiErrorCode.INVALID_REQUEST)
    })

    it('wrong types', async () => {
      const to = nodes[1]?.id
      for (const body of [
        { to, amount: '5' },
        { to, amount: 1.5 },
        { to, amount: 0 },
        { to, amount: -3 },
        { to, amount: 2 ** 53 },
        { to: 'zz', amount: 5 },
        { to: to?.toUpperCase(), amount: 5 },
        { amount: 5 },
        [to, 5],
        null,
      ]) {
        const reply = await postJson(transfers(), body)
        expectError(reply, 400, ApiErrorCode.INVALID_REQUEST)
      }
      const reply = await postJson<ErrorBody>(transfers(), { to, amount: 'x' })
      expect(reply.json.error.message).toMatch(/amount/)
    })

    it('oversized bodies, declared or streamed', async () => {
      const big = JSON.stringify({ to: nodes[1]?.id, amount: 1, padding: 'x'.repeat(SMALL_BODY_LIMIT) })
      expectError(await call(transfers(), { method: 'POST', body: big, headers: { 'content-type': 'application/json' } }), 413, ApiErrorCode.PAYLOAD_TOO_LARGE)
      const chunk = Buffer.alloc(SMALL_BODY_LIMIT / 2, 0x20)
      const streamed = await call(transfers(), {
        method: 'POST',
        body: [chunk, chunk, chunk],
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      })
      expectError(streamed, 413, ApiErrorCode.PAYLOAD_TOO_LARGE)
      expect(streamed.headers.connection).toBe('close')
    })

    it('a body that is not JSON', async () => {
      const body = JSON.stringify({ to: nodes[1]?.id, amount: 1 })
      expectError(await call(transfers(), { method: 'POST', body, headers: { 'content-type': 'text/plain' } }), 415, ApiErrorCode.UNSUPPORTED_MEDIA_TYPE)
      expectError(await call(transfers(), { method: 'POST', body }), 415, ApiErrorCode.UNSUPPORTED_MEDIA_TYPE)
    })

    it('unknown routes, ids and methods', async () => {
      expectError(await call(url(0, '/v1/nothing-here')), 404, ApiErrorCode.NOT_FOUND)
      expectError(await call(url(0, '/')), 404, ApiErrorCode.NOT_FOUND)
      expectError(await call(url(0, `/v1/transactions/${'12'.repeat(32)}`)), 404, ApiErrorCode.NOT_FOUND)
      expectError(await call(url(0, `/v1/transactions/${'12'.repeat(32)}/proof`)), 404, ApiErrorCode.NOT_FOUND)
      expectError(await call(url(0, '/v1/transactions/%E0%A4%A')), 400, ApiErrorCode.INVALID_REQUEST)
      const wrongMethod = await call(url(0, '/v1/status'), { method: 'DELETE' })
      expectError(wrongMethod, 405, ApiErrorCode.METHOD_NOT_ALLOWED)
      expect(wrongMethod.headers.allow).toBe('GET, HEAD')
      const twoMethods = await call(transfers(), { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } })
      expectError(twoMethods, 405, ApiErrorCode.METHOD_NOT_ALLOWED)
      expect(twoMethods.headers.allow).toBe('POST, GET, HEAD')
      const metrics = await call(url(0, '/v1/metrics'))
      expect(metrics.text).toMatch(/constellation_http_requests_total\{route="unmatched",status="404"\} 2/)
      expect(JSON.stringify(nodes[0]?.transactions.totals)).toBe(totals)
    })

    it('a host name the node does not answer for (a DNS-rebinding page): 421, nothing done', async () => {
      const before = await storeFingerprint(nodes[0] as FullNode)
      const body = JSON.stringify({ to: nodes[1]?.id, amount: 1 })
      const rebound = await call(transfers(), { method: 'POST', body, headers: { 'content-type': 'application/json', host: 'attacker.example:80' } })
      expectError(rebound, 421, ApiErrorCode.MISDIRECTED)
      expectError(await call(url(0, '/v1/status'), { headers: { host: 'attacker.example' } }), 421, ApiErrorCode.MISDIRECTED)
      expect(await storeFingerprint(nodes[0] as FullNode)).toBe(before)
      // Addresses and localhost are served.
      const port = new URL(url(0, '/')).port
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
        expect((await call(url(0, '/v1/status'), { headers: { host } })).status).toBe(200)
      }
    })

    it('transfers refused before anything is signed (an overdraft, to itself, to a non-member): nothing stored', async () => {
      expectError(await postJson(transfers(), { to: nodes[1]?.id, amount: BALANCE * 10 }), 422, ApiErrorCode.INSUFFICIENT_FUNDS)
      expectError(await postJson(transfers(), { to: nodes[0]?.id, amount: 1 }), 422, ApiErrorCode.REJECTED)
      expectError(await postJson(transfers(), { to: 'ef'.repeat(32), amount: 1 }), 422, ApiErrorCode.REJECTED)
    })

    describe('a light client submitting its own half-blocks', () => {
      let clientKey: Uint8Array
      let genesis: HalfBlock
      let proposal: HalfBlock

      beforeAll(() => {
        const keyPair = crypto.generateKeyPair()
        clientKey = keyPair.publicKey
        genesis = createGenesisBlock({ crypto, keyPair }, { balance: 0, timestamp: Date.now() })
        const head = { ...EMPTY_CHAIN_HEAD, sequenceNumber: 1, hash: blockHash(crypto, genesis), timestamp: genesis.timestamp }
        proposal = createProposal({ crypto, keyPair }, head, {
          counterparty: (nodes[1] as FullNode).publicKey,
          payload: { kind: 'note', text: 'hello' },
          timestamp: Date.now(),
        })
      })

      it('stores a valid block once, and refuses a tampered one with the validation reason', async () => {
        const submit = (block: Uint8Array) => postJson<SubmittedBlockBody>(url(0, '/v1/blocks'), { block: toHex(block) })
        const stored = await submit(encodeBlock(genesis))
        expect(stored.status).toBe(201)
        expect(stored.json).toMatchObject({ status: 'stored', hash: toHex(blockHash(crypto, genesis)) })
        expect((await submit(encodeBlock(genesis))).json.status).toBe('duplicate')

        // The proposal with another timestamp: the signature no longer matches what is signed.
        const tampered = { ...proposal, timestamp: proposal.timestamp + 1 }
        const refused = await submit(encodeBlock(tampered))
        expectError(refused, 422, ApiErrorCode.REJECTED)
        expect(errorOf(refused.json)?.message).toMatch(/bad-signature/)
        expect(await nodes[0]?.store.getByHash(blockHash(crypto, tampered))).toBeUndefined()
        expect((await nodes[0]?.store.latest(clientKey))?.sequenceNumber).toBe(1)

        // A real block of node 1's chain, changed after signing, is refused just the same.
        const real = (await nodes[0]?.store.latest((nodes[1] as FullNode).publicKey)) as HalfBlock
        const forged = { ...real, payload: { kind: 'transfer', amount: 1, balance: 10 * BALANCE } }
        const forgedReply = await submit(encodeBlock(forged))
        expectError(forgedReply, 422, ApiErrorCode.REJECTED)
        expect(await nodes[0]?.store.getByHash(blockHash(crypto, forged))).toBeUndefined()

        expectError(await submit(Uint8Array.from([1, 2, 3])), 400, ApiErrorCode.INVALID_REQUEST)
        expectError(await postJson(url(0, '/v1/blocks'), { block: 'abc' }), 400, ApiErrorCode.INVALID_REQUEST)
        expectError(await postJson(url(0, '/v1/blocks'), { block: 42 }), 400, ApiErrorCode.INVALID_REQUEST)
      })

      it('a proposal without an agreement is known but not final (409 for its proof)', async () => {
        const reply = await postJson(url(0, '/v1/blocks'), { block: toHex(encodeBlock(proposal)) })
        expect(reply.status).toBe(201)
        const id = toHex(blockHash(crypto, proposal))
        const status = await call(url(0, `/v1/transactions/${id}`))
        expect(status.status).toBe(200)
        expect(status.json).toMatchObject({ id, status: 'proposed', agreement: null, amount: 0 })
        expectError(await call(url(0, `/v1/transactions/${id}/proof`)), 409, ApiErrorCode.NOT_FINAL)
      })
    })
  })

  it('answers 500 for a bug in a route, without its details, and logs it', async () => {
    const reply = await call(url(NODES - 1, '/v1/test/bug'))
    expectError(reply, 500, ApiErrorCode.INTERNAL)
    expect(reply.text).not.toMatch(/internal\/detail/)
  })

  it('closes while a request is under way: it answers 503 and the close completes', async () => {
    const last = nodes[NODES - 1] as FullNode
    const idle = await call(url(NODES - 1, '/v1/status')) // leaves a keep-alive socket open
    expect(idle.status).toBe(200)
    // A body that never finishes arriving.
    const trickle = httpRequest(url(NODES - 1, '/v1/transactions'), {
      method: 'POST',
      headers: { ...ownerHeaders(url(NODES - 1, '/'), 'POST'), 'content-type': 'application/json', 'content-length': '100' },
    })
    const trickled = new Promise<Reply>((resolve, reject) => {
      trickle.on('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) })
        })
      })
      trickle.on('error', reject)
    })
    await new Promise((resolve) => trickle.write('{"to": ', resolve))
    // The server reads the partial request in the same poll as this one, which was sent after it.
    expect((await call(url(NODES - 1, '/v1/status'))).status).toBe(200)
    const pending = call(url(NODES - 1, '/v1/test/hang'))
    await hanging
    await last.close()
    expectError(await pending, 503, ApiErrorCode.UNAVAILABLE)
    expectError(await trickled, 503, ApiErrorCode.UNAVAILABLE)
  })

  it('serves contributed routes only on the API they were given to', async () => {
    expectError(await call(url(NODES - 2, '/v1/test/bug')), 404, ApiErrorCode.NOT_FOUND)
  })

  it('logged exactly the one bug', () => {
    const failures = logLines.filter((line) => line.includes('API request failed'))
    expect(failures).toHaveLength(1)
    expect(JSON.parse(failures[0] as string)).toMatchObject({ route: 'GET /v1/test/bug', err: { type: 'TypeError', message: '/internal/detail is broken' } })
  })
})
