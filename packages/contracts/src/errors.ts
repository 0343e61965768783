/**
 * Typed errors of @constellation/contracts.
 *
 * Every failure of a contract, its sandbox, its host or a service pipeline is a `ContractError` whose `code` says
 * what went wrong, so hosts and callers branch on the code (retry, blame the host, refuse the input) instead of
 * parsing messages. Failures that a re-execution reproduces exactly are `deterministic`; the others depend on the
 * machine (memory, wall clock, network) and never count as evidence against a host.
 */
import { CodedError } from '@constellation/interface'

export const ContractErrorCode = {
  /** An argument has the wrong type, length or range. */
  INVALID_INPUT: 'CONTRACT_INVALID_INPUT',
  /** The contract's code does not parse. */
  SYNTAX_ERROR: 'CONTRACT_SYNTAX_ERROR',
  /** The code parses but does not define a top-level `function invoke(state, input, context)`. */
  NOT_A_CONTRACT: 'CONTRACT_NOT_A_CONTRACT',
  /** The SHA-256 of the code is not the contract id it was presented under. */
  CODE_HASH_MISMATCH: 'CONTRACT_CODE_HASH_MISMATCH',
  /** The contract threw (or its code threw while loading). */
  CONTRACT_THREW: 'CONTRACT_THREW',
  /** The invocation used more gas (interpreter polls) than its budget. */
  OUT_OF_GAS: 'CONTRACT_OUT_OF_GAS',
  /** The sandbox's memory limit was reached. */
  OUT_OF_MEMORY: 'CONTRACT_OUT_OF_MEMORY',
  /** The sandbox's stack limit was reached (deep recursion). */
  STACK_OVERFLOW: 'CONTRACT_STACK_OVERFLOW',
  /** The invocation ran past the wall-clock guard; its worker thread was terminated. */
  TIMEOUT: 'CONTRACT_TIMEOUT',
  /** The new state's encoding is larger than the limit. */
  STATE_TOO_LARGE: 'CONTRACT_STATE_TOO_LARGE',
  /** The input (or its context) is larger than the limit. */
  INPUT_TOO_LARGE: 'CONTRACT_INPUT_TOO_LARGE',
  /** The output or the effects are larger than the limit. */
  OUTPUT_TOO_LARGE: 'CONTRACT_OUTPUT_TOO_LARGE',
  /** The input does not fit the contract's input type. */
  INPUT_INVALID: 'CONTRACT_INPUT_INVALID',
  /** The output does not fit the contract's output type. */
  OUTPUT_INVALID: 'CONTRACT_OUTPUT_INVALID',
  /** The new state does not fit the contract's state type, or is not a JSON value. */
  STATE_INVALID: 'CONTRACT_STATE_INVALID',
  /** The contract returned something other than `{ state, output, effects? }`, or malformed effects. */
  RESULT_MALFORMED: 'CONTRACT_RESULT_MALFORMED',
  /** The contract called an endpoint its host does not allow. */
  RPC_NOT_ALLOWED: 'CONTRACT_RPC_NOT_ALLOWED',
  /** An RPC call failed (HTTP status, unreadable body) or its recorded answer does not match the replayed call. */
  RPC_FAILED: 'CONTRACT_RPC_FAILED',
  /** An RPC call took longer than its timeout. */
  RPC_TIMEOUT: 'CONTRACT_RPC_TIMEOUT',
  /** An RPC response is larger than the limit, or the invocation made too many calls. */
  RPC_TOO_LARGE: 'CONTRACT_RPC_TOO_LARGE',
  /** No contract with this id is deployed on the host. */
  UNKNOWN_CONTRACT: 'CONTRACT_UNKNOWN_CONTRACT',
  /** The invoke does not pay the host's advertised price. */
  PAYMENT_REQUIRED: 'CONTRACT_PAYMENT_REQUIRED',
  /** A deploy or invoke transaction is malformed, out of order, or does not match the host's execution. */
  TRANSACTION_REJECTED: 'CONTRACT_TRANSACTION_REJECTED',
  /** Two services do not line up in a pipeline (the output type of one is not accepted by the next). */
  TYPE_MISMATCH: 'CONTRACT_TYPE_MISMATCH',
  /** A fraud proof does not prove a fault. */
  INVALID_FRAUD_PROOF: 'CONTRACT_INVALID_FRAUD_PROOF',
  /** The host or executor was used after `close()`. */
  CLOSED: 'CONTRACT_CLOSED',
  /** The sandbox worker died for a reason other than the wall-clock guard. */
  SANDBOX_CRASHED: 'CONTRACT_SANDBOX_CRASHED',
} as const

export type ContractErrorCode = (typeof ContractErrorCode)[keyof typeof ContractErrorCode]

/** Failures that depend on the machine rather than on the code, state and input: never evidence of fraud. */
const MACHINE_DEPENDENT: ReadonlySet<ContractErrorCode> = new Set<ContractErrorCode>([
  ContractErrorCode.OUT_OF_MEMORY,
  ContractErrorCode.STACK_OVERFLOW,
  ContractErrorCode.TIMEOUT,
  ContractErrorCode.SANDBOX_CRASHED,
  ContractErrorCode.CLOSED,
  ContractErrorCode.RPC_TIMEOUT,
])

export class ContractError extends CodedError<ContractErrorCode> {
  override readonly name = 'ContractError'

  /** True when a re-execution of the same invocation reproduces this failure exactly. */
  get deterministic(): boolean {
    return !MACHINE_DEPENDENT.has(this.code)
  }
}

export function isContractError(error: unknown, code?: ContractErrorCode): error is ContractError {
  return error instanceof ContractError && (code === undefined || error.code === code)
}

/** A `ContractError` from anything thrown: contract errors pass through, others become `fallback`. */
export function toContractError(error: unknown, fallback: ContractErrorCode = ContractErrorCode.INVALID_INPUT): ContractError {
  if (error instanceof ContractError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new ContractError(fallback, message, {}, { cause: error })
}
