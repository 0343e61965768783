/**
 * End to end, with real node processes: a node killed with SIGKILL in the middle of a load of transfers, and started
 * again on its data dir, catches up with the network's rounds, and nothing the network acknowledged is lost: every
 * transfer answered 201 before the kill (by the killed node or by the others, some with the killed node as
 * counterparty) is still there afterwards, on its proposer, and becomes final.
 */
import { loadCrypto } from '@constellation/crypto'
import { createRandom } from '@constellation/gossip'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DevnetCluster } from '../src/devnet/devnet-cluster.js'
import { type LocalDevnet, startLocalDevnet } from '../src/devnet/local-devnet.js'
import { LoadCounters, runLoad } from '../src/devnet/load-generator.js'
import { pollUntil } from '../src/devnet/poll-until.js'

const crypto = await loadCrypto()
const TransactionCodec = t.type({ id: t.string, status: t.string })
const KILLED = 2
/** Acknowledged transfers proposed by the node to kill before it is killed (some of its own must be at stake). */
const ACKNOWLEDGED_BY_KILLED = 10

let devnet: LocalDevnet | undefined
let cluster: DevnetCluster | undefined

beforeAll(async () => {
  devnet = await startLocalDevnet({ crypto, name: 'e2e-kill', nodes: 4, facilitators: 4, balance: 1_000_000 })
  cluster = devnet.cluster
}, 75_000)

afterAll(async () => {
  await devnet?.close()
}, 30_000)

describe('a node killed with SIGKILL during load and restarted', () => {
  it('catches up, and every transfer acknowledged before the kill is kept and becomes final', async () => {
    const running = cluster as DevnetCluster
    const acknowledged: { id: string; from: number }[] = []
    const stopLoad = new AbortController()
    let killed: Promise<unknown> | undefined
    const counters = new LoadCounters()
    const load = runLoad(
      {
        targets: running.nodes.map((node) => ({ id: node.layout.id, api: node.api })),
        durationMs: 60_000,
        concurrencyPerNode: 2,
        batch: 4,
        random: createRandom(9),
        signal: stopLoad.signal,
        onAcknowledged: (id, from) => {
          if (killed === undefined) acknowledged.push({ id, from })
          if (killed === undefined && acknowledged.filter((a) => a.from === KILLED).length >= ACKNOWLEDGED_BY_KILLED) {
            // In the middle of the load: every node has transfers outstanding, the killed one included.
            killed = running.killNode(KILLED)
          }
        },
      },
      counters,
    )
    await pollUntil(
      async () => killed,
      (promise) => promise !== undefined,
      { timeoutMs: 40_000, what: `${ACKNOWLEDGED_BY_KILLED} transfers acknowledged by node ${KILLED}` },
    )
    expect(await killed).toEqual({ code: null, signal: 'SIGKILL' })
    // The others carry on without it (the load keeps going to them) until it is back.
    const restarted = await running.restart(KILLED)
    stopLoad.abort()
    await load
    expect(counters.acknowledged).toBeGreaterThan(acknowledged.length)

    // It catches up: it reaches the round the others have reached by now.
    const others = running.nodes.filter((_, i) => i !== KILLED)
    const othersRound = Math.max(...(await Promise.all(others.map(async (node) => (await node.api.status()).round))))
    await running.untilRound(othersRound, { timeoutMs: 30_000 })
    expect((await restarted.api.status()).round).toBeGreaterThanOrEqual(othersRound)

    // Nothing acknowledged is lost: each transfer is found on its proposer, and becomes final there.
    const statuses = await pollUntil(
      () =>
        Promise.all(
          acknowledged.map(
            async ({ id, from }) => (await (running.nodes[from] as (typeof running.nodes)[number]).api.get(`/v1/transactions/${id}`, TransactionCodec)).status,
          ),
        ),
      (all) => all.every((status) => status === 'final'),
      { timeoutMs: 45_000, intervalMs: 500, what: `all ${acknowledged.length} transfers acknowledged before the kill to be final` },
    )
    expect(statuses).toHaveLength(acknowledged.length)
    expect(acknowledged.filter((a) => a.from === KILLED).length).toBeGreaterThanOrEqual(ACKNOWLEDGED_BY_KILLED)
  }, 85_000)
})
