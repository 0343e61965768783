/**
 * A contract: JavaScript source defining `function invoke(state, input, context)` that returns
 * `{ state, output, effects }`, with a type signature (contract types for input, output and state) and an initial
 * state. Its id is the SHA-256 of its code, so the code is notarised by the deploy transaction that carries it.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { ContractError, ContractErrorCode } from '../errors.js'
import type { SignatureDescription } from '../types/contract-type.js'
import { type ContractType, decodeWith } from '../types/contract-type.js'

export interface ContractSignature<I, O, S> {
  readonly input: ContractType<I>
  readonly output: ContractType<O>
  readonly state: ContractType<S>
}

export interface ContractDefinition<I, O, S> {
  readonly code: string
  readonly signature: ContractSignature<I, O, S>
  readonly initialState: S
}

/** The context an invocation sees: time and randomness come from the invoking transaction, never the host. */
export interface InvocationContext {
  /** Hex public key of the caller. */
  readonly caller: string
  /** Milliseconds since the epoch, as the caller's transaction states it. */
  readonly timestamp: number
  /** Hex of 32 bytes the caller chose; contracts derive their randomness from it. */
  readonly seed: string
  /** How many invocations of this contract were committed before this one. */
  readonly invocation: number
}

export function defineContract<I, O, S>(definition: {
  code: string
  input: ContractType<I>
  output: ContractType<O>
  state: ContractType<S>
  initialState: S
}): ContractDefinition<I, O, S> {
  if (typeof definition.code !== 'string' || definition.code === '') {
    throw new ContractError(ContractErrorCode.INVALID_INPUT, 'a contract needs its code as a non-empty string')
  }
  const signature = { input: definition.input, output: definition.output, state: definition.state }
  const initialState = decodeWith(definition.state, definition.initialState, ContractErrorCode.STATE_INVALID, 'the initial state')
  return Object.freeze({ code: definition.code, signature, initialState })
}

/** The contract id: hex SHA-256 of the code's UTF-8 bytes. */
export function contractId(crypto: Crypto, code: string): string {
  return toHex(crypto.sha256(new TextEncoder().encode(code)))
}

export function describeSignature(signature: ContractSignature<unknown, unknown, unknown>): SignatureDescription {
  return { input: signature.input.description, output: signature.output.description, state: signature.state.description }
}
