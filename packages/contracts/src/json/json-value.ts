/**
 * The value model of contract state, input and output: JSON values (plain objects, arrays, strings, booleans, null
 * and finite numbers whose integers are safe), which cross the sandbox boundary as JSON text and go on chain as
 * canonical CBOR.
 *
 * One invariant keeps warm and cold execution identical: a sandbox always holds its state as it would be rebuilt
 * from the canonical encoding (`canonicalJson`), so object keys come in the same order and no aliasing or
 * `undefined` survives between invocations, whichever node runs the contract and whenever it was (re)loaded.
 */
import { type CborValue, decodeCanonical, encodeCanonical } from '@constellation/crypto'
import { ContractError, ContractErrorCode } from '../errors.js'

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue }

/** The deepest nesting of arrays and objects accepted in state, input and output. */
export const MAX_JSON_DEPTH = 32

/** Why `value` is not a JSON value of the model, or undefined when it is. */
export function jsonProblem(value: unknown, depth = 0, path = '$'): string | undefined {
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return undefined
    case 'number':
      if (!Number.isFinite(value)) return `${path} is not a finite number`
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) return `${path} is an integer outside the safe range`
      return undefined
    case 'object': {
      if (value === null) return undefined
      if (depth >= MAX_JSON_DEPTH) return `${path} nests deeper than ${MAX_JSON_DEPTH}`
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const problem = jsonProblem(value[i], depth + 1, `${path}[${i}]`)
          if (problem !== undefined) return problem
        }
        return undefined
      }
      const proto = Object.getPrototypeOf(value) as unknown
      if (proto !== Object.prototype && proto !== null) return `${path} is not a plain object`
      for (const [key, item] of Object.entries(value)) {
        const problem = jsonProblem(item, depth + 1, `${path}.${key}`)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    default:
      return `${path} is a ${typeof value}, which JSON cannot carry`
  }
}

export function isJsonValue(value: unknown): value is JsonValue {
  return jsonProblem(value) === undefined
}

/** Parses JSON text that came out of a sandbox, refusing anything outside the value model. */
export function parseJson(text: string, code: ContractErrorCode, what: string): JsonValue {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new ContractError(code, `${what} is not JSON`, {}, { cause })
  }
  const problem = jsonProblem(value)
  if (problem !== undefined) throw new ContractError(code, `${what}: ${problem}`, { problem })
  return value as JsonValue
}

/** A JSON value as a value of the CBOR model (every JSON value is one; only the readonly-ness differs). */
export function asCbor(value: JsonValue | PlainRecord): CborValue {
  return value as CborValue
}

/** Records of plain data whose fields are CBOR values (payloads built in this package). */
type PlainRecord = { readonly [key: string]: unknown }

/** Canonical CBOR of a JSON value: what is hashed and what goes on chain. */
export function encodeJson(value: JsonValue, maxBytes: number): Uint8Array {
  return encodeCanonical(asCbor(value), { maxBytes, maxDepth: MAX_JSON_DEPTH + 1 })
}

/** Decodes canonical CBOR back into a JSON value; sizes are checked before decoding. */
export function decodeJson(bytes: Uint8Array, maxBytes: number): JsonValue {
  if (bytes.length > maxBytes) {
    throw new ContractError(ContractErrorCode.STATE_TOO_LARGE, `encoded value of ${bytes.length} bytes exceeds ${maxBytes}`)
  }
  let value: unknown
  try {
    value = decodeCanonical(bytes, { maxBytes, maxDepth: MAX_JSON_DEPTH + 1 })
  } catch (cause) {
    throw new ContractError(ContractErrorCode.STATE_INVALID, 'encoded value is not canonical CBOR', {}, { cause })
  }
  const problem = jsonProblem(value)
  if (problem !== undefined) throw new ContractError(ContractErrorCode.STATE_INVALID, `encoded value: ${problem}`, { problem })
  return value as JsonValue
}

/**
 * The JSON text of a value as a cold node rebuilds it from its canonical encoding: keys in canonical CBOR order
 * (JavaScript then lists integer-like keys first, in every engine alike).
 */
export function canonicalJson(encoded: Uint8Array, maxBytes: number): string {
  return JSON.stringify(decodeJson(encoded, maxBytes))
}

/**
 * A value with its keys listed as a node that receives it on chain (canonical CBOR) lists them. Contracts see inputs
 * in this form, so a host and a verifier that decoded the record from a block give them the same object.
 */
export function canonicalForm(value: JsonValue, maxBytes: number, code: ContractErrorCode, what: string): JsonValue {
  if (inCanonicalOrder(value)) return value
  let encoded: Uint8Array
  try {
    encoded = encodeJson(value, maxBytes)
  } catch (cause) {
    throw new ContractError(code, `${what} encodes to more than ${maxBytes} bytes`, {}, { cause })
  }
  return decodeJson(encoded, maxBytes)
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/
const utf8 = new TextEncoder()
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII on purpose, control characters included
const ASCII = /^[\x00-\x7f]*$/

/** Canonical CBOR order of two text keys: shorter encoding first, then bytewise. */
function cborKeyOrder(a: string, b: string): number {
  // ASCII keys (the usual case) compare as their bytes without encoding them.
  if (ASCII.test(a) && ASCII.test(b)) return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
  const x = utf8.encode(a)
  const y = utf8.encode(b)
  if (x.length !== y.length) return x.length - y.length
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number)
  return 0
}

function isArrayIndex(key: string): boolean {
  return ARRAY_INDEX.test(key) && Number(key) < 4_294_967_295
}

/**
 * Whether every object in `value` lists its keys as an object rebuilt from the canonical encoding would: array
 * indices first in numeric order (JavaScript's rule), the other keys in canonical CBOR order. When it does, the
 * value's JSON text is already its canonical JSON text, and a sandbox holding it need not reload it.
 */
export function inCanonicalOrder(value: JsonValue): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (Array.isArray(value)) return value.every(inCanonicalOrder)
  let previous: string | undefined
  for (const key of Object.keys(value)) {
    if (previous !== undefined && !isArrayIndex(previous) && !isArrayIndex(key) && cborKeyOrder(previous, key) > 0) return false
    previous = key
    if (!inCanonicalOrder((value as Record<string, JsonValue>)[key] as JsonValue)) return false
  }
  return true
}
