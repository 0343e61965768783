/**
 * The RPC bridge: a contract's `rpc(endpoint, request)` leaves the sandbox as a request to its host, which calls
 * the endpoint only when it is on the host's allow-list, with a timeout and a size limit, and records the answer.
 * The invocation then runs again from the same state with the recorded answers, so the recorded run is an
 * ordinary deterministic run that any node can replay without the network.
 *
 * The allow-list is matched on the parsed URL (same origin, path within an allowed path at a segment boundary), not
 * on text prefixes (`https://a.example.evil/` is not under `https://a.example`); redirects are refused (they
 * would leave the allow-list); the answer is read as a stream and cut off at the size limit; requests have a limit.
 */
import { ContractError, ContractErrorCode } from '../errors.js'
import { parseJson } from '../json/json-value.js'
import type { RpcExchange } from '../sandbox/contract-vm.js'

/** The part of `fetch` the bridge uses, so tests and nodes can pass their own. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal; redirect: 'error' },
) => Promise<{ ok: boolean; status: number; body?: ReadableStream<Uint8Array> | null; text(): Promise<string> }>

export interface RpcBridgeOptions {
  /** URL prefixes contracts may call, e.g. `https://prices.example/api/`. */
  readonly allow: readonly string[]
  readonly fetch?: FetchLike
  readonly timeoutMs?: number
  readonly maxResponseBytes?: number
  /** Largest request body (JSON text) a contract may send. */
  readonly maxRequestBytes?: number
}

/** A parsed allow-list entry: an origin and a path prefix ending at a segment boundary. */
function allowEntry(prefix: string): { origin: string; path: string } {
  let url: URL
  try {
    url = new URL(prefix)
  } catch (cause) {
    throw new ContractError(ContractErrorCode.INVALID_INPUT, `allow-list entry ${prefix} is not a URL`, { prefix }, { cause })
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ContractError(
      ContractErrorCode.INVALID_INPUT,
      `allow-list entry ${prefix} must be an http(s) origin and path without credentials, query or fragment`,
      { prefix },
    )
  }
  return { origin: url.origin, path: url.pathname }
}

function allowed(entries: readonly { origin: string; path: string }[], endpoint: string): boolean {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return false
  }
  if (url.username !== '' || url.password !== '') return false
  return entries.some(({ origin, path }) => url.origin === origin && (url.pathname === path || url.pathname.startsWith(path.endsWith('/') ? path : `${path}/`)))
}

/** Reads a body as UTF-8 text, failing as soon as it passes `maxBytes`. */
async function readCapped(
  response: { body?: ReadableStream<Uint8Array> | null; text(): Promise<string> },
  maxBytes: number,
  endpoint: string,
): Promise<string> {
  const tooLarge = () => new ContractError(ContractErrorCode.RPC_TOO_LARGE, `${endpoint} answered more than ${maxBytes} bytes`, { endpoint })
  if (response.body === undefined || response.body === null) {
    const text = await response.text()
    if (new TextEncoder().encode(text).length > maxBytes) throw tooLarge()
    return text
  }
  const reader = response.body.getReader()
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let received = 0
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    received += value.length
    if (received > maxBytes) {
      await reader.cancel().catch(() => undefined)
      throw tooLarge()
    }
    text += decoder.decode(value, { stream: true })
  }
}

export type RpcBridge = (endpoint: string, request: string) => Promise<RpcExchange>

export function createRpcBridge(options: RpcBridgeOptions): RpcBridge {
  const fetchFn: FetchLike = options.fetch ?? (globalThis.fetch as unknown as FetchLike)
  const timeoutMs = options.timeoutMs ?? 2_000
  const maxResponseBytes = options.maxResponseBytes ?? 64 << 10
  const maxRequestBytes = options.maxRequestBytes ?? 16 << 10
  const entries = options.allow.map(allowEntry)
  return async (endpoint, request) => {
    if (!allowed(entries, endpoint)) {
      throw new ContractError(ContractErrorCode.RPC_NOT_ALLOWED, `the host does not allow calls to ${endpoint}`, { endpoint })
    }
    if (new TextEncoder().encode(request).length > maxRequestBytes) {
      throw new ContractError(ContractErrorCode.RPC_TOO_LARGE, `the request to ${endpoint} is larger than ${maxRequestBytes} bytes`, { endpoint })
    }
    let text: string
    try {
      const response = await fetchFn(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: request,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      })
      if (!response.ok) throw new ContractError(ContractErrorCode.RPC_FAILED, `${endpoint} answered ${response.status}`, { endpoint, status: response.status })
      text = await readCapped(response, maxResponseBytes, endpoint)
    } catch (error) {
      if (error instanceof ContractError) throw error
      const name = (error as { name?: unknown }).name
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ContractError(ContractErrorCode.RPC_TIMEOUT, `${endpoint} did not answer within ${timeoutMs} ms`, { endpoint })
      }
      throw new ContractError(ContractErrorCode.RPC_FAILED, `calling ${endpoint} failed`, { endpoint }, { cause: error })
    }
    // Recorded in normalised JSON text, so the replay hands the contract exactly what it parsed the first time.
    const response = JSON.stringify(parseJson(text, ContractErrorCode.RPC_FAILED, `the answer of ${endpoint}`))
    return { endpoint, request, response }
  }
}
