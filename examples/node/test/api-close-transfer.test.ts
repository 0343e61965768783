/**
 * A transfer under way when the API starts closing is answered with what it did, not 503: an error answer promises
 * that nothing moved, and this one was signed. The counterparty is down, so the transfer waits for its answer
 * (pending after the node's answer timeout) while the API closes. Before, the API answered 503 "the node is closing"
 * at once, and the transfer later became final (found by the perturbation suite's soak: a SIGTERM during a transfer).
 */
import { afterAll, expect, it } from 'vitest'
import type { ExplorerAsset } from '../src/explorer/explorer-assets.js'
import { call, startNetwork, type TestNetwork } from './explorer-api-harness.js'

const bundler = async (): Promise<readonly ExplorerAsset[]> => [
  { path: 'index.html', contentType: 'text/html; charset=utf-8', body: new TextEncoder().encode('<!doctype html><title>explorer</title>') },
]

let net: TestNetwork | undefined
afterAll(async () => {
  await net?.close()
})

it('a transfer signed while the API closes is answered 202 pending, and the node holds it', async () => {
  net = await startNetwork({ count: 2, bundler })
  const [node, counterparty] = net.nodes
  if (node === undefined || counterparty === undefined) throw new Error('two nodes')
  await counterparty.close()
  const signed = new Promise<string>((resolve) => {
    node.transactions.onChange((tracked) => {
      if (tracked.status === 'pending') resolve(tracked.id)
    })
  })
  const answer = call(net.url(0, '/v1/transactions'), { method: 'POST', body: { to: counterparty.id, amount: 3 } })
  const id = await signed
  await net.apis[0]?.close()
  const reply = await answer
  expect(reply.status).toBe(202)
  expect(reply.json).toMatchObject({ id, status: 'pending' })
  expect(node.transactions.get(id)?.status).toBe('pending')
}, 60_000)
