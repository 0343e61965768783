/**
 * The node's HTTP JSON API as a node module: `apiModule()` starts a `node:http` server on `config.api.host:port`
 * (port 0: the OS picks one) once the core is up, and closes it before the core. The server owns what every route
 * shares — finding the route, refusing requests while the node closes, the JSON content type, the body size limit
 * (it stops reading at `api.maxBodyBytes`), JSON parsing, error bodies and request metrics — so a route only decodes
 * its inputs and does its work (see router.ts). Routes of other modules (contracts) come in through `routes`.
 * Requests that may change state (any method but GET) must carry the node's API token (see api-token.ts): the server
 * writes it to the data dir's cookie file before it listens and removes the file when it closes. A client gets
 * `api.headersTimeoutMs` to send its headers and `api.requestTimeoutMs` for the whole request (then 408 and the
 * connection is closed), a kept-alive connection is closed after `api.idleTimeoutMs` without a request, and one
 * address may hold `api.maxConnectionsPerClient` connections at once (one more is answered 429 and closed).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Readable } from 'node:stream'
import { type ApiConfig, dataPaths } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { errorFields } from '../log/logger.js'
import type { FullNode, NodeModule } from '../node/full-node.js'
import { ApiError, ApiErrorCode, toApiError } from './api-error.js'
import { bearerTokenOf, createApiToken, removeApiCookie, tokenMatches, writeApiCookie } from './api-token.js'
import { ClientConnections } from './client-connections.js'
import { firstDuplicateKey } from './duplicate-keys.js'
import { strictQuery } from './request-input.js'
import { isAllowedHost } from './host-check.js'
import { nodeRoutes } from './routes/node-routes.js'
import { isRawResponse, type Route, type RouteResponse, Router, type RouteSource } from './router.js'

export interface ApiModuleOptions {
  /** Routes of other modules, served beside the node's own (a path and method may be served once only). */
  readonly routes?: RouteSource
}

export interface ApiModule extends NodeModule {
  /** `http://host:port` the API listens on. */
  readonly url: string
  readonly router: Router
}

/** How long a client that is still sending a refused body may keep its connection. */
const REFUSED_BODY_GRACE_MS = 1_000

/** The API as a module factory for `createNode(config, { modules: [apiModule()] })`. */
export function apiModule(options: ApiModuleOptions = {}): (node: FullNode) => Promise<ApiModule> {
  return async (node) => {
    const extra: readonly Route[] = typeof options.routes === 'function' ? options.routes(node) : (options.routes ?? [])
    const router = new Router([...nodeRoutes(), ...extra])
    const api = new ApiServer(node, router)
    await api.listen()
    return api
  }
}

class ApiServer implements ApiModule {
  readonly router: Router
  readonly #node: FullNode
  readonly #server: Server
  readonly #log: FullNode['logger']
  /** Aborted when the module closes: requests under way answer 503 at once instead of holding the close up. */
  readonly #closing = new AbortController()
  readonly #inFlight = new Set<Promise<void>>()
  /** Signals of the requests under way, aborted together when the node or the API closes. */
  readonly #requestSignals = new Set<AbortController>()
  /** The token requests that change state must carry (`api.token`, or a new random one). */
  readonly #token: string
  readonly #cookiePath: string
  readonly #connections: ClientConnections
  /** Connections refused at the limit: a request that still arrives on one is not served. */
  readonly #refused = new WeakSet<Socket>()
  #url = ''

  constructor(node: FullNode, router: Router) {
    this.#node = node
    this.#token = node.config.api.token ?? createApiToken()
    this.#cookiePath = dataPaths(node.config.dataDir).apiCookie
    this.router = router
    this.#log = node.logger.child({ module: 'api' })
    // One listener on the node's signal for all requests (not one per request on a signal that lives for days).
    node.signal.addEventListener('abort', () => this.#abortRequests(), { once: true })
    const limits = node.config.api
    if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
      throw new NodeError(
        NodeErrorCode.INVALID_CONFIG,
        `api.headersTimeoutMs (${limits.headersTimeoutMs}) must not be longer than api.requestTimeoutMs (${limits.requestTimeoutMs})`,
      )
    }
    this.#connections = new ClientConnections(limits.maxConnectionsPerClient)
    this.#server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.idleTimeoutMs,
        connectionsCheckingInterval: checkingIntervalOf(limits),
      },
      (request, response) => {
        if (this.#refused.has(request.socket)) return void request.socket.destroy()
        const served = this.#serve(request, response)
        this.#inFlight.add(served)
        void served.finally(() => this.#inFlight.delete(served))
      },
    )
    this.#server.keepAliveTimeout = limits.idleTimeoutMs
    this.#server.on('connection', (socket: Socket) => this.#admit(socket))
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.#answerClientError(error, socket))
  }

  get url(): string {
    return this.#url
  }

  describe(): Record<string, unknown> {
    return { api: this.#url }
  }

  async listen(): Promise<void> {
    const { host, port } = this.#node.config.api
    // Written before the port opens, so a client that finds the API finds its token too.
    await writeApiCookie(this.#cookiePath, this.#token)
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          reject(
            new NodeError(NodeErrorCode.INVALID_CONFIG, `the HTTP API cannot listen on ${host}:${port}: ${error.code ?? error.message}`, {}, { cause: error }),
          )
        }
        this.#server.once('error', onError)
        this.#server.listen(port, host, () => {
          this.#server.off('error', onError)
          resolve()
        })
      })
    } catch (error) {
      await removeApiCookie(this.#cookiePath)
      throw error
    }
    const address = this.#server.address() as AddressInfo
    this.#url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
    this.#server.on('error', (error) => this.#log.error(errorFields(error), 'HTTP server error'))
    this.#log.info({ url: this.#url }, 'HTTP API listening')
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return
    this.#closing.abort()
    this.#abortRequests()
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#server.closeIdleConnections()
    // Reads under way answer 503 as soon as `#closing` aborts, requests that may change state once their handler
    // is done; then no socket has anything left to say.
    await Promise.allSettled([...this.#inFlight])
    this.#server.closeAllConnections()
    await closed
    await removeApiCookie(this.#cookiePath)
  }

  /** A connection past the limit of its address: answered 429 (before it sends anything) and closed. */
  #admit(socket: Socket): void {
    if (this.#connections.admit(socket)) return
    this.#refused.add(socket)
    this.#node.metrics.httpRequests.inc({ route: 'connection limit', status: 429 })
    const refusal = new ApiError(
      ApiErrorCode.TOO_MANY_CONNECTIONS,
      `this client already holds ${this.#connections.maxPerClient} connections to the node (api.maxConnectionsPerClient): reuse one (keep-alive) or close one`,
      {},
      { headers: { 'retry-after': '1' } },
    )
    socket.end(rawAnswer(refusal))
    setTimeout(() => socket.destroy(), REFUSED_BODY_GRACE_MS).unref()
  }

  /**
   * A request Node's parser gave up on — too slow (the timeouts), headers too large, not HTTP — answered in the API's
   * error format when nothing of a response was sent yet on that connection, and the connection closed.
   */
  #answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    const { headersTimeoutMs, requestTimeoutMs } = this.#node.config.api
    const answer =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError(
            ApiErrorCode.REQUEST_TIMEOUT,
            `the request did not arrive in time (headers within ${headersTimeoutMs} ms, the whole request within ${requestTimeoutMs} ms)`,
          )
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? new ApiError(ApiErrorCode.HEADERS_TOO_LARGE, 'the request headers are larger than the node reads')
          : new ApiError(ApiErrorCode.INVALID_REQUEST, `not a valid HTTP request (${error.code ?? error.message})`)
    // Node's own rule: an answer only where no response of this connection has started (it would corrupt it).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
    if (error.code !== 'ECONNRESET' && socket.writable && (inFlight === undefined || inFlight === null || !inFlight.headersSent))
      socket.write(rawAnswer(answer))
    socket.destroy()
  }

  /** Refuses a request that may change state unless it carries the node's token (401 with `WWW-Authenticate`). */
  #authorize(method: string, path: string, header: string | undefined): void {
    const presented = bearerTokenOf(header)
    if (presented !== undefined && tokenMatches(presented, this.#token)) return
    const challenge = `Bearer realm="constellation"${presented === undefined ? '' : ', error="invalid_token"'}`
    const message =
      presented === undefined
        ? `${method} ${path} changes the node's state: send Authorization: Bearer <token> (the node writes its token to api.cookie in its data dir, readable by its owner only)`
        : `${method} ${path}: the API token is not this node's (a node makes a new one at each start unless api.token fixes it)`
    throw new ApiError(ApiErrorCode.UNAUTHORIZED, message, {}, { headers: { 'www-authenticate': challenge } })
  }

  #abortRequests(): void {
    for (const controller of this.#requestSignals) controller.abort()
    this.#requestSignals.clear()
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let routeLabel = 'unmatched'
    response.once('finish', () => this.#node.metrics.httpRequests.inc({ route: routeLabel, status: response.statusCode }))
    try {
      const method = request.method ?? 'GET'
      if (!isAllowedHost(request.headers.host, this.#node.config.api.allowedHosts)) {
        throw new ApiError(
          ApiErrorCode.MISDIRECTED,
          `this node does not answer for host ${JSON.stringify(request.headers.host)} (add it to api.allowedHosts to serve it)`,
        )
      }
      const url = requestUrl(request)
      const match = this.router.match(method, url.pathname)
      if (match.kind === 'not-found') throw new ApiError(ApiErrorCode.NOT_FOUND, `no route for ${method} ${url.pathname}`)
      if (match.kind === 'method-not-allowed') {
        response.setHeader('allow', match.allowed.join(', '))
        throw new ApiError(ApiErrorCode.METHOD_NOT_ALLOWED, `${method} is not allowed on ${url.pathname} (allowed: ${match.allowed.join(', ')})`)
      }
      const reading = method === 'GET' || method === 'HEAD'
      routeLabel = `${method === 'HEAD' ? method : match.route.method} ${match.route.path}`
      // Before the body is read: a client without the token gets nothing from the node but this answer.
      if (!reading) this.#authorize(method, url.pathname, request.headers.authorization)
      // One rule on every route: a query parameter the route does not read, or one given twice, is refused.
      strictQuery(match.route.query ?? {}, url.searchParams)
      if (this.#closing.signal.aborted || this.#node.signal.aborted) throw new ApiError(ApiErrorCode.UNAVAILABLE, 'the node is closing')
      // A body still arriving when the node closes must not hold the close up either.
      const body =
        reading || method === 'DELETE' ? undefined : await untilClosing(readJsonBody(request, this.#node.config.api.maxBodyBytes), this.#closing.signal)
      const controller = new AbortController()
      this.#requestSignals.add(controller)
      response.once('close', () => {
        this.#requestSignals.delete(controller)
        controller.abort()
      })
      const { signal } = controller
      const handled = Promise.resolve().then(() =>
        match.route.handler({ params: match.params, query: url.searchParams, path: url.pathname, headers: request.headers, body, node: this.#node, signal }),
      )
      // A read gives way to a closing node (503). A request that may change state is answered with what it did even
      // when the node starts closing meanwhile: a transfer signed by then answered 503 would be an error answer for
      // value that moved. Its handler is bounded by the node's own waits (a transfer answers pending after
      // ANSWER_TIMEOUT_MS), and close() waits for requests under way.
      const outcome = method === 'GET' || method === 'HEAD' ? await untilClosing(handled, this.#closing.signal) : await handled
      await send(response, outcome, method === 'HEAD')
    } catch (error) {
      const apiError = toApiError(error)
      if (apiError.code === ApiErrorCode.INTERNAL) {
        // The error itself, so pino's serializer keeps its type and stack: a 500 is a bug to be found.
        this.#log.error({ err: apiError.cause ?? error, route: routeLabel }, 'API request failed')
      }
      sendError(request, response, apiError, this.#closing.signal.aborted)
    }
    // Settled only once the answer is handed to the socket: `close()` cuts the connections after that, not before.
    if (!response.writableFinished && !response.destroyed) {
      await new Promise((resolve) => {
        response.once('finish', resolve)
        response.once('close', resolve)
      })
    }
  }
}

/**
 * How often Node checks its connections against the header and request timeouts (it checks every 30 s by default,
 * which would let a 1 s timeout run to 30 s): a tenth of the shorter one, at least 50 ms and at most 1 s.
 */
function checkingIntervalOf(limits: Pick<ApiConfig, 'headersTimeoutMs' | 'requestTimeoutMs'>): number {
  return Math.min(1_000, Math.max(50, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)))
}

/** An error answer written straight to a socket (no request object exists yet, or it is past saving), then closed. */
function rawAnswer(error: ApiError): string {
  const text = JSON.stringify(error.toJSON())
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    connection: 'close',
    ...error.headers,
  }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n${lines.join('')}\r\n${text}`
}

function requestUrl(request: IncomingMessage): URL {
  try {
    // The base is never shown: only the path and query of the request are used.
    return new URL(request.url ?? '/', 'http://api.invalid')
  } catch {
    throw new ApiError(ApiErrorCode.INVALID_REQUEST, 'the request target is not a valid URL')
  }
}

/** The outcome of `handled`, or 503 as soon as the API closes (the late outcome is dropped). */
function untilClosing<T>(handled: Promise<T>, closing: AbortSignal): Promise<T> {
  handled.catch(() => undefined)
  if (closing.aborted) return Promise.reject(new ApiError(ApiErrorCode.UNAVAILABLE, 'the node is closing'))
  return new Promise((resolve, reject) => {
    const onClose = () => reject(new ApiError(ApiErrorCode.UNAVAILABLE, 'the node is closing'))
    closing.addEventListener('abort', onClose, { once: true })
    handled.then(resolve, reject).finally(() => closing.removeEventListener('abort', onClose))
  })
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false
  const type = value.split(';', 1)[0]?.trim().toLowerCase()
  return type === 'application/json' || (type !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(type))
}

/**
 * The JSON body of a POST or PUT, `undefined` when there is none. A body must be declared JSON (415 otherwise); a
 * declared length over the limit is refused before reading, and a body that grows past it stops being read (413); a
 * key given twice in one object is refused (400).
 */
async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const contentType = request.headers['content-type']
  const declared = request.headers['content-length']
  const hasBody = declared === undefined ? request.headers['transfer-encoding'] !== undefined : declared !== '0'
  if (!hasBody && contentType === undefined) return undefined
  if (!isJsonContentType(contentType)) {
    throw new ApiError(
      ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `the body must be application/json, got ${contentType === undefined ? 'no content type' : JSON.stringify(contentType)}`,
    )
  }
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes)
  const bytes = await readUpTo(request, maxBytes)
  if (bytes.length === 0) return undefined
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new ApiError(ApiErrorCode.INVALID_REQUEST, 'the body is not valid UTF-8')
  }
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch (error) {
    throw new ApiError(ApiErrorCode.INVALID_REQUEST, `the body is not valid JSON: ${(error as Error).message}`)
  }
  // JSON.parse keeps the last of two equal keys: a body that says two things is refused rather than read one way.
  const duplicate = firstDuplicateKey(text)
  if (duplicate !== undefined) {
    throw new ApiError(
      ApiErrorCode.INVALID_REQUEST,
      `invalid body: the key ${JSON.stringify(duplicate.key)} is given twice in ${duplicate.path === '' ? 'the body' : duplicate.path}`,
    )
  }
  return value
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(ApiErrorCode.PAYLOAD_TOO_LARGE, `the body is larger than the ${maxBytes} bytes allowed`)
}

function readUpTo(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = () => {
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('error', onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        cleanup()
        request.pause()
        chunks.length = 0
        reject(tooLarge(maxBytes))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error) => {
      cleanup()
      reject(new ApiError(ApiErrorCode.INVALID_REQUEST, `the body could not be read: ${error.message}`))
    }
    request.on('data', onData)
    request.once('end', onEnd)
    request.once('error', onError)
  })
}

/** Sends a route's answer; to a HEAD request the same status and headers (the length included), without the body. */
async function send(response: ServerResponse, result: RouteResponse, head: boolean): Promise<void> {
  response.setHeader('cache-control', 'no-store')
  if (!isRawResponse(result)) {
    const text = JSON.stringify(result.body)
    response.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
    response.end(head ? undefined : text)
    return
  }
  if (!(result.raw instanceof Readable)) {
    // A 304 has no body of its own: a length there would be taken for the cached representation's.
    const length = result.status === 304 ? {} : { 'content-length': Buffer.byteLength(result.raw) }
    response.writeHead(result.status, { 'content-type': result.contentType, ...length, ...result.headers })
    response.end(head ? undefined : result.raw)
    return
  }
  response.writeHead(result.status, { 'content-type': result.contentType, ...result.headers })
  const stream = result.raw
  // A client that went away before the answer was ready will not close again, and a HEAD request wants no body: end
  // the stream and settle now.
  if (head) response.end()
  if (response.destroyed || head) {
    stream.destroy()
    return
  }
  await new Promise<void>((resolve) => {
    // A stream that fails half-way cannot change its status any more: the connection is cut so the client sees it.
    stream.once('error', () => {
      response.destroy()
      resolve()
    })
    response.once('close', () => {
      stream.destroy()
      resolve()
    })
    stream.pipe(response)
  })
}

function sendError(request: IncomingMessage, response: ServerResponse, error: ApiError, closing: boolean): void {
  if (response.headersSent) {
    response.destroy()
    return
  }
  const text = JSON.stringify(error.toJSON())
  // A refused body is not read to its end: the connection cannot carry another request after it.
  const dropConnection = closing || error.code === ApiErrorCode.PAYLOAD_TOO_LARGE || !request.complete
  response.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...error.headers,
    ...(dropConnection ? { connection: 'close' } : {}),
  })
  response.end(text)
  if (dropConnection && !request.complete) {
    setTimeout(() => request.socket.destroy(), REFUSED_BODY_GRACE_MS).unref()
  }
}
