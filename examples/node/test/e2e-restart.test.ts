/**
 * End to end, with real node processes: a node stopped with SIGTERM and started again on its data dir keeps what
 * it had — its chain (height, balance), its transactions (found and final), its certified rounds — and takes part
 * again: it follows the network's rounds and its new transfers become final.
 */
import { loadCrypto } from '@constellation/crypto'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DevnetCluster } from '../src/devnet/devnet-cluster.js'
import { type LocalDevnet, startLocalDevnet } from '../src/devnet/local-devnet.js'
import type { NodeApi } from '../src/devnet/node-api.js'
import { pollUntil } from '../src/devnet/poll-until.js'

const crypto = await loadCrypto()
const TransactionCodec = t.type({ id: t.string, status: t.string })
/** The node that is stopped and restarted. */
const RESTARTED = 3

let devnet: LocalDevnet | undefined
let cluster: DevnetCluster | undefined

beforeAll(async () => {
  devnet = await startLocalDevnet({ crypto, name: 'e2e-restart', nodes: 4, facilitators: 4, balance: 1_000_000 })
  cluster = devnet.cluster
}, 75_000)

afterAll(async () => {
  await devnet?.close()
}, 30_000)

function untilFinal(api: NodeApi, ids: readonly string[], what: string): Promise<unknown> {
  return pollUntil(
    () => Promise.all(ids.map(async (id) => (await api.get(`/v1/transactions/${id}`, TransactionCodec)).status)),
    (statuses) => statuses.every((status) => status === 'final'),
    { timeoutMs: 30_000, what },
  )
}

describe('a node stopped with SIGTERM and restarted', () => {
  it('keeps its chain, balance, transactions and certified rounds, and takes part again', async () => {
    const running = cluster as DevnetCluster
    const node = () => running.nodes[RESTARTED] as (typeof running.nodes)[number]
    const others = running.nodes.filter((_, i) => i !== RESTARTED)
    // Transfers both ways: the restarted node proposes some and countersigns others.
    const outgoing = await Promise.all(others.map((other, i) => node().api.post('/v1/transactions', { to: other.layout.id, amount: i + 1 }, TransactionCodec)))
    const incoming = await Promise.all(others.map((other) => other.api.post('/v1/transactions', { to: node().layout.id, amount: 10 }, TransactionCodec)))
    const ids = [...outgoing, ...incoming].map((transaction) => transaction.id)
    await untilFinal(node().api, ids, 'the transfers to be final on the node to restart')
    const before = await node().api.status()

    const exit = await running.stopNode(RESTARTED)
    expect(exit).toEqual({ code: 0, signal: null })
    await running.restart(RESTARTED)
    const after = await node().api.status()

    expect(after.id).toBe(before.id)
    expect(after.round).toBeGreaterThanOrEqual(before.round)
    // Checkpoint blocks may have been added since; transfers have not.
    expect(after.chainHeight).toBeGreaterThanOrEqual(before.chainHeight)
    expect(after.balance).toBe(before.balance)
    // Its transactions are found in its store after the restart, and are still final.
    await untilFinal(node().api, ids, 'the transfers to be final after the restart')

    // It follows the network again: it reaches a round the others certify after it came back.
    const othersNow = Math.max(...(await Promise.all(others.map(async (other) => (await other.api.status()).round))))
    await running.untilRound(othersNow + 2, { timeoutMs: 30_000 })
    // And what it proposes now becomes final.
    const fresh = await node().api.post('/v1/transactions', { to: others[0]?.layout.id, amount: 5 }, TransactionCodec)
    await untilFinal(node().api, [fresh.id], 'a transfer proposed after the restart to be final')
    expect((await node().api.status()).balance).toBe(before.balance - 5)
  }, 80_000)
})
