/**
 * The in-thread executor (`createExecutor`): runs invocations of registered contracts in this thread, one sandbox
 * per contract (loaded-contract.ts), and turns every failure into a serialisable outcome.
 *
 * Any failure discards the contract's sandbox; the state its caller committed is untouched, and other contracts'
 * sandboxes are separate runtimes. A failure that was not the contract's poisons the executor (see `#poisoned`).
 */
import type { Crypto } from '@constellation/crypto'
import type { QuickJSWASMModule } from 'quickjs-emscripten'
import { contractId } from '../contract/contract.js'
import { ContractError, ContractErrorCode } from '../errors.js'
import { type ContractRegistration, type ExecuteOutcome, type ExecuteRequest, type Executor, failureOf, registrationKey } from './executor.js'
import { type SandboxLimits, sandboxLimits } from './limits.js'
import { LoadedContract } from './loaded-contract.js'

class SandboxExecutor implements Executor {
  readonly limits: SandboxLimits
  readonly #crypto: Crypto
  readonly #quickjs: QuickJSWASMModule
  readonly #contracts = new Map<string, LoadedContract>()
  #closed = false
  /**
   * Set when a failure was not a contract's (a host exception inside an engine callback, a WebAssembly trap): the
   * shared QuickJS module may be left inconsistent, so this executor runs nothing more (a worker executor starts a
   * fresh worker, and with it a fresh module).
   */
  #poisoned: unknown

  constructor(options: { crypto: Crypto; quickjs: QuickJSWASMModule; limits?: Partial<SandboxLimits> }) {
    this.#crypto = options.crypto
    this.#quickjs = options.quickjs
    this.limits = sandboxLimits(options.limits)
  }

  register(registration: ContractRegistration): void {
    if (this.#closed) throw new ContractError(ContractErrorCode.CLOSED, 'the executor is closed')
    const id = contractId(this.#crypto, registration.code)
    if (id !== registration.contractId) {
      throw new ContractError(ContractErrorCode.CODE_HASH_MISMATCH, 'the code does not hash to the contract id', {
        contractId: registration.contractId,
        codeHash: id,
      })
    }
    const key = registrationKey(registration)
    if (this.#contracts.has(key)) return
    this.#contracts.set(key, new LoadedContract(registration, this.#crypto, this.#quickjs, this.limits))
  }

  execute(request: ExecuteRequest): ExecuteOutcome {
    if (this.#closed) return { kind: 'failed', error: failureOf(new ContractError(ContractErrorCode.CLOSED, 'the executor is closed')) }
    if (this.#poisoned !== undefined) {
      return {
        kind: 'failed',
        error: failureOf(
          new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the sandbox module failed earlier and is no longer used', {}, { cause: this.#poisoned }),
        ),
      }
    }
    const contract = this.#contracts.get(registrationKey(request))
    if (contract === undefined || contract.registration.contractId !== request.contractId) {
      return { kind: 'failed', error: failureOf(new ContractError(ContractErrorCode.UNKNOWN_CONTRACT, `contract ${request.contractId} is not registered`)) }
    }
    try {
      return contract.invoke(request)
    } catch (error) {
      const fault = contract.hostFault
      if (fault !== undefined || !(error instanceof ContractError)) this.#poisoned = fault ?? error
      contract.discard()
      return {
        kind: 'failed',
        error: failureOf(
          this.#poisoned === undefined
            ? error
            : new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the sandbox module failed', {}, { cause: this.#poisoned }),
        ),
      }
    }
  }

  evict(key: string): void {
    this.#contracts.get(key)?.discard()
  }

  close(): void {
    this.#closed = true
    for (const contract of this.#contracts.values()) contract.discard()
    this.#contracts.clear()
  }
}

export function createExecutor(options: { crypto: Crypto; quickjs: QuickJSWASMModule; limits?: Partial<SandboxLimits> }): Executor {
  return new SandboxExecutor(options)
}
