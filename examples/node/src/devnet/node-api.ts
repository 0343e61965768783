/**
 * The devnet's view of a node's HTTP API: the few routes it drives and reads (submit a transfer, the status with
 * its transaction totals, a transaction, the Prometheus metrics), over one keep-alive agent per node so the
 * load generator does not pay a TCP handshake per transfer. Answers are decoded with codecs; an answer the devnet
 * cannot use is an error, never a guess. POSTs carry the node's API token (the devnet reads each node's cookie file).
 */
import { CodedError } from '@constellation/interface'
import { Agent, request } from 'node:http'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ApiErrorBodyCodec } from '../api/error-body.js'
import { describeErrors } from '../config/codecs.js'

/** Largest answer read (the metrics text is the largest). */
const MAX_RESPONSE_BYTES = 8 << 20

export const TransactionTotalsCodec = t.type({
  submitted: t.number,
  agreed: t.number,
  refused: t.number,
  pending: t.number,
  final: t.number,
  rejected: t.number,
  awaitingFinality: t.number,
})
export const NodeStatusCodec = t.type({
  id: t.string,
  /** The node's solar system, and the groups above it that it validates. */
  group: t.string,
  levels: t.array(t.type({ level: t.number, group: t.string, round: t.number })),
  round: t.number,
  chainHeight: t.number,
  balance: t.number,
  peers: t.number,
  transactions: TransactionTotalsCodec,
})
export type NodeStatusView = t.TypeOf<typeof NodeStatusCodec>

const SubmittedCodec = t.type({ id: t.string })
/** One item of a batch answer: a transaction and its status, or why nothing was signed. */
const BatchOutcomeCodec = t.union([
  t.type({ status: t.keyof({ pending: null, agreed: null, refused: null, final: null }), id: t.string }),
  t.type({ status: t.literal('rejected'), error: t.intersection([t.type({ code: t.string }), t.partial({ retryAfterMs: t.number })]) }),
])
const BatchAnswerCodec = t.type({ outcomes: t.array(BatchOutcomeCodec) })
export type BatchOutcome = t.TypeOf<typeof BatchOutcomeCodec>
/** Most rounds the API lists per page (api/routes/consensus-routes.ts). */
const ROUNDS_PAGE = 100
const RoundsPageCodec = t.type({
  latestRound: t.number,
  rounds: t.array(t.type({ round: t.number, faults: t.array(t.type({ memeId: t.string, kind: t.string })), hex: t.string })),
})
export type CertifiedRoundView = t.TypeOf<typeof RoundsPageCodec>['rounds'][number]

/** An HTTP exchange that came back: its status and parsed JSON body (undefined when the body was not JSON). */
export interface HttpAnswer {
  readonly status: number
  readonly body: unknown
  readonly text: string
  /** The Retry-After header in milliseconds (seconds form), when the answer has one. */
  readonly retryAfterMs?: number
}

/** A failed call: an error answer (status >= 400) or an answer that does not decode. */
/** `code` is the API's error code (`INVALID_REQUEST`…), or `HTTP_<status>`, or the socket error's code. */
export class NodeApiError extends CodedError<string> {
  override readonly name = 'NodeApiError'
  constructor(
    message: string,
    /** The HTTP status, 0 when the node could not be reached. */
    readonly status: number,
    code: string,
    /** Reset on a kept-alive socket reused for this request: the request never reached the node. */
    readonly reusedSocket = false,
    /** How long the node asked the client to wait before trying again (a 429 or 503 answer's Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(code, message)
  }
}

export class NodeApi {
  readonly url: string
  readonly #agent: Agent
  readonly #authorization: Record<string, string>

  constructor(url: string, options: { readonly maxSockets?: number; readonly token?: string } = {}) {
    this.url = url.replace(/\/+$/, '')
    this.#authorization = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 })
  }

  /**
   * One request; resolves with any answer the node gave (errors included), rejects when there was none. A GET sent
   * on a kept-alive socket that the server closed as idle at that moment is sent again once, on a new socket (the
   * race Node's documentation describes); a POST is not, since it is not idempotent.
   */
  async exchange(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<HttpAnswer> {
    try {
      return await this.#exchangeOnce(method, path, body, signal)
    } catch (error) {
      if (method !== 'GET' || !(error instanceof NodeApiError) || !error.reusedSocket) throw error
      return this.#exchangeOnce(method, path, body, signal)
    }
  }

  #exchangeOnce(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal | undefined): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.url}${path}`,
        {
          method,
          agent: this.#agent,
          headers:
            method === 'GET'
              ? { accept: 'application/json' }
              : { ...this.#authorization, accept: 'application/json', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload ?? '') },
          ...(signal !== undefined && { signal }),
        },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_RESPONSE_BYTES) res.destroy(new Error(`${method} ${path}: answer larger than ${MAX_RESPONSE_BYTES} bytes`))
            else chunks.push(chunk)
          })
          res.on('error', reject)
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: unknown
            try {
              parsed = text === '' ? undefined : (JSON.parse(text) as unknown)
            } catch {
              parsed = undefined
            }
            const retryAfter = Number(res.headers['retry-after'])
            resolve({
              status: res.statusCode ?? 0,
              body: parsed,
              text,
              ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1_000 } : {}),
            })
          })
        },
      )
      req.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          new NodeApiError(`${method} ${this.url}${path}: ${error.message}`, 0, error.code ?? error.name, req.reusedSocket && error.code === 'ECONNRESET'),
        ),
      )
      req.end(payload)
    })
  }

  async get<A>(path: string, codec: t.Decoder<unknown, A>, signal?: AbortSignal): Promise<A> {
    return this.#decode('GET', path, await this.exchange('GET', path, undefined, signal), codec)
  }

  async post<A>(path: string, body: unknown, codec: t.Decoder<unknown, A>, signal?: AbortSignal): Promise<A> {
    return this.#decode('POST', path, await this.exchange('POST', path, body, signal), codec)
  }

  status(signal?: AbortSignal): Promise<NodeStatusView> {
    return this.get('/v1/status', NodeStatusCodec, signal)
  }

  /** Proposes a transfer from this node; resolves once the counterparty agreed (the API answers 201). */
  async transfer(to: string, amount: number, signal?: AbortSignal): Promise<string> {
    return (await this.post('/v1/transactions', { to, amount }, SubmittedCodec, signal)).id
  }

  /** Proposes several transfers from this node in one request (`POST /v1/transactions/batch`); one outcome each. */
  async transferBatch(transfers: readonly { readonly to: string; readonly amount: number }[], signal?: AbortSignal): Promise<BatchOutcome[]> {
    const answer = await this.post('/v1/transactions/batch', { transfers }, BatchAnswerCodec, signal)
    if (answer.outcomes.length !== transfers.length)
      throw new NodeApiError(`POST /v1/transactions/batch: ${answer.outcomes.length} outcomes for ${transfers.length} transfers`, 200, 'BAD_ANSWER')
    return answer.outcomes
  }

  /** The certificates this node holds, from round 1 to its latest (a page at a time): faults and encoding (`hex`). */
  /** Every certified round of the node's solar system, or of another group it follows (`GET /v1/consensus/groups/...`). */
  async certifiedRounds(signal?: AbortSignal, group?: { readonly level: number; readonly group: string }): Promise<CertifiedRoundView[]> {
    const path = group === undefined ? '/v1/consensus/rounds' : `/v1/consensus/groups/${group.level}/${encodeURIComponent(group.group)}/rounds`
    const rounds: CertifiedRoundView[] = []
    for (;;) {
      const page = await this.get(`${path}?from=${rounds.length + 1}&limit=${ROUNDS_PAGE}`, RoundsPageCodec, signal)
      rounds.push(...page.rounds)
      if (page.rounds.length === 0 || rounds.length >= page.latestRound) return rounds
    }
  }

  async metrics(signal?: AbortSignal): Promise<string> {
    const answer = await this.exchange('GET', '/v1/metrics', undefined, signal)
    if (answer.status !== 200) throw errorOf('GET', '/v1/metrics', answer)
    return answer.text
  }

  close(): void {
    this.#agent.destroy()
  }

  #decode<A>(method: string, path: string, answer: HttpAnswer, codec: t.Decoder<unknown, A>): A {
    if (answer.status >= 400) throw errorOf(method, path, answer)
    const decoded = codec.decode(answer.body)
    if (isLeft(decoded)) throw new NodeApiError(`unexpected answer to ${method} ${path}: ${describeErrors(decoded.left)}`, answer.status, 'BAD_ANSWER')
    return decoded.right
  }
}

function errorOf(method: string, path: string, answer: HttpAnswer): NodeApiError {
  const decoded = ApiErrorBodyCodec.decode(answer.body)
  if (isLeft(decoded)) return new NodeApiError(`${method} ${path}: HTTP ${answer.status}`, answer.status, `HTTP_${answer.status}`)
  return new NodeApiError(
    `${method} ${path}: ${decoded.right.error.code}: ${decoded.right.error.message}`,
    answer.status,
    decoded.right.error.code,
    false,
    answer.retryAfterMs,
  )
}

/** Sums of the Prometheus samples named `name` (all label sets), from the text exposition format. */
export function sumMetric(text: string, name: string): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) sum += value
  }
  return sum
}
