/**
 * Limits of one invocation in the sandbox. Gas is counted in interpreter polls (QuickJS checks for interrupts at
 * every function call and backward jump), so the same code, state and input always use the same gas.
 */
import { ContractError, ContractErrorCode } from '../errors.js'

export interface SandboxLimits {
  /** Gas budget of one invocation, in interpreter polls (function calls and loop iterations). */
  readonly gas: number
  /** Heap of one contract's sandbox, in bytes. */
  readonly memoryBytes: number
  /** Stack of one contract's sandbox, in bytes (deep recursion fails with STACK_OVERFLOW). */
  readonly stackBytes: number
  /** Largest canonical encoding of a contract's state. */
  readonly maxStateBytes: number
  /** Largest JSON text of an input (and of its context). */
  readonly maxInputBytes: number
  /** Largest JSON text of an output with its effects. */
  readonly maxOutputBytes: number
  /** Most RPC calls one invocation may make. */
  readonly maxRpcCalls: number
  /** Wall-clock guard of one invocation in a worker thread, in milliseconds. */
  readonly wallClockMs: number
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = Object.freeze({
  gas: 10_000_000,
  memoryBytes: 32 << 20,
  stackBytes: 256 << 10,
  maxStateBytes: 1 << 20,
  maxInputBytes: 64 << 10,
  maxOutputBytes: 64 << 10,
  maxRpcCalls: 4,
  wallClockMs: 2_000,
})

/** Fills in defaults and checks every limit is a positive safe integer. */
export function sandboxLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...overrides }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ContractError(ContractErrorCode.INVALID_INPUT, `limit ${name} must be a non-negative safe integer, got ${String(value)}`)
    }
  }
  return Object.freeze(limits)
}
