/**
 * The contracts module on two in-process nodes (createNode on temp dirs, one genesis, libp2p on loopback): node B
 * deploys a token contract to node A over the contracts protocol and invokes it; bad input gets typed errors and
 * changes nothing; the host keeps its contracts and their state across a restart on the same data dir; the HTTP
 * routes answer with the documented bodies and statuses.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { type AsyncExecutor, ContractErrorCode, createWorkerExecutor } from '@constellation/contracts'
import { createKeyFile, equalBytes, fromHex, loadCrypto, toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock } from '@constellation/trustchain'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ApiModule, apiModule } from '../src/api/index.js'
import { contractRoutes } from '../src/api/routes/contracts.js'
import { defaultNodeConfig, type NodeConfig } from '../src/config/node-config.js'
import { contractsModule, type NodeContracts, nodeContracts } from '../src/contracts/contracts-module.js'
import { createNode } from '../src/node/create-node.js'
import type { FullNode } from '../src/node/full-node.js'
import { ownerHeaders, rememberOwnerToken } from './api-owner.js'

const crypto = await loadCrypto()

const TOKEN = `function invoke(state, input, context) {
  const have = state[context.caller] || 0
  if (input.amount > have) throw new Error('insufficient funds')
  state[context.caller] = have - input.amount
  state[input.to] = (state[input.to] || 0) + input.amount
  return { state, output: state[context.caller] }
}`
const TOKEN_SIGNATURE = {
  input: { kind: 'struct', fields: { to: { kind: 'string' }, amount: { kind: 'integer' } } },
  output: { kind: 'integer' },
  state: { kind: 'record', values: { kind: 'integer' } },
} as const
const COUNTER = 'function invoke(state, input) { return { state: state + input, output: state + input } }'
const COUNTER_SIGNATURE = { input: { kind: 'integer' }, output: { kind: 'integer' }, state: { kind: 'integer' } } as const

let base: string
const configs: NodeConfig[] = []
/** Node A (index 0) hosts; node B (index 1) calls. */
const nodes: FullNode[] = []
const apis: ApiModule[] = []
const warnings: string[] = []
const logger = pino(
  { level: 'warn' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push(chunk.toString('utf8'))
      done()
    },
  }),
)

/** Node A's contracts run in a sandbox given to its contracts module (the default one, counted), not the built-in one. */
const sandboxed = { registered: 0, executed: 0 }
function countedSandbox(): AsyncExecutor {
  const inner = createWorkerExecutor()
  return {
    limits: inner.limits,
    register(registration) {
      sandboxed.registered++
      return inner.register(registration)
    },
    execute(request) {
      sandboxed.executed++
      return inner.execute(request)
    },
    close: () => inner.close(),
  }
}

async function start(i: number, bootstrap: readonly string[]): Promise<FullNode> {
  const config = { ...(configs[i] as NodeConfig), p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [...bootstrap] } }
  const node = await createNode(config, {
    logger,
    modules: [
      contractsModule(i === 0 ? { sandbox: countedSandbox } : {}),
      async (full) => {
        const api = await apiModule({ routes: contractRoutes })(full)
        await rememberOwnerToken(api.url, full.config.dataDir)
        apis[i] = api
        return api
      },
    ],
  })
  nodes[i] = node
  return node
}

const node = (i: number) => nodes[i] as FullNode
const contracts = (i: number) => nodeContracts(node(i)) as NodeContracts

/** What a refused request must not change: both contract chains' heads and the hosted contracts. */
async function fingerprint(): Promise<string> {
  const head = async (n: FullNode, key: string | undefined) => {
    const latest = await n.store.latest(fromHex(key ?? ''))
    return latest === undefined ? 'none' : toHex(blockHash(crypto, latest))
  }
  return JSON.stringify({
    host: await head(node(0), contracts(0).hostKey),
    caller: await head(node(1), contracts(1).callerKey),
    hostedCaller: await head(node(0), contracts(1).callerKey),
    hosted: contracts(0).hosted(),
  })
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'constellation-contracts-'))
  const dirs = [join(base, 'a'), join(base, 'b')]
  const keys = await Promise.all(dirs.map((dir) => createKeyFile(join(dir, 'node.key'), { crypto })))
  const genesisFile = join(base, 'genesis.json')
  await writeFile(
    genesisFile,
    JSON.stringify({
      version: 1,
      group: 'contracts-test',
      timestamp: Date.now(),
      facilitators: 1,
      members: keys.map((k) => ({ id: toHex(k.publicKey), balance: 1_000 })),
    }),
  )
  for (const dir of dirs) configs.push({ ...defaultNodeConfig(dir), genesisFile, consensus: { checkpointDelayMs: 1_000 }, log: { level: 'warn' } })
  await start(0, [])
  await start(1, node(0).network.listenAddresses())
}, 60_000)

afterAll(async () => {
  for (const n of nodes.reverse()) await n?.close()
  if (base !== undefined) await rm(base, { recursive: true, force: true })
})

let tokenId: string

describe('contracts between nodes', () => {
  it('node B deploys a token contract to node A over the network and invokes it: real pairs, stored at both ends', async () => {
    const a = contracts(0)
    const b = contracts(1)
    const deployed = await b.deploy({ code: TOKEN, signature: TOKEN_SIGNATURE, initialState: { [b.callerKey]: 100 }, host: node(0).id })
    tokenId = deployed.id
    expect(deployed.id).toBe(toHex(crypto.sha256(new TextEncoder().encode(TOKEN))))
    expect(toHex(deployed.proposal.publicKey)).toBe(b.callerKey)
    expect(toHex(deployed.agreement.publicKey)).toBe(a.hostKey)
    expect(deployed.agreement.linkSequenceNumber).toBe(deployed.proposal.sequenceNumber)

    const invoked = await b.invoke({ contract: tokenId, input: { to: 'carol', amount: 30 }, host: node(0).id })
    expect(invoked.output).toBe(70)
    expect(invoked.gas).toBeGreaterThan(0)
    expect(a.hostedContract(tokenId)).toMatchObject({ invocations: 1, state: { [b.callerKey]: 70, carol: 30 } })
    // The host ran it in the sandbox its module was given.
    expect(sandboxed.registered).toBeGreaterThan(0)
    expect(sandboxed.executed).toBeGreaterThan(0)

    // Both halves of both pairs are in the host's store; the caller's store holds its proposals and the host's
    // agreements, which it could validate only after crawling the host's contract chain from node A.
    const stored = async (n: FullNode, block: HalfBlock) => {
      const found = await n.store.get(block.publicKey, block.sequenceNumber)
      return found !== undefined && equalBytes(blockHash(crypto, found), blockHash(crypto, block))
    }
    for (const block of [deployed.proposal, deployed.agreement, invoked.proposal, invoked.agreement]) {
      expect(await stored(node(0), block)).toBe(true)
      expect(await stored(node(1), block)).toBe(true)
    }
    expect(a.hosted()).toEqual([{ id: tokenId, signature: TOKEN_SIGNATURE, invocations: 1, stateHash: expect.stringMatching(/^[0-9a-f]{64}$/) }])
  })

  it('bad input gets typed errors and changes nothing: a syntax error, a wrong input type, an unknown contract, a throwing call', async () => {
    const b = contracts(1)
    const host = node(0).id
    const before = await fingerprint()
    await expect(b.deploy({ code: 'function invoke(', signature: COUNTER_SIGNATURE, initialState: 0, host })).rejects.toMatchObject({
      code: ContractErrorCode.SYNTAX_ERROR,
    })
    await expect(b.invoke({ contract: tokenId, input: { to: 5, amount: 1 }, host })).rejects.toMatchObject({ code: ContractErrorCode.INPUT_INVALID })
    await expect(b.invoke({ contract: 'ab'.repeat(32), input: 1, host })).rejects.toMatchObject({ code: ContractErrorCode.UNKNOWN_CONTRACT })
    await expect(b.invoke({ contract: tokenId, input: { to: 'carol', amount: 1_000 }, host })).rejects.toMatchObject({ code: ContractErrorCode.CONTRACT_THREW })
    expect(await fingerprint()).toBe(before)
    // The caller carries on from where it was: the next call is the next block of its chain.
    const next = await b.invoke({ contract: tokenId, input: { to: 'dave', amount: 5 }, host })
    expect(next.output).toBe(65)
  })

  it('the host keeps its contracts and their committed state across a restart on the same data dir', async () => {
    const before = contracts(0).hostedContract(tokenId)
    const restart = async (price: number) => {
      await node(0).close()
      expect(nodeContracts(node(0))).toBeUndefined()
      configs[0] = { ...(configs[0] as NodeConfig), contracts: { enabled: true, price } }
      await start(0, node(1).network.listenAddresses())
      expect(contracts(0).hostedContract(tokenId)).toEqual(before)
      // B reaches the restarted host once they are connected again.
      for (let i = 0; i < 100 && !node(1).network.peers().includes(node(0).id); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    // Restarted with a price: B's caller chain holds no value, so the package's payment rule refuses the call first.
    await restart(1)
    const unpaid = await fingerprint()
    await expect(contracts(1).invoke({ contract: tokenId, input: { to: 'carol', amount: 15 }, host: node(0).id })).rejects.toMatchObject({
      code: ContractErrorCode.PAYMENT_REQUIRED,
    })
    expect(await fingerprint()).toBe(unpaid)
    // Free again, the state goes on from the restored one.
    await restart(0)
    const after = await contracts(1).invoke({ contract: tokenId, input: { to: 'carol', amount: 15 }, host: node(0).id })
    expect(after.output).toBe(50)
    expect(contracts(0).hostedContract(tokenId)).toMatchObject({ invocations: 3, state: { [contracts(1).callerKey]: 50, carol: 45, dave: 5 } })
  })
})

describe('HTTP routes', () => {
  const url = (i: number, path: string) => `${apis[i]?.url}${path}`
  const post = (i: number, path: string, body: unknown) =>
    fetch(url(i, path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ownerHeaders(url(i, path), 'POST') },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  const errorOf = async (response: Response) => ({
    status: response.status,
    ...((await response.json()) as { error: { code: string; message: string } }).error,
  })

  it('lists and shows hosted contracts', async () => {
    const list = await fetch(url(0, '/v1/contracts'))
    expect(list.status).toBe(200)
    const body = (await list.json()) as { host: string; caller: string; price: number; contracts: { id: string; invocations: number }[] }
    expect(body).toMatchObject({ host: contracts(0).hostKey, caller: contracts(0).callerKey, price: 0, sla: { invocations: 1, successes: 1, price: 0 } })
    expect(body.contracts.map((c) => [c.id, c.invocations])).toEqual([[tokenId, 3]])
    const shown = await fetch(url(0, `/v1/contracts/${tokenId}`))
    expect(await shown.json()).toMatchObject({ id: tokenId, signature: TOKEN_SIGNATURE, invocations: 3, state: { carol: 45 } })
    expect(await errorOf(await fetch(url(0, `/v1/contracts/${'cd'.repeat(32)}`)))).toMatchObject({ status: 404, code: 'NOT_FOUND' })
    expect(await errorOf(await fetch(url(0, '/v1/contracts/not-an-id')))).toMatchObject({ status: 400, code: 'INVALID_REQUEST' })
    // The host's contract chain is an ordinary chain of the node's store: its genesis, then the agreements.
    const chain = (await (await fetch(url(0, `/v1/chains/${contracts(0).hostKey}`))).json()) as { blocks: { type: string; payload: { kind?: string } }[] }
    expect(chain.blocks.map((block) => block.payload.kind ?? block.type)).toEqual([
      'genesis',
      'contract-deploy',
      'contract-invoke',
      'contract-invoke',
      'contract-invoke',
    ])
  })

  it('deploys and invokes on this node or on another one', async () => {
    const deployed = await post(1, '/v1/contracts', { code: COUNTER, signature: COUNTER_SIGNATURE, initialState: 0 })
    expect(deployed.status).toBe(201)
    const pair = (await deployed.json()) as {
      id: string
      proposal: { publicKey: string; hex: string }
      agreement: { publicKey: string; linkPublicKey: string }
    }
    expect(pair.proposal.publicKey).toBe(contracts(1).callerKey)
    expect(pair.agreement).toMatchObject({ publicKey: contracts(1).hostKey, linkPublicKey: contracts(1).callerKey })
    const invoked = await post(1, `/v1/contracts/${pair.id}/invoke`, { input: 4 })
    expect(invoked.status).toBe(200)
    expect(await invoked.json()).toMatchObject({
      output: 4,
      gas: expect.any(Number),
      proposal: { publicKey: contracts(1).callerKey },
      agreement: { publicKey: contracts(1).hostKey },
    })
    // Node A's API invokes the token hosted by A itself as A's caller, who holds nothing: the contract throws.
    const refused = await errorOf(await post(0, `/v1/contracts/${tokenId}/invoke`, { input: { to: 'x', amount: 1 } }))
    expect(refused).toMatchObject({ status: 422, code: 'REJECTED' })
    expect(refused.message).toMatch(/^CONTRACT_THREW: /)
    // Through node B's API, on node A.
    const remote = await post(1, `/v1/contracts/${tokenId}/invoke`, { input: { to: 'erin', amount: 1 }, host: node(0).id })
    expect(await remote.json()).toMatchObject({ output: 49 })
  })

  it('refuses bad bodies with typed JSON errors and changes nothing', async () => {
    const before = await fingerprint()
    const cases: [unknown, number, string, RegExp?][] = [
      ['{not json', 400, 'INVALID_REQUEST'],
      [{ code: COUNTER, signature: COUNTER_SIGNATURE }, 400, 'INVALID_REQUEST'],
      [
        { code: COUNTER, signature: { input: { kind: 'integer' }, output: { kind: 'bogus' }, state: { kind: 'integer' } }, initialState: 0 },
        400,
        'INVALID_REQUEST',
      ],
      [{ code: COUNTER, signature: COUNTER_SIGNATURE, initialState: 0, host: 'zz' }, 400, 'INVALID_REQUEST'],
      [{ code: 'function invoke(', signature: COUNTER_SIGNATURE, initialState: 0, host: node(0).id }, 400, 'INVALID_REQUEST', /^CONTRACT_SYNTAX_ERROR: /],
      [{ code: COUNTER, signature: COUNTER_SIGNATURE, initialState: 'zero', host: node(0).id }, 400, 'INVALID_REQUEST', /^CONTRACT_STATE_INVALID: /],
      [{ code: `${COUNTER}\n//${'x'.repeat(9_000)}`, signature: COUNTER_SIGNATURE, initialState: 0, host: node(0).id }, 413, 'PAYLOAD_TOO_LARGE'],
    ]
    for (const [body, status, code, message] of cases) {
      const error = await errorOf(await post(1, '/v1/contracts', body))
      expect(error).toMatchObject({ status, code })
      if (message !== undefined) expect(error.message).toMatch(message)
    }
    const invokeCases: [string, unknown, number, string, RegExp?][] = [
      [tokenId, { input: { to: 1, amount: 1 }, host: node(0).id }, 400, 'INVALID_REQUEST', /^CONTRACT_INPUT_INVALID: /],
      [tokenId, { host: node(0).id }, 400, 'INVALID_REQUEST'],
      ['ef'.repeat(32), { input: 1, host: node(0).id }, 404, 'NOT_FOUND', /^CONTRACT_UNKNOWN_CONTRACT: /],
      [tokenId, { input: { to: 'x'.repeat(70_000), amount: 1 }, host: node(0).id }, 413, 'PAYLOAD_TOO_LARGE', /^CONTRACT_INPUT_TOO_LARGE: /],
    ]
    for (const [id, body, status, code, message] of invokeCases) {
      const error = await errorOf(await post(1, `/v1/contracts/${id}/invoke`, body))
      expect(error).toMatchObject({ status, code })
      if (message !== undefined) expect(error.message).toMatch(message)
    }
    expect(await fingerprint()).toBe(before)
    expect(warnings.filter((line) => /"level":(50|60)/.test(line))).toEqual([])
  })
})
