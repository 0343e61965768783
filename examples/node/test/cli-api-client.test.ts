import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiCallError, ApiClient } from '../src/cli/api-client.js'
import { errorLine } from '../src/cli/report-error.js'
import { isNodeError, NodeErrorCode } from '../src/errors.js'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
  server = undefined
})

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<ApiClient> {
  server = createServer(handler)
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('ApiClient', () => {
  it('sends JSON and decodes the answer with the codec', async () => {
    const client = await serve((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () =>
        json(response, 201, { method: request.method, path: request.url, type: request.headers['content-type'], body: JSON.parse(body) as unknown }),
      )
    })
    const answer = await client.post('/v1/transactions', { to: 'x', amount: 1 }, t.type({ method: t.string, path: t.string, type: t.string, body: t.unknown }))
    expect(answer).toEqual({ method: 'POST', path: '/v1/transactions', type: 'application/json', body: { to: 'x', amount: 1 } })
  })

  it("turns the API's error body into an ApiCallError with the node's code", async () => {
    const client = await serve((_request, response) => json(response, 409, { error: { code: 'NOT_FINAL', message: 'not final yet' } }))
    const error = await rejection(client.get('/v1/transactions/ab/proof', t.unknown))
    expect(error).toBeInstanceOf(ApiCallError)
    expect(error).toMatchObject({ code: 'NOT_FINAL', message: 'not final yet', status: 409 })
  })

  it("sends a request's own headers, which cannot replace accept or content-type", async () => {
    const client = await serve((request, response) => {
      request.resume()
      request.on('end', () =>
        json(response, 201, { key: request.headers['idempotency-key'], accept: request.headers.accept, type: request.headers['content-type'] }),
      )
    })
    const codec = t.type({ key: t.string, accept: t.string, type: t.string })
    const headers = { 'idempotency-key': 'invoice-1042', accept: 'text/plain', 'content-type': 'text/plain' }
    expect(await client.post('/v1/transactions', { amount: 1 }, codec, { headers })).toEqual({
      key: 'invoice-1042',
      accept: 'application/json',
      type: 'application/json',
    })
  })

  it("keeps the error object's other fields and a BUSY answer's Retry-After", async () => {
    const refused = await serve((_request, response) =>
      json(response, 422, { error: { code: 'REFUSED', message: 'refused', transaction: { id: 'ab', status: 'refused' } } }),
    )
    expect(await rejection(refused.post('/v1/transactions', {}, t.unknown))).toMatchObject({
      code: 'REFUSED',
      status: 422,
      detail: { transaction: { id: 'ab', status: 'refused' } },
      retryAfterS: undefined,
    })
    server?.closeAllConnections()
    server?.close()
    const busy = await serve((_request, response) =>
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' }).end(JSON.stringify({ error: { code: 'BUSY', message: 'busy' } })),
    )
    const error = await rejection(busy.post('/v1/transactions', {}, t.unknown))
    expect(error).toMatchObject({ code: 'BUSY', status: 429, detail: {}, retryAfterS: 2 })
    expect(errorLine(error)).toBe('error BUSY: busy (retry after 2 s)\n')
  })

  it('names the status when an error answer is not the API error shape', async () => {
    const client = await serve((_request, response) => json(response, 502, { oops: true }))
    expect(await rejection(client.get('/x', t.unknown))).toMatchObject({ code: 'HTTP_502', status: 502 })
  })

  it('refuses an answer that does not decode, or is not JSON', async () => {
    const shapes = await serve((request, response) => (request.url === '/text' ? response.end('hello') : json(response, 200, { id: 5 })))
    const wrong = await rejection(shapes.get('/shape', t.type({ id: t.string })))
    expect(isNodeError(wrong, NodeErrorCode.UNAVAILABLE) && wrong.message).toBe('unexpected answer to GET /shape: id: expected string, got 5')
    const text = await rejection(shapes.get('/text', t.unknown))
    expect(isNodeError(text, NodeErrorCode.UNAVAILABLE) && text.message).toMatch(/answered 200 with a body that is not JSON$/)
  })

  it('gives up on a node that does not answer in time', async () => {
    const client = await serve(() => {})
    const error = await rejection(client.get('/v1/status', t.unknown, { timeoutMs: 50 }))
    expect(isNodeError(error, NodeErrorCode.UNAVAILABLE) && error.message).toMatch(
      /^GET \/v1\/status: no answer from http:\/\/127\.0\.0\.1:\d+ within 0\.05 s$/,
    )
  })
})
