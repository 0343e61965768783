/**
 * A contract registered with an executor and the sandbox that keeps its state warm between invocations.
 *
 * The sandbox holds the state after the last invocation and remembers the one before it, so a request for either
 * is served without the encoded state; any other state is loaded from the encoded state the caller sends
 * (`needs-state` asks for it). After every run the new state is reloaded from its canonical JSON text, so the
 * sandbox holds exactly what a node loading that state cold would hold.
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import type { QuickJSWASMModule } from 'quickjs-emscripten'
import { ContractError, ContractErrorCode } from '../errors.js'
import { canonicalJson } from '../json/json-value.js'
import { type ContractType, typeFromDescription } from '../types/contract-type.js'
import { ContractVm } from './contract-vm.js'
import type { ContractRegistration, ExecuteOutcome, ExecuteRequest } from './executor.js'
import type { SandboxLimits } from './limits.js'
import { checkResult } from './result-check.js'

/** A state the sandbox held: its hash and its canonical JSON text. */
interface HeldState {
  readonly hash: Uint8Array
  readonly json: string
}

export class LoadedContract {
  readonly registration: ContractRegistration
  readonly #types: { readonly output: ContractType<unknown>; readonly state: ContractType<unknown> }
  readonly #crypto: Crypto
  readonly #quickjs: QuickJSWASMModule
  readonly #limits: SandboxLimits
  #vm: ContractVm | undefined
  /** What the sandbox holds now, and what it held before its last invocation (to roll back to). */
  #current: HeldState | undefined
  #previous: HeldState | undefined

  constructor(registration: ContractRegistration, crypto: Crypto, quickjs: QuickJSWASMModule, limits: SandboxLimits) {
    this.registration = registration
    this.#types = { output: typeFromDescription(registration.signature.output), state: typeFromDescription(registration.signature.state) }
    this.#crypto = crypto
    this.#quickjs = quickjs
    this.#limits = limits
  }

  /** A failure of the host's own code inside an engine callback during the last run, if any (see `ContractVm`). */
  get hostFault(): unknown {
    return this.#vm?.hostFault
  }

  /** Drops the sandbox and what it held; the next invocation loads the contract again. */
  discard(): void {
    this.#vm?.dispose()
    this.#vm = undefined
    this.#current = undefined
    this.#previous = undefined
  }

  /**
   * Runs one request. Throws a typed error when the invocation fails; the caller discards the sandbox then, since
   * a failed run may have left its state half-changed.
   */
  invoke(request: ExecuteRequest): ExecuteOutcome {
    const limits = this.#limits
    if (request.input.length > limits.maxInputBytes || request.context.length > limits.maxInputBytes) {
      throw new ContractError(ContractErrorCode.INPUT_TOO_LARGE, `input or context exceeds ${limits.maxInputBytes} characters`)
    }
    const vm = this.#sandboxAt(request)
    if (vm === undefined) return { kind: 'needs-state' }
    if (request.loadOnly === true) return { kind: 'loaded' }
    const gas = Math.min(request.gas ?? limits.gas, limits.gas)
    const before = this.#current?.json
    const run = vm.run(request.input, request.context, request.rpc, gas)
    if (run.kind === 'failed') throw run.error
    if (run.kind === 'returned' && run.nearMemoryLimit && before !== undefined) {
      // The contract may have caught an out-of-memory error, at a point that depends on what this sandbox ran
      // before: the result counts only if a fresh sandbox, as a verifier runs it, gives the same.
      const fresh = new ContractVm(this.#quickjs, this.registration.code, limits)
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
      this.discard() // the aborted run may have changed the state in place
      return run
    }
    const { stateText, ...result } = checkResult(this.#crypto, limits, this.#types, run.text, run.gasUsed)
    // Reload the state from its canonical JSON text even when the contract's object prints the same: that
    // object may share sub-objects or hold properties JSON drops, which a node loading the state cold would
    // not have, and the next invocation must see exactly what a cold node sees.
    const json = stateText ?? canonicalJson(result.state, limits.maxStateBytes)
    vm.load(json)
    if (this.#current !== undefined) this.#previous = this.#current
    this.#current = { hash: result.stateHash, json }
    return { kind: 'done', result }
  }

  /** A sandbox holding the requested state, or undefined when the caller must send the encoded state. */
  #sandboxAt(request: ExecuteRequest): ContractVm | undefined {
    if (this.#vm !== undefined && this.#current !== undefined && equalBytes(this.#current.hash, request.stateHash)) return this.#vm
    let json: string | undefined
    if (this.#previous !== undefined && equalBytes(this.#previous.hash, request.stateHash)) json = this.#previous.json
    else if (request.encodedState !== undefined) {
      if (!equalBytes(this.#crypto.sha256(request.encodedState), request.stateHash)) {
        throw new ContractError(ContractErrorCode.INVALID_INPUT, 'the encoded state does not hash to the requested state hash')
      }
      json = canonicalJson(request.encodedState, this.#limits.maxStateBytes)
    }
    if (json === undefined) return undefined
    this.#vm ??= new ContractVm(this.#quickjs, this.registration.code, this.#limits)
    this.#vm.load(json)
    this.#current = { hash: request.stateHash, json }
    this.#previous = undefined
    return this.#vm
  }
}
