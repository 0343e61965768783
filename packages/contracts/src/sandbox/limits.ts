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

/**
 * The size limits are part of the protocol: a result within them is valid on every node. A host may be stricter
 * (it then refuses more invocations) but never looser, and a verifier stricter than the protocol cannot prove that a
 * result is too large (`reexecute` is inconclusive then).
 */
export const PROTOCOL_SIZE_LIMITS = Object.freeze({
  maxStateBytes: 1 << 20,
  maxInputBytes: 64 << 10,
  maxOutputBytes: 64 << 10,
  maxRpcCalls: 4,
})

export type SizeLimit = keyof typeof PROTOCOL_SIZE_LIMITS

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = Object.freeze({
  gas: 10_000_000,
  memoryBytes: 32 << 20,
  stackBytes: 256 << 10,
  ...PROTOCOL_SIZE_LIMITS,
  wallClockMs: 2_000,
})

/** Bounds of each limit: below the minimum the sandbox cannot even load its prelude; stacks past the maximum overrun the engine's own. */
const BOUNDS: Readonly<Record<keyof SandboxLimits, readonly [number, number]>> = {
  gas: [1, Number.MAX_SAFE_INTEGER],
  memoryBytes: [4 << 20, 1 << 30],
  stackBytes: [32 << 10, 4 << 20],
  maxStateBytes: [64, PROTOCOL_SIZE_LIMITS.maxStateBytes],
  maxInputBytes: [64, PROTOCOL_SIZE_LIMITS.maxInputBytes],
  maxOutputBytes: [64, PROTOCOL_SIZE_LIMITS.maxOutputBytes],
  maxRpcCalls: [0, PROTOCOL_SIZE_LIMITS.maxRpcCalls],
  wallClockMs: [1, 3_600_000],
}

/** Fills in defaults and checks every limit is a safe integer within its bounds (size limits at most the protocol's). */
export function sandboxLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...overrides }
  for (const [name, [least, most]] of Object.entries(BOUNDS)) {
    const value = limits[name as keyof SandboxLimits]
    if (!Number.isSafeInteger(value) || value < least || value > most) {
      throw new ContractError(ContractErrorCode.INVALID_INPUT, `limit ${name} must be an integer from ${least} to ${most}, got ${String(value)}`, {
        limit: name,
      })
    }
  }
  const unknown = Object.keys(limits).filter((name) => !(name in BOUNDS))
  if (unknown.length > 0) throw new ContractError(ContractErrorCode.INVALID_INPUT, `unknown limits: ${unknown.join(', ')}`)
  return Object.freeze(limits)
}
