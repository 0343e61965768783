/**
 * Contract types: an io-ts codec (static type + run-time check) paired with a serialisable description of the same
 * shape, so that a type signature can travel on chain inside a deploy transaction and be rebuilt into a codec by
 * any node (`typeFromDescription`). Descriptions are also what pipelines compare at run time (`isAssignable`).
 *
 * Only JSON shapes are describable, because contract values cross the sandbox as JSON.
 */
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ContractError, ContractErrorCode } from '../errors.js'
import { isJsonValue, type JsonValue } from '../json/json-value.js'

export type TypeDescription =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'null' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'integer' }
  | { readonly kind: 'number' }
  | { readonly kind: 'string' }
  | { readonly kind: 'literal'; readonly value: string | number | boolean }
  | { readonly kind: 'array'; readonly items: TypeDescription }
  | { readonly kind: 'record'; readonly values: TypeDescription }
  | { readonly kind: 'struct'; readonly fields: { readonly [name: string]: TypeDescription } }
  | { readonly kind: 'union'; readonly members: readonly TypeDescription[] }

/** A shape of contract data: its codec and its description. */
/** The serialisable type signature of a contract: its input, output and state types. */
export interface SignatureDescription {
  readonly input: TypeDescription
  readonly output: TypeDescription
  readonly state: TypeDescription
}

export interface ContractType<A> {
  readonly description: TypeDescription
  /** Decoding only: contract values are JSON already, so nothing needs encoding (and the type stays covariant). */
  readonly codec: t.Decoder<unknown, A> & { readonly is: t.Is<A> }
}

/** A codec's first error as `path: expected Type`, for error details. */
export function describeErrors(errors: t.Errors): string[] {
  return errors.slice(0, 4).map((error) => {
    const path = error.context
      .map((entry) => entry.key)
      .filter((key) => key !== '')
      .join('.')
    return `${path === '' ? '$' : path}: ${error.message ?? `expected ${error.context.at(-1)?.type.name ?? 'a valid value'}`}`
  })
}

/** Decodes `value` with a contract type, or throws a `ContractError` with `code`. */
export function decodeWith<A>(type: ContractType<A>, value: unknown, code: ContractErrorCode, what: string): A {
  const decoded = type.codec.decode(value)
  if (isLeft(decoded)) {
    const errors = describeErrors(decoded.left)
    throw new ContractError(code, `${what} does not fit ${type.codec.name}: ${errors.join('; ')}`, { errors })
  }
  return decoded.right
}

const integerCodec = new t.Type<number, number, unknown>(
  'integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u),
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)
const jsonCodec = new t.Type<JsonValue, JsonValue, unknown>('unknown', isJsonValue, (u, c) => (isJsonValue(u) ? t.success(u) : t.failure(u, c)), t.identity)
/** Finite, and exact when integral: an unsafe integer would come back from canonical CBOR as a bigint. */
const isJsonNumber = (u: unknown): u is number => typeof u === 'number' && Number.isFinite(u) && (!Number.isInteger(u) || Number.isSafeInteger(u))
const finiteNumber = new t.Type<number, number, unknown>('number', isJsonNumber, (u, c) => (isJsonNumber(u) ? t.success(u) : t.failure(u, c)), t.identity)

/**
 * A record codec that refuses unknown keys instead of stripping them (as `t.exact` would): a contract must see
 * exactly what the caller signed, and two encodings must never decode to one accepted payload.
 */
export function closedRecord<P extends t.Props>(name: string, props: P): t.Type<t.TypeOf<t.TypeC<P>>, t.OutputOf<t.TypeC<P>>, unknown> {
  const open = t.type(props)
  const keys = Object.keys(props)
  const closed = (u: unknown): boolean => typeof u === 'object' && u !== null && Object.keys(u).every((key) => Object.hasOwn(props, key))
  return new t.Type(
    name,
    (u): u is t.TypeOf<t.TypeC<P>> => closed(u) && open.is(u),
    (u, c) => (closed(u) ? open.validate(u, c) : t.failure(u, c, `only the keys ${keys.join(', ')} are allowed`)),
    (a) => open.encode(a),
  )
}

function make<A>(description: TypeDescription, codec: t.Decoder<unknown, A> & { readonly is: t.Is<A> }): ContractType<A> {
  return Object.freeze({ description, codec })
}

type Fields = { readonly [name: string]: ContractType<unknown> }
type StructOf<F extends Fields> = { [K in keyof F]: F[K] extends ContractType<infer A> ? A : never }
type MemberOf<M extends readonly ContractType<unknown>[]> = M[number] extends ContractType<infer A> ? A : never

/** Builders of contract types; each yields a codec and the description of the same shape. */
export const Types = {
  unknown: make<JsonValue>({ kind: 'unknown' }, jsonCodec),
  null: make<null>({ kind: 'null' }, t.null),
  boolean: make<boolean>({ kind: 'boolean' }, t.boolean),
  integer: make<number>({ kind: 'integer' }, integerCodec),
  number: make<number>({ kind: 'number' }, finiteNumber),
  string: make<string>({ kind: 'string' }, t.string),
  literal: <V extends string | number | boolean>(value: V): ContractType<V> =>
    make<V>({ kind: 'literal', value }, t.literal(value) as unknown as t.Type<V, V, unknown>),
  array: <A>(items: ContractType<A>): ContractType<A[]> => make({ kind: 'array', items: items.description }, t.array(items.codec as t.Type<A, A, unknown>)),
  record: <A>(values: ContractType<A>): ContractType<Record<string, A>> =>
    make({ kind: 'record', values: values.description }, t.record(t.string, values.codec as t.Type<A, A, unknown>)),
  struct: <F extends Fields>(fields: F): ContractType<StructOf<F>> => {
    const props: Record<string, t.Mixed> = {}
    const descriptions: Record<string, TypeDescription> = {}
    for (const [name, field] of Object.entries(fields)) {
      props[name] = field.codec as t.Mixed
      descriptions[name] = field.description
    }
    const codec = closedRecord(
      `{ ${Object.keys(props)
        .map((key) => `${key}: ${(props[key] as t.Mixed).name}`)
        .join(', ')} }`,
      props,
    ) as t.Type<StructOf<F>, StructOf<F>, unknown>
    return make({ kind: 'struct', fields: descriptions }, codec)
  },
  union: <M extends readonly [ContractType<unknown>, ContractType<unknown>, ...ContractType<unknown>[]]>(...members: M): ContractType<MemberOf<M>> => {
    const codecs = members.map((member) => member.codec) as unknown as [t.Mixed, t.Mixed, ...t.Mixed[]]
    return make(
      { kind: 'union', members: members.map((member) => member.description) },
      t.union(codecs) as t.Decoder<unknown, MemberOf<M>> & { is: t.Is<MemberOf<M>> },
    )
  },
} as const

const DescriptionCodec: t.Type<TypeDescription, TypeDescription, unknown> = t.recursion<TypeDescription>(
  'TypeDescription',
  (): t.Type<TypeDescription> =>
    t.union([
      t.type({ kind: t.keyof({ unknown: null, null: null, boolean: null, integer: null, number: null, string: null }) }),
      t.type({ kind: t.literal('literal'), value: t.union([t.string, finiteNumber, t.boolean]) }),
      t.type({ kind: t.literal('array'), items: DescriptionCodec }),
      t.type({ kind: t.literal('record'), values: DescriptionCodec }),
      t.type({ kind: t.literal('struct'), fields: t.record(t.string, DescriptionCodec) }),
      t.type({ kind: t.literal('union'), members: t.array(DescriptionCodec) }),
    ]) as unknown as t.Type<TypeDescription>,
)

/** Rebuilds a contract type from a description that arrived from outside (a deploy transaction). */
export function typeFromDescription(value: unknown, depth = 0): ContractType<unknown> {
  if (depth > 16) throw new ContractError(ContractErrorCode.INVALID_INPUT, 'type description nests deeper than 16')
  if (depth === 0 && !DescriptionCodec.is(value)) throw new ContractError(ContractErrorCode.INVALID_INPUT, 'not a type description')
  const description = value as TypeDescription
  switch (description.kind) {
    case 'unknown':
    case 'null':
    case 'boolean':
    case 'integer':
    case 'number':
    case 'string':
      return Types[description.kind] as ContractType<unknown>
    case 'literal':
      return Types.literal(description.value)
    case 'array':
      return Types.array(typeFromDescription(description.items, depth + 1))
    case 'record':
      return Types.record(typeFromDescription(description.values, depth + 1))
    case 'struct': {
      const fields: Record<string, ContractType<unknown>> = {}
      for (const [name, field] of Object.entries(description.fields)) fields[name] = typeFromDescription(field, depth + 1)
      return Types.struct(fields) as ContractType<unknown>
    }
    case 'union': {
      const [first, second, ...rest] = description.members.map((member) => typeFromDescription(member, depth + 1))
      if (first === undefined) throw new ContractError(ContractErrorCode.INVALID_INPUT, 'a union needs at least one member')
      return second === undefined ? first : Types.union(first, second, ...rest)
    }
  }
}

function sameLiteral(a: TypeDescription, value: string | number | boolean): boolean {
  return a.kind === 'literal' && a.value === value
}

/**
 * Whether every value described by `from` is also described by `to` (structural subtyping on descriptions). It is
 * conservative: when unsure it answers false, and a pipeline refuses the chain.
 */
export function isAssignable(from: TypeDescription, to: TypeDescription): boolean {
  if (to.kind === 'unknown') return true
  if (from.kind === 'union') return from.members.every((member) => isAssignable(member, to))
  if (to.kind === 'union') return to.members.some((member) => isAssignable(from, member))
  switch (to.kind) {
    case 'null':
    case 'boolean':
    case 'string':
    case 'integer':
      return (
        from.kind === to.kind ||
        (from.kind === 'literal' &&
          typeof from.value === (to.kind === 'integer' ? 'number' : to.kind) &&
          (to.kind !== 'integer' || Number.isSafeInteger(from.value)))
      )
    case 'number':
      return from.kind === 'number' || from.kind === 'integer' || (from.kind === 'literal' && typeof from.value === 'number')
    case 'literal':
      return sameLiteral(from, to.value)
    case 'array':
      return from.kind === 'array' && isAssignable(from.items, to.items)
    case 'record':
      if (from.kind === 'record') return isAssignable(from.values, to.values)
      return from.kind === 'struct' && Object.values(from.fields).every((field) => isAssignable(field, to.values))
    case 'struct':
      // Structs are closed: the source must have exactly the target's fields, each assignable.
      return (
        from.kind === 'struct' &&
        Object.keys(from.fields).length === Object.keys(to.fields).length &&
        Object.entries(to.fields).every(([name, field]) => from.fields[name] !== undefined && isAssignable(from.fields[name], field))
      )
  }
}
