/**
 * The CLI's side of the HTTP API: JSON in, JSON out, every answer decoded with a codec; a request may carry headers
 * of its own (`Idempotency-Key`). The API's own errors (`{ "error": { "code", "message", … } }`) become an
 * `ApiCallError` carrying the node's code, the error object's other fields (a refused transfer's `transaction`) and
 * the `Retry-After` of a BUSY answer; the CLI prints it as `error CODE: message`. A node that cannot be reached is a
 * `NodeError` UNAVAILABLE. Requests that change state carry the node's API token (`Authorization: Bearer`) when the
 * client has one; a 401 says where the token should have come from.
 */
import { CodedError } from '@constellation/interface'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ApiErrorBodyCodec } from '../api/error-body.js'
import { describeErrors } from '../config/codecs.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { ENVIRONMENT } from './load-config.js'

/** An error the node answered with. */
/** `detail` holds the error object's fields beside `code` and `message` (a REFUSED transfer's `transaction`). */
export class ApiCallError extends CodedError<string> {
  override readonly name = 'ApiCallError'
  constructor(
    code: string,
    message: string,
    readonly status: number,
    detail: Readonly<Record<string, unknown>> = {},
    /** Seconds the node asked the client to wait (`Retry-After`), when it did. */
    readonly retryAfterS?: number,
  ) {
    super(code, message, detail)
  }
}

export interface RequestOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number
  /** Headers sent beside `accept` and `content-type` (which they cannot replace). */
  readonly headers?: Readonly<Record<string, string>>
}

/** `Retry-After` in seconds, when it is a whole number of them (the API's form; an HTTP date is not used). */
function retryAfterOf(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined
  return Number(value.trim())
}

/** Largest answer the CLI reads (a chain range or a proof is far smaller). */
const MAX_RESPONSE_BYTES = 16 << 20
const REQUEST_TIMEOUT_MS = 30_000

export const ApiUrlCodec = t.refinement(
  t.string,
  (s) => {
    try {
      const url = new URL(s)
      return url.protocol === 'http:' || url.protocol === 'https:'
    } catch {
      return false
    }
  },
  'HttpUrl',
)

export interface ApiClientOptions {
  /** The node's API token, sent with every request but GETs (see api/api-token.ts). */
  readonly token?: string
  /** Why there is no token (the cookie file could not be read), added to a 401's message. */
  readonly tokenProblem?: string
}

export class ApiClient {
  readonly baseUrl: string
  readonly #options: ApiClientOptions
  constructor(baseUrl: string, options: ApiClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#options = options
  }

  get<A>(path: string, codec: t.Decoder<unknown, A>, options: RequestOptions = {}): Promise<A> {
    return this.request('GET', path, codec, undefined, options)
  }

  post<A>(path: string, body: unknown, codec: t.Decoder<unknown, A>, options: RequestOptions = {}): Promise<A> {
    return this.request('POST', path, codec, body, options)
  }

  private async request<A>(method: string, path: string, codec: t.Decoder<unknown, A>, body: unknown, options: RequestOptions): Promise<A> {
    const url = `${this.baseUrl}${path}`
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...options.headers,
          ...(method !== 'GET' && this.#options.token !== undefined && { authorization: `Bearer ${this.#options.token}` }),
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') {
        throw new NodeError(
          NodeErrorCode.UNAVAILABLE,
          `${method} ${path}: no answer from ${this.baseUrl} within ${timeoutMs / 1000} s`,
          { url },
          { cause: error },
        )
      }
      // fetch fails with a TypeError whose cause is the socket's error (ECONNREFUSED) or the refusal's reason.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      const reason = cause?.code ?? cause?.message ?? (error as Error).message
      throw new NodeError(NodeErrorCode.UNAVAILABLE, `cannot reach the node at ${this.baseUrl} (${reason}): is it running?`, { url }, { cause: error })
    }
    const declared = Number(response.headers.get('content-length') ?? 0)
    if (declared > MAX_RESPONSE_BYTES) {
      await response.body?.cancel()
      throw new NodeError(NodeErrorCode.UNAVAILABLE, `${method} ${url} answered ${declared} bytes, more than the ${MAX_RESPONSE_BYTES} the CLI reads`)
    }
    const text = await response.text()
    if (text.length > MAX_RESPONSE_BYTES)
      throw new NodeError(NodeErrorCode.UNAVAILABLE, `${method} ${url} answered more than the ${MAX_RESPONSE_BYTES} bytes the CLI reads`)
    let json: unknown
    try {
      json = text === '' ? undefined : (JSON.parse(text) as unknown)
    } catch {
      throw new NodeError(NodeErrorCode.UNAVAILABLE, `${method} ${url} answered ${response.status} with a body that is not JSON`)
    }
    if (!response.ok) {
      const error = ApiErrorBodyCodec.decode(json)
      if (isLeft(error)) throw new ApiCallError(`HTTP_${response.status}`, `${method} ${path}: ${response.statusText || 'failed'}`, response.status)
      const { code, message, ...details } = error.right.error as { code: string; message: string } & Record<string, unknown>
      if (response.status === 401) throw new ApiCallError(code, `${message}; ${this.#tokenHint()}`, response.status, details)
      throw new ApiCallError(code, message, response.status, details, retryAfterOf(response.headers.get('retry-after')))
    }
    const decoded = codec.decode(json)
    if (isLeft(decoded)) throw new NodeError(NodeErrorCode.UNAVAILABLE, `unexpected answer to ${method} ${path}: ${describeErrors(decoded.left)}`)
    return decoded.right
  }

  #tokenHint(): string {
    if (this.#options.tokenProblem !== undefined) return this.#options.tokenProblem
    if (this.#options.token !== undefined) return 'the token sent was refused (the node makes a new one at each start unless api.token fixes it)'
    return `no token was sent: pass --data-dir of the node (as its owner), or --api-token, or set ${ENVIRONMENT.apiToken}`
  }
}
