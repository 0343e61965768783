/**
 * One contract's sandbox: a QuickJS runtime of its own (its own heap limit, stack limit and interrupt handler)
 * holding the contract's code and, between invocations, its state.
 *
 * Gas is the exact number of interpreter polls (function calls and backward jumps) an invocation makes, read from
 * QuickJS's interrupt counter (see gas-counter.ts): the same on every node, whether the sandbox was warm or freshly
 * loaded. The counter is set so that the interrupt handler fires exactly at the first poll past the budget.
 */
import { DefaultIntrinsics, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten'
import { ContractError, ContractErrorCode } from '../errors.js'
import { InterruptCounter, POLLS_PER_INTERRUPT } from './gas-counter.js'
import type { SandboxLimits } from './limits.js'
import { contractFactory, PRELUDE_SOURCE } from './prelude.js'

/** What the contract asked its host over RPC, and what the host answered (recorded for replay). */
export interface RpcExchange {
  readonly endpoint: string
  /** JSON text of the request. */
  readonly request: string
  /** JSON text of the response. */
  readonly response: string
}

/** The raw result of one run: the JSON text the contract returned, or why there is none. */
export type VmRun =
  | {
      readonly kind: 'returned'
      readonly text: string
      readonly gasUsed: number
      /**
       * The heap was seen past half its limit during the call: the contract may have caught an out-of-memory error,
       * whose point depends on the sandbox's history, so the executor checks the result against a fresh sandbox.
       */
      readonly nearMemoryLimit: boolean
    }
  | { readonly kind: 'needs-rpc'; readonly endpoint: string; readonly request: string }
  | { readonly kind: 'failed'; readonly error: ContractError }

/** The prelude and the freezing of the global object are the host's own work, not metered against the contract. */
const PRELUDE_GAS = 10_000_000

/** Heap use past this share of the limit makes a result suspect (see `nearMemoryLimit`). */
const NEAR_MEMORY_LIMIT = 0.5
const MEMORY_USED = /memory used\s+\d+\s+(\d+)/

interface RpcSession {
  readonly recorded: readonly RpcExchange[]
  index: number
  needed?: { endpoint: string; request: string }
  failure?: ContractError
}

/**
 * Maps a QuickJS exception to a typed error. Memory and stack failures are only those the prelude saw the engine
 * raise (`limitHit`), never a value or message the contract threw, which would otherwise pass a deterministic
 * failure off as a machine-dependent one (and so shield a host's false record from a fraud proof).
 */
function classify(dumped: unknown, interruptedForGas: boolean, limitHit: unknown = null): ContractError {
  if (interruptedForGas) return new ContractError(ContractErrorCode.OUT_OF_GAS, 'the invocation ran out of gas')
  if (limitHit === 'out of memory') return new ContractError(ContractErrorCode.OUT_OF_MEMORY, 'the sandbox ran out of memory')
  if (limitHit === 'stack overflow') return new ContractError(ContractErrorCode.STACK_OVERFLOW, 'the sandbox stack overflowed (recursion too deep)')
  const error = dumped as { name?: unknown; message?: unknown } | null
  const name = typeof error?.name === 'string' ? error.name : ''
  const message = typeof error?.message === 'string' ? error.message : String(dumped)
  if (name === 'SyntaxError') return new ContractError(ContractErrorCode.SYNTAX_ERROR, `syntax error: ${message}`, { message })
  return new ContractError(ContractErrorCode.CONTRACT_THREW, `the contract threw: ${name === '' ? '' : `${name}: `}${message}`, { name, message })
}

export class ContractVm {
  readonly #runtime: QuickJSRuntime
  readonly #context: QuickJSContext
  readonly #entry: QuickJSHandle
  readonly #run: QuickJSHandle
  readonly #load: QuickJSHandle
  #limitHitFn: QuickJSHandle | undefined
  readonly #counter: InterruptCounter
  /** Gas budget of the current call, polls accounted for at the last interrupt, and the counter's current segment. */
  #budget = 0
  #polled = 0
  #segment = 0
  #outOfGas = false
  #abort = false
  #nearMemoryLimit = false
  #hostFault: unknown = undefined
  readonly #memoryBytes: number
  #session: RpcSession = { recorded: [], index: 0 }
  #disposed = false

  /** Loads the code; throws SYNTAX_ERROR, NOT_A_CONTRACT, CONTRACT_THREW or a resource error. */
  constructor(quickjs: QuickJSWASMModule, code: string, limits: SandboxLimits) {
    this.#memoryBytes = limits.memoryBytes
    this.#runtime = quickjs.newRuntime()
    this.#runtime.setMemoryLimit(limits.memoryBytes)
    this.#runtime.setMaxStackSize(limits.stackBytes)
    this.#runtime.setInterruptHandler(() => this.#interrupted())
    this.#context = this.#runtime.newContext({ intrinsics: { ...DefaultIntrinsics, Date: false } })
    this.#counter = new InterruptCounter(quickjs, this.#context)
    const handles: QuickJSHandle[] = []
    try {
      const hostRpc = this.#context.newFunction('__hostRpc', (endpoint, request) => this.#answerRpc(endpoint, request))
      this.#context.setProp(this.#context.global, '__hostRpc', hostRpc)
      hostRpc.dispose()
      this.#entry = this.#evaluate(PRELUDE_SOURCE, 'prelude.js', PRELUDE_GAS)
      handles.push(this.#entry)
      const get = (name: string) => {
        const handle = this.#context.getProp(this.#entry, name)
        handles.push(handle)
        return handle
      }
      this.#run = get('run')
      this.#load = get('load')
      this.#limitHitFn = get('limitHit')
      const seal = this.#context.getProp(this.#entry, 'seal')
      let sealed: QuickJSHandle
      try {
        this.#compile(code)
        const factory = this.#evaluate(contractFactory(code), 'contract.js', limits.gas)
        try {
          sealed = this.#call(seal, [factory], PRELUDE_GAS)
        } finally {
          factory.dispose()
        }
      } finally {
        seal.dispose()
      }
      const isContract = this.#context.dump(sealed) === true
      sealed.dispose()
      if (!isContract) {
        throw new ContractError(ContractErrorCode.NOT_A_CONTRACT, 'the code does not define a top-level function invoke(state, input, context)')
      }
    } catch (error) {
      for (const handle of handles) handle.dispose()
      this.#disposeRuntime()
      throw error
    }
  }

  /** Compiles the code on its own as a strict script: syntax errors surface here, before it is wrapped. */
  #compile(code: string): void {
    const compiled = this.#context.evalCode(code, 'contract.js', { type: 'global', strict: true, compileOnly: true })
    this.#unwrap(compiled).dispose()
  }

  #evaluate(code: string, filename: string, gas: number): QuickJSHandle {
    this.#arm(gas)
    const result = this.#context.evalCode(code, filename, { type: 'global', strict: true })
    return this.#unwrap(result)
  }

  #call(fn: QuickJSHandle, args: QuickJSHandle[], gas: number): QuickJSHandle {
    this.#arm(gas)
    return this.#unwrap(this.#context.callFunction(fn, this.#context.undefined, ...args))
  }

  #arm(gas: number): void {
    this.#budget = gas
    this.#polled = 0
    this.#outOfGas = false
    this.#abort = false
    this.#segment = Math.min(gas + 1, POLLS_PER_INTERRUPT)
    this.#counter.write(this.#segment)
  }

  /** The interrupt handler: the counter ran down its segment; stop past the budget, else arm the next segment. */
  #interrupted(): boolean {
    // Nothing may throw from here through the WebAssembly frames below: that would leave the module's own stack
    // unwound half-way. A fault stops the contract instead, and the executor gives up on the module.
    try {
      return this.#interruptStep()
    } catch (error) {
      this.#hostFault = error
      return true
    }
  }

  /** A host-side fault met inside a callback from the engine (the module is no longer trusted after one). */
  get hostFault(): unknown {
    return this.#hostFault
  }

  #interruptStep(): boolean {
    if (this.#abort) return true
    this.#sampleMemory()
    this.#polled += this.#segment
    if (this.#polled > this.#budget) {
      this.#outOfGas = true
      return true
    }
    this.#segment = Math.min(this.#budget + 1 - this.#polled, POLLS_PER_INTERRUPT)
    this.#counter.write(this.#segment)
    return false
  }

  /** Notes a heap past `NEAR_MEMORY_LIMIT` of its limit (sampled at interrupts and at the end of a call). */
  #sampleMemory(): void {
    if (this.#nearMemoryLimit) return
    const used = MEMORY_USED.exec(this.#runtime.dumpMemoryUsage())?.[1]
    if (used !== undefined && Number(used) > this.#memoryBytes * NEAR_MEMORY_LIMIT) this.#nearMemoryLimit = true
  }

  /** Polls since the last `#arm`. */
  #used(): number {
    return this.#polled + this.#segment - this.#counter.read()
  }

  #unwrap(result: ReturnType<QuickJSContext['evalCode']>): QuickJSHandle {
    if (result.error === undefined) return result.value
    const dumped = (() => {
      try {
        return this.#context.dump(result.error)
      } catch {
        return null
      } finally {
        result.error.dispose()
      }
    })()
    const failure = this.#session.failure
    if (failure !== undefined) throw failure
    const outOfGas = this.#outOfGas
    throw classify(dumped, outOfGas, outOfGas ? null : this.#limitHit())
  }

  /** What the prelude saw the engine raise in the last call; read outside the gas budget. */
  #limitHit(): unknown {
    const fn = this.#limitHitFn
    if (fn === undefined) return null
    this.#arm(POLLS_PER_INTERRUPT)
    const outcome = this.#context.callFunction(fn, this.#context.undefined)
    if (outcome.error !== undefined) {
      outcome.error.dispose()
      return null
    }
    const value = this.#context.dump(outcome.value) as unknown
    outcome.value.dispose()
    return value
  }

  #answerRpc(endpointHandle: QuickJSHandle, requestHandle: QuickJSHandle): QuickJSHandle {
    const session = this.#session
    const endpoint = this.#context.dump(endpointHandle) as unknown
    const request = this.#context.dump(requestHandle) as unknown
    const recorded = session.recorded[session.index]
    if (typeof endpoint !== 'string' || typeof request !== 'string') {
      session.failure = new ContractError(ContractErrorCode.RPC_FAILED, 'rpc needs an endpoint string and a JSON request')
    } else if (recorded === undefined) {
      session.needed = { endpoint, request }
    } else if (recorded.endpoint !== endpoint || recorded.request !== request) {
      session.failure = new ContractError(ContractErrorCode.RPC_FAILED, `rpc call ${session.index} does not match the recorded call`, {
        index: session.index,
        endpoint,
      })
    } else {
      session.index++
      return this.#context.newString(recorded.response)
    }
    // Stop the contract at its next poll, whatever it catches: the run is repeated once the answer is known.
    this.#abort = true
    return this.#context.newError('rpc answer pending')
  }

  /** Replaces the state the sandbox holds (JSON text, as rebuilt from the canonical encoding). */
  load(stateJson: string): void {
    const text = this.#context.newString(stateJson)
    try {
      this.#call(this.#load, [text], POLLS_PER_INTERRUPT).dispose()
    } finally {
      text.dispose()
    }
  }

  /** Runs `invoke(state, input, context)` once. The sandbox's state is left as the contract changed it. */
  run(inputJson: string, contextJson: string, rpc: readonly RpcExchange[], gas: number): VmRun {
    this.#session = { recorded: rpc, index: 0 }
    this.#nearMemoryLimit = false
    const input = this.#context.newString(inputJson)
    const context = this.#context.newString(contextJson)
    try {
      const result = this.#call(this.#run, [input, context], gas)
      const gasUsed = this.#used()
      const value = this.#context.dump(result) as unknown
      result.dispose()
      this.#sampleMemory()
      // Jobs left queued (promise reactions) would run in no defined order on a later call: not committable.
      if (this.#runtime.hasPendingJob()) {
        return {
          kind: 'failed',
          error: new ContractError(ContractErrorCode.RESULT_MALFORMED, 'the invocation left promise jobs pending; invoke must finish synchronously'),
        }
      }
      const session = this.#session
      if (session.failure !== undefined) return { kind: 'failed', error: session.failure }
      if (session.needed !== undefined) return { kind: 'needs-rpc', ...session.needed }
      if (session.index !== session.recorded.length) {
        const error = new ContractError(
          ContractErrorCode.RPC_FAILED,
          `the record answers ${session.recorded.length} RPC calls, the contract made ${session.index}`,
        )
        return { kind: 'failed', error }
      }
      if (typeof value !== 'string') {
        return {
          kind: 'failed',
          error: new ContractError(ContractErrorCode.RESULT_MALFORMED, 'invoke must return { state, output, effects } made of JSON values'),
        }
      }
      return { kind: 'returned', text: value, gasUsed, nearMemoryLimit: this.#nearMemoryLimit }
    } catch (error) {
      if (this.#session.needed !== undefined) return { kind: 'needs-rpc', ...this.#session.needed }
      return { kind: 'failed', error: error instanceof ContractError ? error : classify(error, false) }
    } finally {
      input.dispose()
      context.dispose()
    }
  }

  get disposed(): boolean {
    return this.#disposed
  }

  dispose(): void {
    if (this.#disposed) return
    for (const handle of [this.#run, this.#load, this.#entry]) handle.dispose()
    this.#limitHitFn?.dispose()
    this.#disposeRuntime()
  }

  #disposeRuntime(): void {
    this.#disposed = true
    try {
      this.#context.dispose()
      this.#runtime.dispose()
    } catch {
      // A runtime that hit its memory limit may refuse a clean teardown; its memory goes with the module.
    }
  }
}
