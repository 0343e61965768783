/** The API's router and error mapping on their own: no sockets, no nodes. */
import { ConsensusError, ConsensusErrorCode } from '@constellation/consensus'
import { TrustChainError, TrustChainErrorCode } from '@constellation/trustchain'
import { describe, expect, it } from 'vitest'
import { ApiError, ApiErrorCode, IntegerFromString, type Route, Router, toApiError } from '../src/api/index.js'
import { NodeError, NodeErrorCode } from '../src/errors.js'

const route = (method: Route['method'], path: string): Route => ({ method, path, handler: () => ({ status: 200, body: path }) })

describe('Router', () => {
  const router = new Router([
    route('GET', '/v1/transactions'),
    route('POST', '/v1/transactions'),
    route('GET', '/v1/transactions/:id'),
    route('GET', '/v1/transactions/recent'),
    route('GET', '/v1/transactions/:id/proof'),
  ])

  it('matches literal paths and captures parameters, percent-decoded', () => {
    expect(router.match('POST', '/v1/transactions')).toMatchObject({ kind: 'found', route: { method: 'POST', path: '/v1/transactions' }, params: {} })
    expect(router.match('GET', '/v1/transactions/ab%20cd/proof')).toMatchObject({
      kind: 'found',
      route: { path: '/v1/transactions/:id/proof' },
      params: { id: 'ab cd' },
    })
    // Trailing and doubled slashes do not make another path.
    expect(router.match('GET', '/v1//transactions/')).toMatchObject({ kind: 'found', route: { path: '/v1/transactions' } })
  })

  it('prefers a literal segment over a parameter, whatever the order of the routes', () => {
    expect(router.match('GET', '/v1/transactions/recent')).toMatchObject({ kind: 'found', route: { path: '/v1/transactions/recent' }, params: {} })
    expect(router.match('GET', '/v1/transactions/other')).toMatchObject({ kind: 'found', route: { path: '/v1/transactions/:id' }, params: { id: 'other' } })
  })

  it('tells an unknown path from a known path with another method', () => {
    expect(router.match('GET', '/v1/nothing')).toEqual({ kind: 'not-found' })
    expect(router.match('GET', '/v1/transactions/a/b/c')).toEqual({ kind: 'not-found' })
    expect(router.match('DELETE', '/v1/transactions')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'HEAD', 'POST'] })
    expect(router.match('HEAD', '/v1/transactions/:id/x')).toEqual({ kind: 'not-found' })
  })

  it('answers HEAD with the GET route wherever there is one, and lists HEAD as allowed beside GET', () => {
    expect(router.match('HEAD', '/v1/transactions/ab/proof')).toMatchObject({
      kind: 'found',
      route: { method: 'GET', path: '/v1/transactions/:id/proof' },
      params: { id: 'ab' },
    })
    const postOnly = new Router([route('POST', '/v1/blocks')])
    expect(postOnly.match('HEAD', '/v1/blocks')).toEqual({ kind: 'method-not-allowed', allowed: ['POST'] })
  })

  it('refuses bad percent-encoding in a parameter as a bad request', () => {
    expect(() => router.match('GET', '/v1/transactions/%E0%A4%A')).toThrow(expect.objectContaining({ code: ApiErrorCode.INVALID_REQUEST }))
  })

  it('refuses two routes that match the same requests, and malformed parameter names', () => {
    expect(() => new Router([route('GET', '/v1/x/:a'), route('GET', '/v1/x/:b')])).toThrow(/two routes/)
    expect(() => new Router([route('GET', '/v1/x/:a'), route('POST', '/v1/x/:b')])).not.toThrow()
    expect(() => new Router([route('GET', '/v1/x/:1a')])).toThrow(/bad parameter/)
  })
})

describe('IntegerFromString', () => {
  it('reads decimal integers strictly', () => {
    expect(IntegerFromString.decode('42')).toEqual({ _tag: 'Right', right: 42 })
    expect(IntegerFromString.decode('-7')).toEqual({ _tag: 'Right', right: -7 })
    for (const bad of ['', '4.2', '1e3', '0x10', ' 1', '12abc', '99999999999999999', 42]) expect(IntegerFromString.decode(bad)._tag).toBe('Left')
  })
})

describe('toApiError', () => {
  it('maps the typed errors of the node and the packages to deliberate statuses', () => {
    const cases: [unknown, number, ApiErrorCode][] = [
      [new ApiError(ApiErrorCode.NOT_FINAL, 'x'), 409, ApiErrorCode.NOT_FINAL],
      [new NodeError(NodeErrorCode.NODE_CLOSED, 'x'), 503, ApiErrorCode.UNAVAILABLE],
      [new NodeError(NodeErrorCode.INVALID_REQUEST, 'x'), 400, ApiErrorCode.INVALID_REQUEST],
      [new NodeError(NodeErrorCode.NOT_FOUND, 'x'), 404, ApiErrorCode.NOT_FOUND],
      [new NodeError(NodeErrorCode.PAYLOAD_TOO_LARGE, 'x'), 413, ApiErrorCode.PAYLOAD_TOO_LARGE],
      [new NodeError(NodeErrorCode.INVALID_CONFIG, 'x'), 500, ApiErrorCode.INTERNAL],
      [new TrustChainError(TrustChainErrorCode.INVALID_BLOCK, 'x'), 422, ApiErrorCode.REJECTED],
      [new TrustChainError(TrustChainErrorCode.PROPOSAL_REJECTED, 'x'), 422, ApiErrorCode.REJECTED],
      [new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'x'), 422, ApiErrorCode.REJECTED],
      [new TrustChainError(TrustChainErrorCode.MALFORMED_BLOCK, 'x'), 400, ApiErrorCode.INVALID_REQUEST],
      [new TrustChainError(TrustChainErrorCode.PROPOSAL_TIMEOUT, 'x'), 503, ApiErrorCode.UNAVAILABLE],
      [new TrustChainError(TrustChainErrorCode.STORE_CORRUPT, 'x'), 500, ApiErrorCode.INTERNAL],
      [new ConsensusError(ConsensusErrorCode.NOT_FINAL, 'x'), 409, ApiErrorCode.NOT_FINAL],
      [new ConsensusError(ConsensusErrorCode.STOPPED, 'x'), 503, ApiErrorCode.UNAVAILABLE],
      [new ConsensusError(ConsensusErrorCode.INVALID_CERTIFICATE, 'x'), 500, ApiErrorCode.INTERNAL],
      [new TypeError('a bug'), 500, ApiErrorCode.INTERNAL],
    ]
    for (const [error, status, code] of cases) {
      const mapped = toApiError(error)
      expect({ status: mapped.status, code: mapped.code }).toEqual({ status, code })
    }
  })

  it('never shows the message of an unexpected error to the client', () => {
    expect(toApiError(new Error('/secret/path is broken')).toJSON()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } })
  })
})
