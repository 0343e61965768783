/**
 * The executor's contract: what it is asked (register a contract, run an invocation from a named state), what it
 * answers, and failures in a form that crosses worker threads. `createExecutor` (sandbox-executor.ts) runs
 * invocations in this thread, `createWorkerExecutor` (worker-executor.ts) in a worker thread with a wall-clock guard.
 *
 * State handling (the fast path): a contract's sandbox keeps its state between invocations, so a request carries
 * only the input and the name (hash) of the state it starts from, not the state; the executor answers `needs-state`
 * when it needs the encoded state (see loaded-contract.ts). Any failure discards the contract's sandbox; the state
 * its caller committed is untouched, and other contracts' sandboxes are separate runtimes.
 */
import { ContractError, ContractErrorCode, toContractError } from '../errors.js'
import type { JsonValue } from '../json/json-value.js'
import type { SignatureDescription } from '../types/contract-type.js'
import type { RpcExchange } from './contract-vm.js'
import type { SandboxLimits } from './limits.js'

export interface ContractRegistration {
  /** Hex SHA-256 of the code. */
  readonly contractId: string
  readonly code: string
  readonly signature: SignatureDescription
  /**
   * Hex deploy hash (`deployHash`): the registration's key when given, so two deploys of the same code with
   * different signatures are separate contracts and a verdict never depends on which one was registered first.
   */
  readonly deploy?: string
}

/** The key a registration is stored under: its deploy hash, else its contract id. */
export function registrationKey(registration: { readonly contractId: string; readonly deploy?: string }): string {
  return registration.deploy ?? registration.contractId
}

export interface ExecuteRequest {
  readonly contractId: string
  /** Hex deploy hash of the registration to run (when it was registered with one). */
  readonly deploy?: string
  /** The state the invocation starts from: its hash, and its encoding when the executor asks for it. */
  readonly stateHash: Uint8Array
  readonly encodedState?: Uint8Array
  /** JSON text of the input and of the invocation context. */
  readonly input: string
  readonly context: string
  /** Recorded RPC answers, in call order (empty on a first run). */
  readonly rpc: readonly RpcExchange[]
  /** Gas budget; the executor's limit when absent. */
  readonly gas?: number
  /** Only load the contract at this state (to refuse code that does not load); nothing is invoked. */
  readonly loadOnly?: boolean
}

export interface ExecutionResult {
  readonly output: JsonValue
  readonly effects: JsonValue
  /** Canonical CBOR of the new state, and its SHA-256. */
  readonly state: Uint8Array
  readonly stateHash: Uint8Array
  readonly gasUsed: number
}

/** A serialisable failure (it crosses worker threads). */
export interface FailureDetail {
  readonly code: ContractErrorCode
  readonly message: string
  readonly detail: Readonly<Record<string, unknown>>
}

export type ExecuteOutcome =
  | { readonly kind: 'done'; readonly result: ExecutionResult }
  | { readonly kind: 'failed'; readonly error: FailureDetail }
  | { readonly kind: 'needs-state' }
  | { readonly kind: 'loaded' }
  | { readonly kind: 'needs-rpc'; readonly endpoint: string; readonly request: string }

export function failureOf(error: unknown): FailureDetail {
  const failure = toContractError(error, ContractErrorCode.SANDBOX_CRASHED)
  return { code: failure.code, message: failure.message, detail: JSON.parse(JSON.stringify(failure.detail)) as Record<string, unknown> }
}

export function errorOf(failure: FailureDetail): ContractError {
  return new ContractError(failure.code, failure.message, failure.detail)
}

export interface Executor {
  readonly limits: SandboxLimits
  register(registration: ContractRegistration): void
  execute(request: ExecuteRequest): ExecuteOutcome
  /** Drops a contract's sandbox (it is reloaded on its next invocation); the key is its deploy hash or contract id. */
  evict(key: string): void
  close(): void
}

/** The executor as hosts and verifiers use it: in this thread or in a worker thread with a wall-clock guard. */
export interface AsyncExecutor {
  readonly limits: SandboxLimits
  register(registration: ContractRegistration): Promise<void>
  execute(request: ExecuteRequest): Promise<ExecuteOutcome>
  close(): Promise<void>
}

/** Runs invocations in the calling thread: fastest, but only gas and memory bound a runaway contract. */
export function inThreadExecutor(executor: Executor): AsyncExecutor {
  return {
    limits: executor.limits,
    register: async (registration) => executor.register(registration),
    execute: async (request) => executor.execute(request),
    close: async () => executor.close(),
  }
}
