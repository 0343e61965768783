/**
 * The explorer's server side against three in-process nodes: the app's files (redirects, ETag and 304, content
 * types, the page's CSP, 404 for an unknown file, one build per process), the DAG, the hierarchy and a contract's
 * invocations as the data contract (src/explorer/explorer-views.ts) documents them, each with its bad inputs (400),
 * and the live event stream: hello first, a round after a certificate, a transfer's statuses in order (pending,
 * agreed, final) and the chain's growth after it, an agreement to another node's proposal, keep-alive comments, the
 * cap on streams and a slot freed by a client that went away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { networkMembers } from '../src/config/network-genesis.js'
import type { ExplorerAsset } from '../src/explorer/explorer-assets.js'
import { EXPLORER_CSP } from '../src/explorer/asset-routes.js'
import { nodeExplorer } from '../src/explorer/explorer-module.js'
import type { ContractInvocationsView, DagView, ExplorerEvent, HierarchyView } from '../src/explorer/explorer-views.js'
import { nodeContracts } from '../src/contracts/contracts-module.js'
import { type DeployedBody, errorOf, type InvokedBody } from './api-bodies.js'
import { agreedTransfer, call, openEvents, type Reply, startNetwork, type TestNetwork } from './explorer-api-harness.js'

const MAX_STREAMS = 2
const KEEP_ALIVE_MS = 200

const PAGE = '<!doctype html><title>explorer</title><script type="module" src="app.js"></script>'
const SCRIPT = 'console.log("explorer")'
let builds = 0
const bundler = async (): Promise<readonly ExplorerAsset[]> => {
  builds++
  return [
    { path: 'index.html', contentType: 'text/html; charset=utf-8', body: new TextEncoder().encode(PAGE) },
    { path: 'app.js', contentType: 'text/javascript; charset=utf-8', body: new TextEncoder().encode(SCRIPT) },
  ]
}

let net: TestNetwork
const url = (path: string) => net.url(0, path)

beforeAll(async () => {
  net = await startNetwork({ count: 3, bundler, explorer: { maxStreams: MAX_STREAMS, keepAliveMs: KEEP_ALIVE_MS } })
}, 60_000)

afterAll(async () => {
  await net?.close()
})

function expectBadRequest(reply: Reply): void {
  expect({ status: reply.status, code: errorOf(reply.json)?.code }).toEqual({ status: 400, code: 'INVALID_REQUEST' })
}

describe('the explorer app', () => {
  it('redirects / and /explorer to /explorer/', async () => {
    for (const path of ['/', '/explorer']) {
      const reply = await call(url(path))
      expect(reply.status).toBe(302)
      expect(reply.headers.location).toBe('/explorer/')
    }
  })

  it('serves the page with its CSP, ETag and no-cache, and a 304 to a matching If-None-Match', async () => {
    const page = await call(url('/explorer/'))
    expect(page.status).toBe(200)
    expect(page.text).toBe(PAGE)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).toBe(EXPLORER_CSP)
    expect(EXPLORER_CSP).toContain("default-src 'self'")
    expect(EXPLORER_CSP).not.toContain('unsafe-inline')
    expect(page.headers['cache-control']).toBe('no-cache')
    const etag = page.headers.etag as string
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/)

    const again = await call(url('/explorer/'), { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.body.length).toBe(0)
    expect(again.headers.etag).toBe(etag)
    const listed = await call(url('/explorer/'), { headers: { 'if-none-match': `"other", W/${etag}` } })
    expect(listed.status).toBe(304)
    const stale = await call(url('/explorer/'), { headers: { 'if-none-match': '"0123"' } })
    expect(stale.status).toBe(200)
  })

  it('serves the script with its content type and its own ETag, and 404 JSON for an unknown file', async () => {
    const script = await call(url('/explorer/app.js'))
    expect(script.status).toBe(200)
    expect(script.text).toBe(SCRIPT)
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(script.headers['content-security-policy']).toBeUndefined()
    expect(script.headers.etag).not.toBe((await call(url('/explorer/'))).headers.etag)
    for (const path of ['/explorer/missing.js', '/explorer/..%2Fpackage.json', '/explorer/app.js/x']) {
      const missing = await call(url(path))
      expect({ status: missing.status, code: errorOf(missing.json)?.code }).toEqual({ status: 404, code: 'NOT_FOUND' })
    }
  })

  it('builds the app once per process, whichever node serves it', async () => {
    await call(net.url(1, '/explorer/'))
    await call(net.url(2, '/explorer/app.js'))
    expect(builds).toBe(1)
  })
})

describe('GET /v1/dag', () => {
  it('lists the members chains, then the contract chains, with roles, links and certification', async () => {
    const [n0, n1] = net.nodes
    // A transfer, so that a proposal and its agreement are in the DAG.
    const sent = await agreedTransfer(net.url(0, ''), n1!.id, 7)
    const id = sent.id as string
    // ... and a checkpoint of node 0 certified after it, so that the DAG shows certification.
    const proposed = sent.proposal.sequenceNumber as number
    await waitFor(() => (n0!.consensus.history.checkpointsOf(n0!.id).at(-1)?.entry.sequenceNumber ?? 0) > proposed, 20_000)
    const reply = await call(url('/v1/dag'))
    expect(reply.status).toBe(200)
    const dag = reply.json as DagView
    const contracts = nodeContracts(n0!)
    // The node's own chain first, then the other members' in genesis order, then its contract chains.
    const others = networkMembers(n0!.genesis)
      .map((member) => member.id)
      .filter((id) => id !== n0!.id)
    expect(dag.chains.map((chain) => chain.publicKey)).toEqual([n0!.id, ...others, contracts?.hostKey, contracts?.callerKey])
    expect(dag.omittedChains).toBe(0)
    expect(dag.chains.map((chain) => chain.kind)).toEqual(['member', 'member', 'member', 'contract', 'contract'])
    expect(dag.chains.filter((chain) => chain.self).map((chain) => chain.publicKey)).toEqual([n0?.id])
    expect(dag.latestRound).toBeGreaterThanOrEqual(0)
    for (const chain of dag.chains) {
      expect(chain.blocks.length).toBeLessThanOrEqual(16)
      // A chain with nothing stored here (a member never crawled, say) is listed with height 0 and no blocks.
      expect(chain.blocks.at(-1)?.sequenceNumber ?? 0).toBe(chain.height)
    }

    const own = dag.chains.find((chain) => chain.publicKey === n0?.id)!
    const proposal = own.blocks.find((block) => block.hash === id)
    expect(proposal).toMatchObject({ role: 'proposal', linkPublicKey: n1?.id, linkSequenceNumber: 0, amount: 7, transactionId: id })
    const other = dag.chains.find((chain) => chain.publicKey === n1?.id)!
    const agreement = other.blocks.find((block) => block.transactionId === id)
    expect(agreement).toMatchObject({ role: 'agreement', linkPublicKey: n0?.id, linkSequenceNumber: proposal?.sequenceNumber, amount: 7 })

    // Certified checkpoints carry their round, and what lies below them is certified.
    const checkpoints = own.blocks.filter((block) => block.role === 'checkpoint')
    for (const block of own.blocks) if (block.role !== 'checkpoint') expect(block.certifiedRound).toBeNull()
    const certified = checkpoints.filter((block) => block.certifiedRound !== null)
    expect(certified.length).toBeGreaterThan(0)
    expect(proposal?.certified).toBe(true)
    const history = n0!.consensus.history
    for (const block of certified) {
      const entry = history.certificate(block.certifiedRound!)?.result.body.checkpoints.find((e) => Buffer.from(e.publicKey).toString('hex') === n0?.id)
      expect(Buffer.from(entry!.hash).toString('hex')).toBe(block.hash)
      expect(block.certified).toBe(true)
    }
    const highest = history.checkpointsOf(n0!.id).at(-1)?.entry.sequenceNumber ?? 0
    for (const block of own.blocks) expect(block.certified).toBe(block.sequenceNumber <= highest)
  })

  it('returns the last perChain blocks, genesis first when the chain is that short', async () => {
    const reply = await call(url('/v1/dag?perChain=1'))
    expect(reply.status).toBe(200)
    for (const chain of (reply.json as DagView).chains)
      expect(chain.blocks.map((block) => block.sequenceNumber)).toEqual(chain.height === 0 ? [] : [chain.height])
    const all = await call(url('/v1/dag?perChain=50'))
    const member = (all.json as DagView).chains.find((chain) => chain.height <= 50)
    if (member !== undefined)
      expect(member.blocks[0]).toMatchObject({ sequenceNumber: 1, role: 'genesis', linkPublicKey: member.publicKey, transactionId: null })
  })

  it('refuses a bad perChain or an unknown parameter with 400', async () => {
    for (const query of ['perChain=0', 'perChain=51', 'perChain=abc', 'perChain=1.5', 'perChain=2&perChain=3', 'perchain=2']) {
      expectBadRequest(await call(url(`/v1/dag?${query}`)))
    }
  })
})

describe('GET /v1/hierarchy', () => {
  it('shows the one solar system this node runs, as the root', async () => {
    const reply = await call(url('/v1/hierarchy'))
    expect(reply.status).toBe(200)
    const view = reply.json as HierarchyView
    const node = net.nodes[0]!
    expect(view.root).toEqual({ level: 0, group: 'explorer-test' })
    expect(view.levels).toHaveLength(1)
    expect(view.levels[0]).toMatchObject({ level: 0, name: 'solar system' })
    const [group] = view.levels[0]!.groups
    expect(group).toMatchObject({ level: 0, group: 'explorer-test', parent: null, followed: true, members: net.nodes.map((n) => n.id).sort() })
    expect(group?.facilitators.length).toBeGreaterThan(0)
    expect(group?.round).toBeLessThanOrEqual(node.consensus.history.round)
    expect(group?.resultHash).toMatch(/^[0-9a-f]{64}$/)
    expectBadRequest(await call(url('/v1/hierarchy?level=1')))
  })
})

describe('GET /v1/contracts/:id/invocations', () => {
  it('lists a hosted contract invocations newest first, from the host chain', async () => {
    const deployed = await call<DeployedBody>(url('/v1/contracts'), {
      method: 'POST',
      body: {
        code: 'function invoke(state, input) { return { state: state + input, output: state + input } }',
        signature: { input: { kind: 'integer' }, output: { kind: 'integer' }, state: { kind: 'integer' } },
        initialState: 0,
      },
    })
    expect(deployed.status).toBe(201)
    const id = deployed.json.id as string
    const first = await call<InvokedBody>(url(`/v1/contracts/${id}/invoke`), { method: 'POST', body: { input: 2 } })
    const second = await call<InvokedBody>(url(`/v1/contracts/${id}/invoke`), { method: 'POST', body: { input: 3 } })
    expect([first.status, second.status]).toEqual([200, 200])

    const reply = await call<ContractInvocationsView>(url(`/v1/contracts/${id}/invocations`))
    expect(reply.status).toBe(200)
    expect(reply.json.id).toBe(id)
    const caller = nodeContracts(net.nodes[0]!)?.callerKey
    expect(reply.json.invocations).toEqual([
      { transactionId: second.json.proposal.hash, caller, input: 3, output: 5, gas: second.json.gas, timestamp: expect.any(Number), status: 'agreed' },
      { transactionId: first.json.proposal.hash, caller, input: 2, output: 2, gas: first.json.gas, timestamp: expect.any(Number), status: 'agreed' },
    ])
    const one = await call<ContractInvocationsView>(url(`/v1/contracts/${id}/invocations?limit=1`))
    expect(one.json.invocations.map((entry) => entry.input)).toEqual([3])

    for (const query of ['limit=0', 'limit=101', 'limit=x', 'from=1']) expectBadRequest(await call(url(`/v1/contracts/${id}/invocations?${query}`)))
    expectBadRequest(await call(url('/v1/contracts/not-hex/invocations')))
    const unknown = await call(url(`/v1/contracts/${'ab'.repeat(32)}/invocations`))
    expect({ status: unknown.status, code: errorOf(unknown.json)?.code }).toEqual({ status: 404, code: 'NOT_FOUND' })
  })
})

describe('GET /v1/events', () => {
  const isRound = (event: ExplorerEvent): event is Extract<ExplorerEvent, { kind: 'round' }> => event.kind === 'round'

  it('starts with hello, then a round for each certificate applied, and keep-alive comments', async () => {
    const node = net.nodes[0]!
    const events = await openEvents(url('/v1/events'))
    try {
      expect(events.status).toBe(200)
      expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(events.headers['cache-control']).toBe('no-cache')
      const hello = await events.next((event): event is Extract<ExplorerEvent, { kind: 'hello' }> => event.kind === 'hello')
      expect(events.names[0]).toBe('hello')
      expect(hello).toEqual({ kind: 'hello', nodeId: node.id, round: expect.any(Number), height: expect.any(Number) })
      const round = await events.next((event): event is Extract<ExplorerEvent, { kind: 'round' }> => isRound(event) && event.certificate.round > hello.round)
      expect(round.certificate).toMatchObject({ level: 0, group: 'explorer-test', resultHash: expect.stringMatching(/^[0-9a-f]{64}$/) })
      expect(node.consensus.history.round).toBeGreaterThanOrEqual(round.certificate.round)
      expect(events.names.every((name, i) => name === events.events[i]?.kind)).toBe(true)
      await events.comment(1)
      expect(events.comments[0]).toBe('keep-alive')
    } finally {
      events.close()
    }
  })

  it('sends a transaction event and the chain growth after a transfer', async () => {
    const [n0, n1] = net.nodes
    const events = await openEvents(url('/v1/events'))
    // A listener that throws must not cost the node its checkpoints or trustchain work: the transfer still ends final.
    const offBroken = n0!.onChainGrowth(() => {
      throw new Error('a broken chain-growth listener')
    })
    try {
      const hello = await events.next((event): event is Extract<ExplorerEvent, { kind: 'hello' }> => event.kind === 'hello')
      const sent = await agreedTransfer(net.url(0, ''), n1!.id, 3)
      type TransactionEvent = Extract<ExplorerEvent, { kind: 'transaction' }>
      const isTransaction =
        (id: string) =>
        (event: ExplorerEvent): event is TransactionEvent =>
          event.kind === 'transaction' && event.id === id
      const transaction = await events.next(isTransaction(sent.id))
      // Signed and sent first (pending), then agreed, then final: one event per change, in that order.
      expect(transaction).toEqual({ kind: 'transaction', id: sent.id, status: 'pending', from: n0?.id, to: n1?.id, amount: 3 })
      const final = await events.next((event): event is TransactionEvent => isTransaction(sent.id)(event) && event.status === 'final', 25_000)
      expect(final).toMatchObject({ from: n0?.id, to: n1?.id, amount: 3 })
      expect(events.events.filter(isTransaction(sent.id)).map((event) => event.status)).toEqual(['pending', 'agreed', 'final'])
      const grown = await events.next((event): event is Extract<ExplorerEvent, { kind: 'chain' }> => event.kind === 'chain' && event.height > hello.height)
      expect(grown.publicKey).toBe(n0?.id)
      // An agreement this node signs to another node's proposal is a transaction event too, and so is its finality.
      const incoming = await agreedTransfer(net.url(1, ''), n0!.id, 4)
      const agreed = await events.next(isTransaction(incoming.id))
      expect(agreed).toMatchObject({ status: 'agreed', from: n1?.id, to: n0?.id, amount: 4 })
      await events.next((event): event is TransactionEvent => isTransaction(incoming.id)(event) && event.status === 'final', 25_000)
    } finally {
      offBroken()
      events.close()
    }
  })

  it('refuses streams past the cap with 503 and frees the slot of a client that went away', async () => {
    const explorer = nodeExplorer(net.nodes[0]!)!
    await waitFor(() => explorer.events.streams === 0)
    const open = [await openEvents(url('/v1/events')), await openEvents(url('/v1/events'))]
    try {
      expect(open.map((stream) => stream.status)).toEqual([200, 200])
      const refused = await openEvents(url('/v1/events'))
      await refused.ended
      expect(refused.status).toBe(503)
      expect(JSON.parse(refused.text).error.code).toBe('UNAVAILABLE')

      open[0]?.close()
      await waitFor(() => explorer.events.streams === MAX_STREAMS - 1)
      const again = await openEvents(url('/v1/events'))
      expect(again.status).toBe(200)
      open[0] = again
    } finally {
      for (const stream of open) stream.close()
    }
  })

  it('refuses an unknown parameter with 400', async () => {
    const reply = await call(url('/v1/events?since=3'))
    expectBadRequest(reply)
  })
})

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
