/**
 * The RPC bridge: a contract's `rpc(endpoint, request)` leaves the sandbox as a request to its host, which calls
 * the endpoint only when it is on the host's allow-list, with a timeout and a size limit, and records the answer.
 * The invocation then runs again from the same state with the recorded answers, so the recorded run is an
 * ordinary deterministic run that any node can replay without the network.
 */
import { ContractError, ContractErrorCode } from '../errors.js'
import { parseJson } from '../json/json-value.js'
import type { RpcExchange } from '../sandbox/contract-vm.js'

/** The part of `fetch` the bridge uses, so tests and nodes can pass their own. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>

export interface RpcBridgeOptions {
  /** URL prefixes contracts may call, e.g. `https://prices.example/api/`. */
  readonly allow: readonly string[]
  readonly fetch?: FetchLike
  readonly timeoutMs?: number
  readonly maxResponseBytes?: number
}

export type RpcBridge = (endpoint: string, request: string) => Promise<RpcExchange>

export function createRpcBridge(options: RpcBridgeOptions): RpcBridge {
  const fetchFn: FetchLike = options.fetch ?? (globalThis.fetch as unknown as FetchLike)
  const timeoutMs = options.timeoutMs ?? 2_000
  const maxResponseBytes = options.maxResponseBytes ?? 64 << 10
  return async (endpoint, request) => {
    if (!options.allow.some((prefix) => endpoint.startsWith(prefix))) {
      throw new ContractError(ContractErrorCode.RPC_NOT_ALLOWED, `the host does not allow calls to ${endpoint}`, { endpoint })
    }
    let text: string
    try {
      const response = await fetchFn(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: request,
        signal: AbortSignal.timeout(timeoutMs),
      })
      if (!response.ok) throw new ContractError(ContractErrorCode.RPC_FAILED, `${endpoint} answered ${response.status}`, { endpoint, status: response.status })
      text = await response.text()
    } catch (error) {
      if (error instanceof ContractError) throw error
      const name = (error as { name?: unknown }).name
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ContractError(ContractErrorCode.RPC_TIMEOUT, `${endpoint} did not answer within ${timeoutMs} ms`, { endpoint })
      }
      throw new ContractError(ContractErrorCode.RPC_FAILED, `calling ${endpoint} failed`, { endpoint }, { cause: error })
    }
    if (new TextEncoder().encode(text).length > maxResponseBytes) {
      throw new ContractError(ContractErrorCode.RPC_TOO_LARGE, `${endpoint} answered more than ${maxResponseBytes} bytes`, { endpoint })
    }
    // Recorded in normalised JSON text, so the replay hands the contract exactly what it parsed the first time.
    const response = JSON.stringify(parseJson(text, ContractErrorCode.RPC_FAILED, `the answer of ${endpoint}`))
    return { endpoint, request, response }
  }
}
