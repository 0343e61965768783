/**
 * Checking what a contract returned: the JSON text of `{ state, output, effects }` becomes a checked, canonical
 * result, or a typed error saying which limit or type it broke.
 */
import type { Crypto } from '@constellation/crypto'
import { ContractError, ContractErrorCode } from '../errors.js'
import { encodeJson, inCanonicalOrder, type JsonValue, parseJson } from '../json/json-value.js'
import { type ContractType, decodeWith } from '../types/contract-type.js'
import type { ExecutionResult } from './executor.js'
import type { SandboxLimits } from './limits.js'

export interface CheckedResult extends ExecutionResult {
  /** The state's canonical JSON text when its keys are already in canonical order (no decoding needed), else undefined. */
  readonly stateText: string | undefined
}

/** Checks a returned result against the contract's output and state types and the size limits, and encodes the new state. */
export function checkResult(
  crypto: Crypto,
  limits: SandboxLimits,
  types: { readonly output: ContractType<unknown>; readonly state: ContractType<unknown> },
  text: string,
  gasUsed: number,
): CheckedResult {
  if (text.length > limits.maxStateBytes + limits.maxOutputBytes) {
    throw new ContractError(ContractErrorCode.STATE_TOO_LARGE, `the result's JSON text of ${text.length} characters exceeds the limits`)
  }
  const result = parseJson(text, ContractErrorCode.RESULT_MALFORMED, 'the result') as { state: JsonValue; output: JsonValue; effects: JsonValue }
  const output = decodeWith(types.output, result.output, ContractErrorCode.OUTPUT_INVALID, 'the output') as JsonValue
  const outputSize = JSON.stringify(result.output).length + JSON.stringify(result.effects).length
  if (outputSize > limits.maxOutputBytes) {
    throw new ContractError(ContractErrorCode.OUTPUT_TOO_LARGE, `output and effects of ${outputSize} characters exceed ${limits.maxOutputBytes}`)
  }
  if (!Array.isArray(result.effects)) throw new ContractError(ContractErrorCode.RESULT_MALFORMED, 'effects must be an array')
  decodeWith(types.state, result.state, ContractErrorCode.STATE_INVALID, 'the new state')
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
