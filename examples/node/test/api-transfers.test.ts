/**
 * What a transfer's HTTP answer means, against three in-process nodes (createNode on temp dirs, libp2p on loopback):
 * an error answer always means nothing moved and the transfer can never become final; a retried request with the
 * same idempotency key never pays twice, and after a restart finds the transfer as it stands (final, refused) without
 * counting it again; the batch route answers each transfer on its own; each side sees its role in a transaction.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile, type Crypto, loadCrypto, toHex } from '@constellation/crypto'
import { isProposal, transferOf } from '@constellation/trustchain'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ApiModule, apiModule } from '../src/api/index.js'
import { defaultNodeConfig, type NodeConfig } from '../src/config/node-config.js'
import { createNode } from '../src/node/create-node.js'
import type { FullNode } from '../src/node/full-node.js'
import type { BatchBody, ErrorBody, TransactionList, TransactionView } from './api-bodies.js'
import { ownerHeaders, rememberOwnerToken } from './api-owner.js'

const BALANCE = 1_000_000
/** Node 1 refuses transfers of this much or more. */
const REFUSE_FROM = 100

let crypto: Crypto
let base: string
const nodes: FullNode[] = []
const apis: ApiModule[] = []
const configs: NodeConfig[] = []
const url = (i: number, path: string) => `${apis[i]?.url}${path}`

/** POST `body` to node `i`; `T` is the body the test expects (see api-bodies.ts): not checked, a wrong guess fails the test. */
async function post<T = unknown>(i: number, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url(i, path), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ownerHeaders(url(i, path), 'POST'), ...headers },
    body: JSON.stringify(body),
  })
  return { status: response.status, headers: response.headers, json: (await response.json()) as T }
}

async function get<T = unknown>(i: number, path: string) {
  const response = await fetch(url(i, path))
  return { status: response.status, json: (await response.json()) as T }
}

/** A transfer's answer: the transaction when acknowledged (2xx), else the error; these read the one the test expects. */
type TransferAnswer = TransactionView | ErrorBody

function errorOf(answer: TransferAnswer): ErrorBody['error'] {
  if (!('error' in answer)) throw new Error(`expected an error answer, got transaction ${answer.id}`)
  return answer.error
}

function transactionOf(answer: TransferAnswer): TransactionView {
  if ('error' in answer) throw new Error(`expected a transaction, got error ${answer.error.code}: ${answer.error.message}`)
  return answer
}

/** Polls `check` (it resolves true when done), awaiting the nodes' own progress between tries. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Node `i`'s own proposals to `to` in its chain: how many, and how much they move. */
async function proposalsTo(i: number, to: FullNode) {
  const node = nodes[i] as FullNode
  const blocks = await node.store.range(node.publicKey, 1, node.chain.head().sequenceNumber)
  const proposals = blocks.filter((block) => isProposal(block) && toHex(block.linkPublicKey) === to.id)
  const voided = new Set(blocks.filter((block) => block.type === 'void').map((block) => block.linkSequenceNumber))
  const kept = proposals.filter((block) => !voided.has(block.sequenceNumber))
  return { signed: proposals.length, voided: voided.size, moved: kept.reduce((sum, block) => sum + (transferOf(block.type, block.payload)?.amount ?? 0), 0) }
}

beforeAll(async () => {
  crypto = await loadCrypto()
  base = await mkdtemp(join(tmpdir(), 'constellation-transfers-'))
  const dirs = [0, 1, 2].map((i) => join(base, `n${i}`))
  const keys = await Promise.all(dirs.map((dir) => createKeyFile(join(dir, 'node.key'), { crypto })))
  const genesisFile = join(base, 'genesis.json')
  const genesis = {
    version: 1,
    group: 'transfers-test',
    timestamp: Date.now(),
    facilitators: 3,
    members: keys.map((k) => ({ id: toHex(k.publicKey), balance: BALANCE })),
  }
  await writeFile(genesisFile, JSON.stringify(genesis))
  for (const [i, dir] of dirs.entries()) {
    configs[i] = { ...defaultNodeConfig(dir), genesisFile, p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] }, log: { level: 'warn' } }
    await start(
      i,
      nodes.flatMap((node) => node.network.listenAddresses()),
    )
  }
  await until(async () => nodes.every((node) => node.consensus.history.round >= 2), 'the first rounds')
}, 60_000)

/** Starts node `i` (again, after a restart) on its data dir, with its API. */
async function start(i: number, bootstrap: string[]): Promise<void> {
  const config = configs[i] as NodeConfig
  const serve = apiModule()
  nodes[i] = await createNode(
    { ...config, p2p: { ...config.p2p, bootstrap } },
    {
      modules: [
        async (full) => {
          const api = await serve(full)
          await rememberOwnerToken(api.url, full.config.dataDir)
          apis[i] = api
          return api
        },
      ],
      ...(i === 1 ? { shouldSign: (proposal) => (transferOf(proposal.type, proposal.payload)?.amount ?? 0) < REFUSE_FROM } : {}),
    },
  )
}

afterAll(async () => {
  for (const node of [...nodes].reverse()) await node.close()
  if (base !== undefined) await rm(base, { recursive: true, force: true })
})

describe('transfers over HTTP', () => {
  it('200 concurrent transfers to one counterparty: the balance moves by exactly the acknowledged amounts, no error answer is ever agreed or final', async () => {
    const [sender, , receiver] = nodes as [FullNode, FullNode, FullNode]
    const before = await proposalsTo(0, receiver)
    const answers = await Promise.all(Array.from({ length: 200 }, () => post<TransferAnswer>(0, '/v1/transactions', { to: receiver.id, amount: 1 })))
    const acknowledged = answers.filter((answer) => answer.status === 201 || answer.status === 202)
    const errors = answers.filter((answer) => answer.status >= 400)
    expect(acknowledged.length + errors.length).toBe(200)
    // Every error answer names what happened: nothing signed (BUSY, with a retry hint), or refused and voided.
    for (const error of errors) {
      expect(['BUSY', 'REFUSED', 'INSUFFICIENT_FUNDS']).toContain(errorOf(error.json).code)
      if (errorOf(error.json).code === 'BUSY') expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0)
    }
    // Pending ones settle: agreed or refused, never lost.
    const ids = acknowledged.map((answer) => transactionOf(answer.json).id)
    await until(
      async () => (await Promise.all(ids.map((id) => get<TransactionView>(0, `/v1/transactions/${id}`)))).every((reply) => reply.json.status !== 'pending'),
      'no transfer pending',
    )
    const settled = await Promise.all(ids.map((id) => get<TransactionView>(0, `/v1/transactions/${id}`)))
    const agreed = settled.filter((reply) => reply.json.status !== 'refused').length
    // The chain holds exactly the acknowledged proposals (and the refused ones, each voided): nothing else was signed.
    const after = await proposalsTo(0, receiver)
    const refusedWithId = errors.filter((error) => errorOf(error.json).code === 'REFUSED').length
    expect(after.signed - before.signed).toBe(acknowledged.length + refusedWithId)
    expect(after.moved - before.moved).toBe(agreed)
    // Every agreed one becomes final; every refused one stays refused, and has no proof.
    await until(
      async () =>
        (await Promise.all(ids.map((id) => get<TransactionView>(0, `/v1/transactions/${id}`)))).every(
          (reply) => reply.json.status === 'final' || reply.json.status === 'refused',
        ),
      'finality',
    )
    for (const error of errors.filter((e) => errorOf(e.json).code === 'REFUSED')) {
      const id = errorOf(error.json).transaction!.id
      expect((await get<TransactionView>(0, `/v1/transactions/${id}`)).json.status).toBe('refused')
      expect((await get(0, `/v1/transactions/${id}/proof`)).status).toBe(409)
    }
    // What the sender may spend, once certified, is its opening balance less exactly what was agreed.
    await until(async () => sender.chain.available() === BALANCE - (after.moved - before.moved), 'the certified balance')
  }, 90_000)

  it('a refused transfer is voided: 422 REFUSED with the voided transaction, nothing moved, never final', async () => {
    const [sender, refuser] = nodes as [FullNode, FullNode]
    const balance = sender.chain.head().balance
    const reply = await post<ErrorBody>(0, '/v1/transactions', { to: refuser.id, amount: REFUSE_FROM })
    expect(reply.status).toBe(422)
    expect(reply.json.error.code).toBe('REFUSED')
    const transaction = reply.json.error.transaction!
    expect(transaction).toMatchObject({ status: 'refused', role: 'proposer', amount: REFUSE_FROM, agreement: null })
    expect(transaction.refusal!.void).toMatchObject({ type: 'void', linkSequenceNumber: transaction.proposal.sequenceNumber })
    expect(sender.chain.head().balance).toBe(balance)
    expect((await get(0, `/v1/transactions/${transaction.id}/proof`)).status).toBe(409)
    // Below the refuser's limit the same pair agrees.
    expect((await post(0, '/v1/transactions', { to: refuser.id, amount: REFUSE_FROM - 1 })).status).toBe(201)
  }, 30_000)

  it('a retried request with the same idempotency key returns the first transfer and pays once', async () => {
    const receiver = nodes[2] as FullNode
    const before = await proposalsTo(0, receiver)
    const key = 'order-7f3a-retry'
    const first = await post<TransactionView>(0, '/v1/transactions', { to: receiver.id, amount: 3 }, { 'idempotency-key': key })
    expect(first.status).toBe(201)
    const again = await post<TransactionView>(0, '/v1/transactions', { to: receiver.id, amount: 3 }, { 'idempotency-key': key })
    expect(again.status).toBe(200)
    expect(again.json.id).toBe(first.json.id)
    // Concurrent retries with one new key: one transfer.
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => post<TransactionView>(0, '/v1/transactions', { to: receiver.id, amount: 4 }, { 'idempotency-key': `${key}-2` })),
    )
    expect(new Set(concurrent.map((reply) => reply.json.id)).size).toBe(1)
    const after = await proposalsTo(0, receiver)
    expect(after.signed - before.signed).toBe(2)
    expect(after.moved - before.moved).toBe(7)
    // The same key for another transfer is a conflict: nothing signed, counted with the other rejections.
    const rejected = (await get<TransactionList>(0, '/v1/transactions')).json.totals.rejected
    const conflict = await post<ErrorBody>(0, '/v1/transactions', { to: receiver.id, amount: 5 }, { 'idempotency-key': key })
    expect(conflict.status).toBe(409)
    expect(conflict.json.error.code).toBe('KEY_CONFLICT')
    expect((await proposalsTo(0, receiver)).signed).toBe(after.signed)
    expect((await get<TransactionList>(0, '/v1/transactions')).json.totals.rejected).toBe(rejected + 1)
    expect((await post(0, '/v1/transactions', { to: receiver.id, amount: 5 }, { 'idempotency-key': 'not a key' })).status).toBe(400)
  }, 30_000)

  it('a batch answers each transfer on its own: agreed, refused, rejected before signing', async () => {
    const [, refuser, receiver] = nodes as [FullNode, FullNode, FullNode]
    const reply = await post<BatchBody>(0, '/v1/transactions/batch', {
      transfers: [
        { to: receiver.id, amount: 2 },
        { to: refuser.id, amount: REFUSE_FROM + 1 },
        { to: 'ef'.repeat(32), amount: 1 },
        { to: receiver.id, amount: BALANCE * 10 },
        { to: receiver.id, amount: 2, id: 'batch-item-1' },
      ],
    })
    expect(reply.status).toBe(200)
    expect(reply.json.outcomes.map((outcome) => outcome.status)).toEqual(['agreed', 'refused', 'rejected', 'rejected', 'agreed'])
    expect(reply.json.outcomes[2]!.error!.code).toBe('REJECTED')
    expect(reply.json.outcomes[3]!.error!.code).toBe('INSUFFICIENT_FUNDS')
    const replay = await post<BatchBody>(0, '/v1/transactions/batch', { transfers: [{ to: receiver.id, amount: 2, id: 'batch-item-1' }] })
    expect(replay.json.outcomes[0]).toMatchObject({ replay: true, id: reply.json.outcomes[4]!.id })
    expect(reply.json.outcomes[1]).toMatchObject({ refusal: { code: 'TRUSTCHAIN_PROPOSAL_REJECTED' } })
    expect((await post(0, '/v1/transactions/batch', { transfers: [] })).status).toBe(400)
  }, 30_000)

  it('each side sees its role: the proposer an outgoing transaction, the counterparty an incoming one', async () => {
    const receiver = nodes[2] as FullNode
    const sent = await post<TransactionView>(0, '/v1/transactions', { to: receiver.id, amount: 1 })
    expect(sent.status).toBe(201)
    expect(sent.json.role).toBe('proposer')
    expect((await get<TransactionView>(0, `/v1/transactions/${sent.json.id}`)).json.role).toBe('proposer')
    expect((await get(2, `/v1/transactions/${sent.json.id}`)).json).toMatchObject({ id: sent.json.id, role: 'counterparty' })
  }, 30_000)

  it('after a restart, a retried request finds its transfer as it stands (final in its round, or refused) and counts it in no total', async () => {
    const [, refuser, receiver] = nodes as [FullNode, FullNode, FullNode]
    const paid = await post<TransactionView>(0, '/v1/transactions', { to: receiver.id, amount: 6 }, { 'idempotency-key': 'restart-paid' })
    expect(paid.status).toBe(201)
    const refused = await post<ErrorBody>(0, '/v1/transactions', { to: refuser.id, amount: REFUSE_FROM }, { 'idempotency-key': 'restart-refused' })
    expect(refused.json.error.code).toBe('REFUSED')
    const refusedView = refused.json.error.transaction!
    await until(async () => (await get<TransactionView>(0, `/v1/transactions/${paid.json.id}`)).json.status === 'final', 'the paid transfer to be final')
    const { finalRound } = (await get<TransactionView>(0, `/v1/transactions/${paid.json.id}`)).json

    await (nodes[0] as FullNode).close()
    await start(0, [...refuser.network.listenAddresses(), ...receiver.network.listenAddresses()])
    const none = { submitted: 0, agreed: 0, refused: 0, pending: 0, final: 0, rejected: 0, incoming: 0, incomingFinal: 0, awaitingFinality: 0 }
    expect((await get<TransactionList>(0, '/v1/transactions')).json.totals).toEqual(none)

    // Looked up by id, the refused one comes from the store: the void in the own chain says it was refused.
    const found = await get(0, `/v1/transactions/${refusedView.id}`)
    expect(found.json).toMatchObject({
      status: 'refused',
      role: 'proposer',
      agreement: null,
      refusal: { code: 'REFUSED', void: { type: 'void', linkSequenceNumber: refusedView.proposal.sequenceNumber } },
    })

    const paidAgain = await post(0, '/v1/transactions', { to: receiver.id, amount: 6 }, { 'idempotency-key': 'restart-paid' })
    expect(paidAgain.status).toBe(200)
    expect(paidAgain.json).toMatchObject({ id: paid.json.id, status: 'final', finalRound, role: 'proposer' })
    const refusedAgain = await post<ErrorBody>(0, '/v1/transactions', { to: refuser.id, amount: REFUSE_FROM }, { 'idempotency-key': 'restart-refused' })
    expect(refusedAgain.status).toBe(422)
    expect(refusedAgain.json.error).toMatchObject({ code: 'REFUSED', transaction: { id: refusedView.id, status: 'refused', refusal: { code: 'REFUSED' } } })
    // Shown again, counted nowhere: this run neither proposed nor finalised them.
    const listed = (await get<TransactionList>(0, '/v1/transactions')).json
    expect(listed.totals).toEqual(none)
    expect(listed.transactions.map((transaction) => transaction.id)).toEqual([refusedView.id, paid.json.id])
  }, 60_000)
})
