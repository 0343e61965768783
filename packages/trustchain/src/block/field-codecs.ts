/**
 * io-ts codecs for the field types of half-blocks and protocol messages: fixed-length byte strings, bounded
 * integers and values of the canonical CBOR model. They are the building blocks of every shape this package
 * accepts from the network or the disk, so that a value's static type and its runtime check come from one place.
 */
import type { CborValue } from '@constellation/crypto'
import * as t from 'io-ts'

/** A `Uint8Array` of exactly `length` bytes. */
export function bytesOfLength(length: number, name = `Bytes${length}`): t.Type<Uint8Array, Uint8Array, unknown> {
  const is = (u: unknown): u is Uint8Array => u instanceof Uint8Array && u.length === length
  return new t.Type(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity)
}

/** A `Uint8Array` of at most `maxLength` bytes. */
export function bytesUpTo(maxLength: number, name = `BytesUpTo${maxLength}`): t.Type<Uint8Array, Uint8Array, unknown> {
  const is = (u: unknown): u is Uint8Array => u instanceof Uint8Array && u.length <= maxLength
  return new t.Type(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity)
}

/** A safe integer within [min, max]; canonical CBOR decodes safe integers as numbers, never as bigints. */
export function integerIn(min: number, max: number, name: string): t.Type<number, number, unknown> {
  const is = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max
  return new t.Type(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity)
}

function isCborValue(u: unknown, depth: number): u is CborValue {
  if (depth > 64) return false
  switch (typeof u) {
    case 'boolean':
    case 'string':
    case 'bigint':
      return true
    case 'number':
      return Number.isFinite(u)
    case 'object': {
      if (u === null || u instanceof Uint8Array) return true
      if (Array.isArray(u)) return u.every((item) => isCborValue(item, depth + 1))
      const proto = Object.getPrototypeOf(u) as unknown
      if (proto !== Object.prototype && proto !== null) return false
      return Object.values(u).every((item) => isCborValue(item, depth + 1))
    }
    default:
      return false
  }
}

/** Any value of the canonical CBOR model (payloads are checked further by their own codec). */
export const CborValueCodec: t.Type<CborValue, CborValue, unknown> = new t.Type<CborValue, CborValue, unknown>(
  'CborValue',
  (u): u is CborValue => isCborValue(u, 0),
  (u, c) => (isCborValue(u, 0) ? t.success(u) : t.failure(u, c)),
  t.identity,
)

/**
 * A record type that refuses unknown keys. `t.exact` would strip them silently, but an extra key changes the
 * encoding and therefore the hash: two different byte strings must never decode to one accepted block.
 */
export function closedRecord<P extends t.Props>(name: string, props: P): t.Type<t.TypeOf<t.TypeC<P>>, t.OutputOf<t.TypeC<P>>, unknown> {
  const open = t.type(props)
  const keys = Object.keys(props)
  const hasOnlyKnownKeys = (u: unknown): boolean =>
    typeof u === 'object' && u !== null && Object.keys(u).every((key) => Object.hasOwn(props, key)) && keys.every((key) => Object.hasOwn(u, key))
  return new t.Type(
    name,
    (u): u is t.TypeOf<t.TypeC<P>> => hasOnlyKnownKeys(u) && open.is(u),
    (u, c) => (hasOnlyKnownKeys(u) ? open.validate(u, c) : t.failure(u, c, `${name} must have exactly the keys ${keys.join(', ')}`)),
    (a) => open.encode(a),
  )
}

/**
 * A record with required keys and optional ones that refuses any other key (an extra key would change an encoding
 * that something hashes).
 */
export function recordWithOptional<R extends t.Props, O extends t.Props>(
  name: string,
  required: R,
  optional: O,
): t.Type<t.TypeOf<t.TypeC<R>> & Partial<t.TypeOf<t.TypeC<O>>>, t.OutputOf<t.TypeC<R>> & Partial<t.OutputOf<t.TypeC<O>>>, unknown> {
  const codec = t.intersection([t.type(required), t.partial(optional)])
  const known = (key: string) => Object.hasOwn(required, key) || Object.hasOwn(optional, key)
  const closed = (u: unknown): boolean =>
    typeof u === 'object' &&
    u !== null &&
    Object.keys(u).every(known) &&
    Object.keys(optional).every((key) => !Object.hasOwn(u, key) || (u as Record<string, unknown>)[key] !== undefined)
  return new t.Type(
    name,
    (u): u is t.TypeOf<t.TypeC<R>> & Partial<t.TypeOf<t.TypeC<O>>> => closed(u) && codec.is(u),
    (u, c) => (closed(u) ? codec.validate(u, c) : t.failure(u, c, `${name} has keys it does not know`)),
    (a) => {
      const out: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(a)) {
        const field = (required as t.Props)[key] ?? (optional as t.Props)[key]
        if (field !== undefined && value !== undefined) out[key] = field.encode(value)
      }
      return out as t.OutputOf<t.TypeC<R>> & Partial<t.OutputOf<t.TypeC<O>>>
    },
  )
}

/** The io-ts errors of a failed decode as short `path: message` lines, for error details. */
export function describeErrors(errors: t.Errors): string[] {
  return errors.slice(0, 8).map((error) => {
    const path = error.context
      .map((entry) => entry.key)
      .filter((key) => key !== '')
      .join('.')
    return `${path === '' ? '$' : path}: ${error.message ?? `expected ${error.context.at(-1)?.type.name ?? 'a valid value'}`}`
  })
}
