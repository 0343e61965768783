/**
 * `constellation tx send | status` against a scripted node (an HTTP server answering as the API does), for the
 * answers a healthy test network does not give on demand: 202 pending (printed with its id and a note that it may
 * still be agreed; `--wait-final` follows it), a transfer refused by its counterparty (at the send, or while
 * `--wait-final` follows it), BUSY with its Retry-After, INSUFFICIENT_FUNDS, KEY_CONFLICT; the `Idempotency-Key`
 * header `--idempotency-key` sends, and a lost answer's hint to send again with it; and `tx status` of a refused
 * transaction and of a final one with its proof. test/cli-network.test.ts runs the real path with two nodes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { cli } from './cli-helpers.js'

const A = 'aa'.repeat(32)
const B = 'bb'.repeat(32)
const ID = 'cd'.repeat(32)

interface Seen {
  readonly method: string
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly body: unknown
}

type Answer = { readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> } | 'hang'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
  server = undefined
})

/** A node that answers each request with `answer(request, n)` (n: the requests of that method and path so far). */
async function scriptedNode(answer: (seen: Seen, n: number) => Answer): Promise<{ readonly url: string; readonly seen: Seen[] }> {
  const seen: Seen[] = []
  const counts = new Map<string, number>()
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = ''
    request.on('data', (chunk: Buffer) => (text += chunk.toString()))
    request.on('end', () => {
      const entry: Seen = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      }
      seen.push(entry)
      const key = `${entry.method} ${entry.path}`
      const n = counts.get(key) ?? 0
      counts.set(key, n + 1)
      const reply = answer(entry, n)
      if (reply === 'hang') return
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body))
    })
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const half = (publicKey: string, sequenceNumber: number, hash: string) => ({ hash, publicKey, sequenceNumber })

/** A transaction view as the API serves it (the fields the CLI reads, and a few it passes through). */
function view(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: ID,
    status,
    from: A,
    to: B,
    amount: 25,
    proposal: half(A, 7, ID),
    agreement: status === 'pending' || status === 'refused' || status === 'proposed' ? null : half(B, 4, 'ef'.repeat(32)),
    submittedAt: 1_000,
    ...(status === 'agreed' || status === 'final' ? { agreedAt: 1_012 } : {}),
    ...(status === 'final' ? { finalAt: 1_480, finalRound: 12 } : {}),
    ...extra,
  }
}

const refusal = { code: 'PROPOSAL_REJECTED', reason: 'policy', void: half(A, 8, '9a'.repeat(32)) }
const send = (url: string, ...more: string[]) => cli(['tx', 'send', '--api', url, '--to', B, '--amount', '25', ...more])

describe('tx send', () => {
  it('prints a pending transfer with its id and says it may still be agreed (exit 0)', async () => {
    const node = await scriptedNode(() => ({ status: 202, body: view('pending') }))
    const run = await send(node.url)
    expect(run).toMatchObject({ code: ExitCode.OK, stderr: '' })
    expect(run.stdout).toMatch(new RegExp(`^transaction +${ID}$`, 'm'))
    expect(run.stdout).toMatch(/^status +pending$/m)
    expect(run.stdout).toContain(`no answer from the counterparty yet: it may still be agreed; follow it with \`constellation tx status ${ID}\``)
    const json = await send(node.url, '--json')
    expect(JSON.parse(json.stdout)).toMatchObject({ id: ID, status: 'pending', agreement: null })
  })

  it('follows a pending transfer with --wait-final until it is agreed, then final', async () => {
    const statuses = ['pending', 'agreed', 'final']
    const node = await scriptedNode((seen, n) =>
      seen.method === 'POST' ? { status: 202, body: view('pending') } : { status: 200, body: view(statuses[Math.min(n, statuses.length - 1)] as string) },
    )
    const run = await send(node.url, '--wait-final', '--timeout', '10')
    expect(run).toMatchObject({ code: ExitCode.OK, stderr: '' })
    expect(run.stdout).toMatch(/^status +final$/m)
    expect(run.stdout).toMatch(/^final +480 ms after submission \(round 12\)$/m)
    expect(node.seen.filter((seen) => seen.method === 'GET').map((seen) => seen.path)).toEqual(statuses.map(() => `/v1/transactions/${ID}`))
  })

  it('fails with REFUSED, naming the transaction, when the counterparty refuses it at once or while --wait-final follows it', async () => {
    const message = 'the counterparty refused the transfer (PROPOSAL_REJECTED: policy); its proposal was voided, nothing moved'
    const atOnce = await scriptedNode(() => ({ status: 422, body: { error: { code: 'REFUSED', message, transaction: view('refused', { refusal }) } } }))
    const refused = await send(atOnce.url)
    expect(refused).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
    expect(refused.stderr).toBe(`error REFUSED: ${message} (transaction ${ID})\n`)

    const later = await scriptedNode((seen) =>
      seen.method === 'POST' ? { status: 202, body: view('pending') } : { status: 200, body: view('refused', { refusal }) },
    )
    const waited = await send(later.url, '--wait-final', '--timeout', '10')
    expect(waited).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
    expect(waited.stderr).toBe(
      `error REFUSED: transaction ${ID} was refused by the counterparty (PROPOSAL_REJECTED: policy) and its proposal voided: nothing moved; it will never be final\n`,
    )
  })

  it('reports BUSY with the wait the node asked for, and INSUFFICIENT_FUNDS and KEY_CONFLICT as the node words them', async () => {
    const busy = await scriptedNode(() => ({
      status: 429,
      headers: { 'retry-after': '3' },
      body: { error: { code: 'BUSY', message: '64 transfers are waiting for answers; nothing was signed' } },
    }))
    expect(await send(busy.url)).toEqual({
      code: ExitCode.FAILURE,
      stdout: '',
      stderr: 'error BUSY: 64 transfers are waiting for answers; nothing was signed (retry after 3 s)\n',
    })
    const poor = await scriptedNode(() => ({
      status: 422,
      body: { error: { code: 'INSUFFICIENT_FUNDS', message: 'the transfer would spend 25, 10 may be spent now' } },
    }))
    expect(await send(poor.url)).toEqual({
      code: ExitCode.FAILURE,
      stdout: '',
      stderr: 'error INSUFFICIENT_FUNDS: the transfer would spend 25, 10 may be spent now\n',
    })
    const conflict = await scriptedNode(() => ({
      status: 409,
      body: { error: { code: 'KEY_CONFLICT', message: `the idempotency key was used for another transfer (${ID})` } },
    }))
    expect((await send(conflict.url, '--idempotency-key', 'k-1')).stderr).toBe(
      `error KEY_CONFLICT: the idempotency key was used for another transfer (${ID})\n`,
    )
  })

  it('sends --idempotency-key as the Idempotency-Key header, and none without it', async () => {
    const node = await scriptedNode(() => ({ status: 201, body: view('agreed') }))
    const keyed = await send(node.url, '--idempotency-key', 'invoice-1042')
    expect(keyed).toMatchObject({ code: ExitCode.OK, stderr: '' })
    expect(keyed.stdout).toMatch(/^status +agreed$/m)
    await send(node.url)
    expect(node.seen.map((seen) => seen.headers['idempotency-key'])).toEqual(['invoice-1042', undefined])
    expect(node.seen.map((seen) => seen.body)).toEqual([
      { to: B, amount: 25 },
      { to: B, amount: 25 },
    ])
  })

  it('says to send again with the same key when the answer was lost', async () => {
    const node = await scriptedNode(() => 'hang')
    const run = await send(node.url, '--idempotency-key', 'invoice-1042', '--timeout', '0.2')
    expect(run.code).toBe(ExitCode.FAILURE)
    expect(run.stderr).toMatch(
      /^error UNAVAILABLE: POST \/v1\/transactions: no answer from http:\/\/127\.0\.0\.1:\d+ within 0\.2 s; the transfer may or may not have been made: send again with the same --idempotency-key to find out without paying twice\n$/,
    )
  })
})

describe('tx status', () => {
  it("shows which side the node is on: an outgoing transaction's proposer, an incoming one's counterparty, or neither", async () => {
    const [incoming, neither] = ['ce'.repeat(32), 'cf'.repeat(32)]
    const node = await scriptedNode((seen) => ({
      status: 200,
      body: seen.path.endsWith(incoming)
        ? view('agreed', { id: incoming, role: 'counterparty' })
        : seen.path.endsWith(neither)
          ? view('proposed', { id: neither })
          : view('agreed', { role: 'proposer' }),
    }))
    const status = async (id: string, ...more: string[]) => (await cli(['tx', 'status', id, '--api', node.url, ...more])).stdout
    expect(await status(ID)).toMatch(/^this node +proposer \(outgoing\)$/m)
    expect(await status(incoming)).toMatch(/^this node +counterparty \(incoming\)$/m)
    expect(await status(neither)).not.toMatch(/^this node/m)
    expect(JSON.parse(await status(incoming, '--json'))).toMatchObject({ id: incoming, role: 'counterparty' })
  })

  it('shows a refused transaction with its reason and void, and refuses to fetch a proof it cannot have', async () => {
    const node = await scriptedNode(() => ({ status: 200, body: view('refused', { refusal }) }))
    const run = await cli(['tx', 'status', ID, '--api', node.url])
    expect(run).toMatchObject({ code: ExitCode.OK, stderr: '' })
    expect(run.stdout).toMatch(/^status +refused$/m)
    expect(run.stdout).toMatch(/^amount +25 \(not moved\)$/m)
    expect(run.stdout).toMatch(/^refused +PROPOSAL_REJECTED: policy$/m)
    expect(run.stdout).toMatch(new RegExp(`^void +block #8 ${'9a'.repeat(32)} returned the amount: nothing moved, it will never be final$`, 'm'))
    const proof = await cli(['tx', 'status', ID, '--api', node.url, '--proof'])
    expect(proof).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
    expect(proof.stderr).toMatch(/^error REFUSED: transaction [0-9a-f]{64} was refused .*; a refused transaction has no agreement proof\n$/)
    expect(node.seen.some((seen) => seen.path.endsWith('/proof'))).toBe(false)
  })

  it("shows a final transaction's proof: the round that finalised it and the transfer's place in it", async () => {
    const summary = { proposal: half(A, 7, ID), agreement: half(B, 4, 'ef'.repeat(32)), round: 12, group: 'pair', leaf: 2, finalised: 5, signatures: 3 }
    const node = await scriptedNode((seen) =>
      seen.path.endsWith('/proof') ? { status: 200, body: { id: ID, bytes: 1_400, proof: '00', summary } } : { status: 200, body: view('final') },
    )
    const run = await cli(['tx', 'status', ID, '--api', node.url, '--proof'])
    expect(run).toMatchObject({ code: ExitCode.OK, stderr: '' })
    expect(run.stdout).toMatch(/^proof +1400 bytes \(--json for the bytes in hex\)$/m)
    expect(run.stdout).toMatch(new RegExp(`^proposal +#7 of ${A.slice(0, 16)}… ${ID}$`, 'm'))
    expect(run.stdout).toMatch(/^certificate +round 12 of pair, which finalised it: 3 signatures$/m)
    expect(run.stdout).toMatch(/^merkle path +transfer 3 of the 5 that round 12 finalised$/m)
    const json = JSON.parse((await cli(['tx', 'status', ID, '--api', node.url, '--proof', '--json'])).stdout) as { proof: { summary: unknown } }
    expect(json.proof.summary).toEqual(summary)
  })

  it('shows a rooted proof: the root round that commits it; --rooted asks for it and goes with --proof', async () => {
    const summary = { proposal: half(A, 7, ID), agreement: half(B, 4, 'ef'.repeat(32)), round: 12, group: 'sol-0', leaf: 0, finalised: 1, signatures: 3 }
    const node = await scriptedNode((seen) =>
      seen.path.includes('/proof')
        ? { status: 200, body: { id: ID, bytes: 900, proof: '00', summary, paths: ['01'], root: { level: 1, group: 'cluster', round: 9 } } }
        : { status: 200, body: view('final') },
    )
    const run = await cli(['tx', 'status', ID, '--api', node.url, '--proof', '--rooted'])
    expect(run).toMatchObject({ code: ExitCode.OK, stderr: '' })
    expect(run.stdout).toMatch(/^rooted +committed by round 9 of cluster \(level 1\), the root$/m)
    expect(node.seen.find((seen) => seen.path.includes('/proof'))?.path).toBe(`/v1/transactions/${ID}/proof?rooted=true`)
    const alone = await cli(['tx', 'status', ID, '--api', node.url, '--rooted'])
    expect(alone).toMatchObject({ code: ExitCode.USAGE, stdout: '' })
    expect(alone.stderr).toMatch(/--rooted goes with --proof/)
  })
})
