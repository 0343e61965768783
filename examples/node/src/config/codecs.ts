/**
 * Small io-ts codecs the node's boundaries share (config, genesis, HTTP bodies), and the one way files are read:
 * size first, then JSON, then the codec, with a message that names the file and the first bad field.
 */
import { readFile, stat } from 'node:fs/promises'
import { isLeft } from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { NodeError, type NodeErrorCode } from '../errors.js'

export { type Hex32, Hex32Codec, PortCodec, SafeNonNegativeInteger, SafePositiveInteger } from './value-codecs.js'

/** The first failure of a decode, as `path.to.field: expected Type, got value`. */
export function describeErrors(errors: t.Errors): string {
  const first = errors[0]
  if (first === undefined) return 'invalid value'
  const path = first.context
    .map((entry) => entry.key)
    .filter((key) => key !== '' && !/^\d+$/.test(key))
    .join('.')
  const expected = first.context.at(-1)?.type.name ?? 'a valid value'
  const got = JSON.stringify(first.value)
  return `${path === '' ? 'value' : path}: expected ${expected}, got ${got === undefined ? 'nothing' : got.length > 60 ? `${got.slice(0, 60)}…` : got}`
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Paths of the fields in `given` that `decoded` (an exact codec's output, which drops what it does not know) does
 * not have, in objects and in the items of arrays: `api.prot`, `transfers.2.memo`. A config file or a request that
 * names a field the codec does not know almost always misspelt one, and must not pass as if it had not.
 */
export function unknownFields(given: unknown, decoded: unknown, path = ''): string[] {
  const at = (key: string) => (path === '' ? key : `${path}.${key}`)
  if (Array.isArray(given) && Array.isArray(decoded)) return given.flatMap((item, i) => unknownFields(item, decoded[i], at(String(i))))
  if (!isPlainObject(given) || !isPlainObject(decoded)) return []
  return Object.entries(given).flatMap(([key, value]) => (key in decoded ? unknownFields(value, decoded[key], at(key)) : [at(key)]))
}

export function decodeWith<A, O>(codec: t.Type<A, O, unknown>, value: unknown, code: NodeErrorCode, what: string): A {
  const decoded = codec.decode(value)
  if (isLeft(decoded)) throw new NodeError(code, `${what}: ${describeErrors(decoded.left)}`)
  return decoded.right
}

export function parseJson(text: string, code: NodeErrorCode, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new NodeError(code, `${what} is not valid JSON: ${(error as Error).message}`)
  }
}

export async function decodeJsonFile<A, O>(path: string, codec: t.Type<A, O, unknown>, maxBytes: number, code: NodeErrorCode, what: string): Promise<A> {
  let size: number
  try {
    size = (await stat(path)).size
  } catch (error) {
    throw new NodeError(code, `${what} ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (size > maxBytes) throw new NodeError(code, `${what} ${path} is ${size} bytes, more than the ${maxBytes} allowed`)
  const text = await readFile(path, 'utf8')
  return decodeWith(codec, parseJson(text, code, `${what} ${path}`), code, `${what} ${path}`)
}
