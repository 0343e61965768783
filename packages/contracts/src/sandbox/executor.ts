/**
 * The executor: runs invocations of registered contracts in this thread, one `ContractVm` per contract, and turns
 * their raw results into checked, canonical results.
 *
 * State handling (the fast path): a contract's sandbox keeps its state between invocations, so a request carries
 * only the input and the name (hash) of the state it starts from, not the state. After every run the new state is
 * checked against the state type, canonical-encoded and hashed, and the sandbox reloads it from its canonical JSON
 * text, so it holds exactly what a node loading that state cold would hold: same key order, no shared
 * sub-objects, nothing JSON cannot carry. A sandbox holding another state than the one requested is rolled back to
 * the state before its last invocation, or reloaded from the encoded state the caller sends when asked
 * (`needs-state`). Any failure discards the contract's sandbox; the state its caller committed is untouched, and
 * other contracts' sandboxes are separate runtimes.
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import type { QuickJSWASMModule } from 'quickjs-emscripten'
import { contractId } from '../contract/contract.js'
import { ContractError, ContractErrorCode, toContractError } from '../errors.js'
import { canonicalJson, encodeJson, inCanonicalOrder, type JsonValue, parseJson } from '../json/json-value.js'
import { type ContractType, decodeWith, type SignatureDescription, typeFromDescription } from '../types/contract-type.js'
import { ContractVm, type RpcExchange } from './contract-vm.js'
import { type SandboxLimits, sandboxLimits } from './limits.js'

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

interface CheckedResult extends ExecutionResult {
  /** The state's canonical JSON text when its keys are already in canonical order (no decoding needed), else undefined. */
  readonly stateText: string | undefined
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

interface LoadedContract {
  readonly registration: ContractRegistration
  readonly output: ContractType<unknown>
  readonly state: ContractType<unknown>
  vm?: ContractVm
  /** What the sandbox holds now, and what it held before its last invocation (to roll back to). */
  current?: { readonly hash: Uint8Array; readonly json: string }
  previous?: { readonly hash: Uint8Array; readonly json: string }
}

export interface Executor {
  readonly limits: SandboxLimits
  register(registration: ContractRegistration): void
  execute(request: ExecuteRequest): ExecuteOutcome
  /** Drops a contract's sandbox (it is reloaded on its next invocation); the key is its deploy hash or contract id. */
  evict(key: string): void
  close(): void
}

export function createExecutor(options: { crypto: Crypto; quickjs: QuickJSWASMModule; limits?: Partial<SandboxLimits> }): Executor {
  const { crypto, quickjs } = options
  const limits = sandboxLimits(options.limits)
  const contracts = new Map<string, LoadedContract>()
  let closed = false
  /**
   * Set when a failure was not a contract's (a host exception inside an engine callback, a WebAssembly trap): the
   * shared QuickJS module may be left inconsistent, so this executor runs nothing more (a worker executor starts a
   * fresh worker, and with it a fresh module).
   */
  let poisoned: unknown

  function discard(contract: LoadedContract): void {
    contract.vm?.dispose()
    delete contract.vm
    delete contract.current
    delete contract.previous
  }

  /** A sandbox holding the requested state, or undefined when the caller must send the encoded state. */
  function sandboxAt(contract: LoadedContract, request: ExecuteRequest): ContractVm | undefined {
    if (contract.vm !== undefined && contract.current !== undefined && equalBytes(contract.current.hash, request.stateHash)) return contract.vm
    let json: string | undefined
    if (contract.previous !== undefined && equalBytes(contract.previous.hash, request.stateHash)) json = contract.previous.json
    else if (request.encodedState !== undefined) {
      if (!equalBytes(crypto.sha256(request.encodedState), request.stateHash)) {
        throw new ContractError(ContractErrorCode.INVALID_INPUT, 'the encoded state does not hash to the requested state hash')
      }
      json = canonicalJson(request.encodedState, limits.maxStateBytes)
    }
    if (json === undefined) return undefined
    contract.vm ??= new ContractVm(quickjs, contract.registration.code, limits)
    contract.vm.load(json)
    contract.current = { hash: request.stateHash, json }
    delete contract.previous
    return contract.vm
  }

  function finish(contract: LoadedContract, text: string, gasUsed: number): CheckedResult {
    if (text.length > limits.maxStateBytes + limits.maxOutputBytes) {
      throw new ContractError(ContractErrorCode.STATE_TOO_LARGE, `the result's JSON text of ${text.length} characters exceeds the limits`)
    }
    const result = parseJson(text, ContractErrorCode.RESULT_MALFORMED, 'the result') as { state: JsonValue; output: JsonValue; effects: JsonValue }
    const output = decodeWith(contract.output, result.output, ContractErrorCode.OUTPUT_INVALID, 'the output') as JsonValue
    const outputSize = JSON.stringify(result.output).length + JSON.stringify(result.effects).length
    if (outputSize > limits.maxOutputBytes) {
      throw new ContractError(ContractErrorCode.OUTPUT_TOO_LARGE, `output and effects of ${outputSize} characters exceed ${limits.maxOutputBytes}`)
    }
    if (!Array.isArray(result.effects)) throw new ContractError(ContractErrorCode.RESULT_MALFORMED, 'effects must be an array')
    decodeWith(contract.state, result.state, ContractErrorCode.STATE_INVALID, 'the new state')
    let state: Uint8Array
    try {
      state = encodeJson(result.state, limits.maxStateBytes)
    } catch (cause) {
      throw new ContractError(ContractErrorCode.STATE_TOO_LARGE, `the new state's encoding exceeds ${limits.maxStateBytes} bytes`, {}, { cause })
    }
    // When the keys are in canonical order, the state's JSON text is its canonical JSON text.
    const stateText = inCanonicalOrder(result.state) ? JSON.stringify(result.state) : undefined
    return { output, effects: result.effects, state, stateHash: crypto.sha256(state), gasUsed, stateText }
  }

  return {
    limits,
    register(registration) {
      if (closed) throw new ContractError(ContractErrorCode.CLOSED, 'the executor is closed')
      const id = contractId(crypto, registration.code)
      if (id !== registration.contractId) {
        throw new ContractError(ContractErrorCode.CODE_HASH_MISMATCH, 'the code does not hash to the contract id', {
          contractId: registration.contractId,
          codeHash: id,
        })
      }
      const key = registrationKey(registration)
      if (contracts.has(key)) return
      contracts.set(key, {
        registration,
        output: typeFromDescription(registration.signature.output),
        state: typeFromDescription(registration.signature.state),
      })
    },
    execute(request) {
      if (closed) return { kind: 'failed', error: failureOf(new ContractError(ContractErrorCode.CLOSED, 'the executor is closed')) }
      if (poisoned !== undefined) {
        return {
          kind: 'failed',
          error: failureOf(
            new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the sandbox module failed earlier and is no longer used', {}, { cause: poisoned }),
          ),
        }
      }
      const contract = contracts.get(registrationKey(request))
      if (contract === undefined || contract.registration.contractId !== request.contractId) {
        return { kind: 'failed', error: failureOf(new ContractError(ContractErrorCode.UNKNOWN_CONTRACT, `contract ${request.contractId} is not registered`)) }
      }
      try {
        if (request.input.length > limits.maxInputBytes || request.context.length > limits.maxInputBytes) {
          throw new ContractError(ContractErrorCode.INPUT_TOO_LARGE, `input or context exceeds ${limits.maxInputBytes} characters`)
        }
        const vm = sandboxAt(contract, request)
        if (vm === undefined) return { kind: 'needs-state' }
        if (request.loadOnly === true) return { kind: 'loaded' }
        const gas = Math.min(request.gas ?? limits.gas, limits.gas)
        const before = contract.current?.json
        const run = vm.run(request.input, request.context, request.rpc, gas)
        if (run.kind === 'failed') throw run.error
        if (run.kind === 'returned' && run.nearMemoryLimit && before !== undefined) {
          // The contract may have caught an out-of-memory error, at a point that depends on what this sandbox ran
          // before: the result counts only if a fresh sandbox, as a verifier runs it, gives the same.
          const fresh = new ContractVm(quickjs, contract.registration.code, limits)
          try {
            fresh.load(before)
            const again = fresh.run(request.input, request.context, request.rpc, gas)
            if (again.kind !== 'returned' || again.text !== run.text || again.gasUsed !== run.gasUsed) {
              throw new ContractError(ContractErrorCode.OUT_OF_MEMORY, 'the invocation neared the memory limit and a fresh sandbox gives another result')
            }
          } finally {
            fresh.dispose()
          }
        }
        if (run.kind === 'needs-rpc') {
          discard(contract) // the aborted run may have changed the state in place
          return run
        }
        const { stateText, ...result } = finish(contract, run.text, run.gasUsed)
        // Reload the state from its canonical JSON text even when the contract's object prints the same: that
        // object may share sub-objects or hold properties JSON drops, which a node loading the state cold would
        // not have, and the next invocation must see exactly what a cold node sees.
        const json = stateText ?? canonicalJson(result.state, limits.maxStateBytes)
        vm.load(json)
        if (contract.current !== undefined) contract.previous = contract.current
        contract.current = { hash: result.stateHash, json }
        return { kind: 'done', result }
      } catch (error) {
        const fault = contract.vm?.hostFault
        if (fault !== undefined || !(error instanceof ContractError)) poisoned = fault ?? error
        discard(contract)
        return {
          kind: 'failed',
          error: failureOf(
            poisoned === undefined ? error : new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the sandbox module failed', {}, { cause: poisoned }),
          ),
        }
      }
    },
    evict(key) {
      const contract = contracts.get(key)
      if (contract !== undefined) discard(contract)
    },
    close() {
      closed = true
      for (const contract of contracts.values()) discard(contract)
      contracts.clear()
    },
  }
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
