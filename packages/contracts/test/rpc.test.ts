import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodeCanonical } from '@constellation/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBlock } from '@constellation/trustchain'
import {
  ContractErrorCode,
  createCaller,
  createContractHost,
  createRpcBridge,
  defineContract,
  type FetchLike,
  inThreadExecutor,
  type InvokePayload,
  reexecute,
  Types,
} from '../src/index.js'
import { crypto, executor, fixedNow, keyPair } from './helpers.js'

// A local price feed: answers { price } for a symbol; /slow never answers in time; /big answers too much.
let base = ''
let calls = 0
const server = createServer((request, response) => {
  let body = ''
  request.on('data', (chunk: Buffer) => (body += chunk.toString()))
  request.on('end', () => {
    calls++
    if (request.url === '/slow') return // never answers; closed with the server
    if (request.url === '/big') return void response.end(JSON.stringify({ pad: 'x'.repeat(5_000) }))
    const { symbol } = JSON.parse(body) as { symbol: string }
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ symbol, price: symbol.length * 100 }))
  })
})
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)))
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections() // fetch keeps connections alive; do not wait for them
    }),
)
beforeAll(() => {
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

const oracle = defineContract({
  code: `function invoke(state, input) {
    const quote = rpc(input.endpoint, { symbol: input.symbol })
    return { state: state + 1, output: quote.price * 2 }
  }`,
  input: Types.struct({ endpoint: Types.string, symbol: Types.string }),
  output: Types.number,
  state: Types.integer,
  initialState: 0,
})

describe('RPC bridge', () => {
  const caller = createCaller({ crypto, keyPair: keyPair(4), now: fixedNow })
  const hostWith = (allow: string[], timeoutMs = 5_000) =>
    createContractHost({
      crypto,
      keyPair: keyPair(5),
      executor: inThreadExecutor(executor()),
      now: fixedNow,
      rpc: { allow, timeoutMs, maxResponseBytes: 1_000 },
    })

  it('calls an allow-listed endpoint, records the answer, and replays it without the network', async () => {
    const host = hostWith([`${base}/quote`])
    const deployed = await caller.deploy(host, oracle)
    const invocation = await caller.invoke(host, oracle, { endpoint: `${base}/quote`, symbol: 'ETH' })
    expect(invocation.output).toBe(600)
    expect(invocation.record.rpc).toEqual([{ endpoint: `${base}/quote`, request: '{"symbol":"ETH"}', response: '{"symbol":"ETH","price":300}' }])
    const before = calls
    const verdict = await reexecute(crypto, inThreadExecutor(executor()), {
      deploy: deployed.proposal,
      invoke: invocation.agreement,
      previousState: encodeCanonical(0),
    })
    expect(verdict.kind).toBe('agrees')
    expect(calls).toBe(before)

    // A host that records a different answer, or answers the contract never asked for, is caught on replay.
    const record = invocation.agreement.payload as unknown as InvokePayload
    const [exchange] = record.rpc
    const tampered = [
      { ...record, rpc: [{ ...exchange, response: '{"symbol":"ETH","price":1}' }] },
      { ...record, rpc: [exchange, exchange] },
    ]
    const verdicts = []
    for (const payload of tampered) {
      const invoke = signBlock(crypto, keyPair(5), { ...invocation.agreement, payload: payload as never })
      verdicts.push(await reexecute(crypto, inThreadExecutor(executor()), { deploy: deployed.proposal, invoke, previousState: encodeCanonical(0) }))
    }
    expect(verdicts.map((verdict) => verdict.kind === 'disagrees' && verdict.reason)).toEqual([
      'the output differs from the record',
      'the invocation fails: CONTRACT_RPC_FAILED',
    ])
  })

  it('refuses endpoints off the allow-list, slow endpoints and oversized answers, with typed errors', async () => {
    const host = hostWith([`${base}/quote`, `${base}/slow`, `${base}/big`], 400)
    await caller.deploy(host, oracle)
    await expect(caller.invoke(host, oracle, { endpoint: 'http://127.0.0.1:1/elsewhere', symbol: 'X' })).rejects.toMatchObject({
      code: ContractErrorCode.RPC_NOT_ALLOWED,
    })
    await expect(caller.invoke(host, oracle, { endpoint: `${base}/slow`, symbol: 'X' })).rejects.toMatchObject({ code: ContractErrorCode.RPC_TIMEOUT })
    await expect(caller.invoke(host, oracle, { endpoint: `${base}/big`, symbol: 'X' })).rejects.toMatchObject({ code: ContractErrorCode.RPC_TOO_LARGE })
    // The contract's state is untouched by the failures: the next good call is its first invocation.
    const ok = await caller.invoke(host, oracle, { endpoint: `${base}/quote`, symbol: 'BTC' })
    expect(ok.record.invocation).toBe(0)
  })

  it('matches the allow-list on the parsed origin and path, refuses redirects, caps requests and streams answers with a size cap', async () => {
    const seen: { url: string; redirect: string }[] = []
    let pulled = 0
    const fetch: FetchLike = async (url, init) => {
      seen.push({ url, redirect: init.redirect })
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++
          controller.enqueue(new TextEncoder().encode(url.endsWith('/endless') ? ' '.repeat(256) : '{"ok":true}'))
          if (!url.endsWith('/endless')) controller.close()
        },
      })
      return {
        ok: true,
        status: 200,
        body,
        text: async () => {
          throw new Error('the bridge must stream the body')
        },
      }
    }
    const bridge = createRpcBridge({ allow: ['https://prices.example/api', 'https://feed.example/'], fetch, maxResponseBytes: 1_000, maxRequestBytes: 100 })
    for (const endpoint of [
      'https://prices.example/api-evil',
      'https://prices.example.evil/api',
      'https://prices.example@evil.example/api',
      'https://prices.example/other',
      'http://prices.example/api',
      'not a url',
    ]) {
      await expect(bridge(endpoint, '{}')).rejects.toMatchObject({ code: ContractErrorCode.RPC_NOT_ALLOWED })
    }
    expect(seen).toEqual([])
    expect((await bridge('https://prices.example/api/quote', '{}')).response).toBe('{"ok":true}')
    expect((await bridge('https://feed.example/x', '{}')).response).toBe('{"ok":true}')
    expect(seen.every((call) => call.redirect === 'error')).toBe(true)
    await expect(bridge('https://feed.example/x', JSON.stringify({ pad: 'x'.repeat(200) }))).rejects.toMatchObject({ code: ContractErrorCode.RPC_TOO_LARGE })
    pulled = 0
    await expect(bridge('https://feed.example/endless', '{}')).rejects.toMatchObject({ code: ContractErrorCode.RPC_TOO_LARGE })
    expect(pulled).toBeLessThan(10) // stopped at the cap, not read to the end
  })

  it('a host without a bridge refuses RPC', async () => {
    const host = createContractHost({ crypto, keyPair: keyPair(6), executor: inThreadExecutor(executor()), now: fixedNow })
    await caller.deploy(host, oracle)
    await expect(caller.invoke(host, oracle, { endpoint: `${base}/quote`, symbol: 'X' })).rejects.toMatchObject({ code: ContractErrorCode.RPC_NOT_ALLOWED })
  })
})
