/**
 * Direct access to QuickJS's interrupt counter, which is what makes gas both exact and free.
 *
 * QuickJS decrements a per-context counter at every poll (each function call and each backward jump) and calls the
 * runtime's interrupt handler when it reaches zero, then resets it to 10,000. Counting handler calls alone gives gas
 * in units of 10,000 polls with a phase that depends on the sandbox's history. Reading the counter before and after
 * an invocation (and writing it, to fire the handler exactly at the budget) gives the exact number of polls instead,
 * independent of history, at no cost. The counter is a field of the context struct in WebAssembly memory; its offset
 * is found once per module by calibration (run code with a known number of polls and see which field moved by it)
 * and verified by writing it, so a QuickJS build that differs fails loudly at start-up instead of metering wrongly.
 */
import type { QuickJSContext, QuickJSWASMModule } from 'quickjs-emscripten'
import { ContractError, ContractErrorCode } from '../errors.js'

/** Polls between two calls of QuickJS's interrupt handler (JS_INTERRUPT_COUNTER_INIT). */
export const POLLS_PER_INTERRUPT = 10_000

/** How far into the context struct to look for the counter, in bytes. */
const SEARCH_BYTES = 4_096

const offsets = new WeakMap<QuickJSWASMModule, number>()

export function contextPointer(context: QuickJSContext): number {
  return (context as unknown as { ctx: { value: number } }).ctx.value
}

/** Reads and writes one context's interrupt counter. */
export class InterruptCounter {
  readonly #memory: ReturnType<QuickJSWASMModule['getWasmMemory']>
  readonly #index: number
  #view: Int32Array

  constructor(quickjs: QuickJSWASMModule, context: QuickJSContext) {
    this.#memory = quickjs.getWasmMemory()
    this.#view = new Int32Array(this.#memory.buffer)
    this.#index = (contextPointer(context) + counterOffset(quickjs)) >> 2
  }

  #heap(): Int32Array {
    // Growing the WebAssembly memory replaces its buffer; views of the old one read nothing.
    if (this.#view.buffer !== this.#memory.buffer) this.#view = new Int32Array(this.#memory.buffer)
    return this.#view
  }

  read(): number {
    return this.#heap()[this.#index] as number
  }

  write(value: number): void {
    this.#heap()[this.#index] = value
  }
}

function unsupported(why: string): ContractError {
  return new ContractError(ContractErrorCode.SANDBOX_CRASHED, `this QuickJS build cannot be metered: ${why}`)
}

/** The byte offset of the interrupt counter in QuickJS's context struct, calibrated once per module. */
export function counterOffset(quickjs: QuickJSWASMModule): number {
  const known = offsets.get(quickjs)
  if (known !== undefined) return known
  const runtime = quickjs.newRuntime()
  let interrupts = 0
  runtime.setInterruptHandler(() => {
    interrupts++
    return false
  })
  const context = runtime.newContext()
  const loop = context.unwrapResult(context.evalCode('(function (n) { for (let i = 0; i < n; i++) {} })'))
  try {
    const base = contextPointer(context) >> 2
    const snapshot = () => Int32Array.from(new Int32Array(quickjs.getWasmMemory().buffer, base * 4, SEARCH_BYTES / 4))
    const run = (n: number) => {
      const argument = context.newNumber(n)
      context.unwrapResult(context.callFunction(loop, context.undefined, argument)).dispose()
      argument.dispose()
    }
    run(0)
    const s0 = snapshot()
    run(0)
    const s1 = snapshot()
    run(100) // 100 iterations of this loop poll 200 times more than none
    const s2 = snapshot()
    const candidates: number[] = []
    for (let i = 0; i < s0.length; i++) {
      const idle = (s0[i] as number) - (s1[i] as number)
      if (idle > 0 && (s1[i] as number) - (s2[i] as number) - idle === 200 && (s0[i] as number) <= POLLS_PER_INTERRUPT) candidates.push(i * 4)
    }
    const [offset] = candidates
    if (candidates.length !== 1 || offset === undefined) throw unsupported(`found ${candidates.length} candidate counters`)
    // Verify by writing: a counter of 50 must fire the handler within a 100-iteration loop.
    const memory = () => new Int32Array(quickjs.getWasmMemory().buffer)
    memory()[base + offset / 4] = 50
    interrupts = 0
    run(100)
    if (interrupts !== 1) throw unsupported('writing the counter did not move the interrupt')
    offsets.set(quickjs, offset)
    return offset
  } finally {
    loop.dispose()
    context.dispose()
    runtime.dispose()
  }
}
