/**
 * Decoding what a client sends — path parameters, query strings and JSON bodies — with io-ts codecs, so every
 * route checks its inputs the same way and a bad one is a 400 that names the field. One rule for every route: a
 * field the route does not know is refused, in a body (by `decodeInput`, with the route's exact codec) as in a
 * query string (by `strictQuery`, which the server applies to every request against the route's declared `query`),
 * and so is a key given twice (a query key here, a JSON key in api-server.ts). Query values arrive as strings: the
 * codecs here read integers and hex from them strictly (no `parseInt` leniency: `12abc` is not 12).
 */
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describeErrors, unknownFields } from '../config/codecs.js'
import { ApiError, ApiErrorCode } from './api-error.js'

/** Which part of the request a value came from, for the error message. */
export type InputPart = 'path' | 'query' | 'body' | 'header'

/**
 * Decodes one part of a request; a failure is a 400 naming the first bad field, and so is a field the codec does not
 * know (an exact codec drops it: without this check a misspelt optional field would pass as if absent).
 */
export function decodeInput<A, O>(codec: t.Type<A, O, unknown>, value: unknown, part: InputPart): A {
  const decoded = codec.decode(value)
  if (isLeft(decoded)) throw new ApiError(ApiErrorCode.INVALID_REQUEST, `invalid ${part}: ${describeErrors(decoded.left)}`)
  const unknown = unknownFields(value, decoded.right)
  if (unknown.length > 0) throw new ApiError(ApiErrorCode.INVALID_REQUEST, `invalid ${part}: unknown field ${unknown.join(', ')}`, { fields: unknown })
  return decoded.right
}

/**
 * A query string checked against the parameters a route knows (`props`, each optional): a parameter given twice or
 * not in `props` is a 400 naming it and the known ones, as is a bad value.
 */
export function strictQuery<P extends t.Props>(props: P, query: URLSearchParams): t.TypeOf<t.PartialC<P>> {
  const object = queryObject(query)
  const unknown = Object.keys(object).filter((key) => !Object.hasOwn(props, key))
  if (unknown.length > 0)
    throw new ApiError(
      ApiErrorCode.INVALID_REQUEST,
      `invalid query: unknown parameter ${unknown.join(', ')} (known: ${Object.keys(props).join(', ') || 'none'})`,
    )
  return decodeInput(t.partial(props), object, 'query')
}

/** A query string as an object of its first values, ready for a codec (a repeated key must not slip past one). */
export function queryObject(query: URLSearchParams): Record<string, string> {
  const object: Record<string, string> = {}
  for (const [key, value] of query) {
    if (key in object) throw new ApiError(ApiErrorCode.INVALID_REQUEST, `invalid query: ${key} is given more than once`)
    object[key] = value
  }
  return object
}

/** A decimal integer in a query string, as a number: digits only (an optional leading minus), a safe integer. */
export const IntegerFromString = new t.Type<number, string, unknown>(
  'IntegerString',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u),
  (u, c) => {
    if (typeof u !== 'string' || !/^-?\d{1,16}$/.test(u)) return t.failure(u, c)
    const n = Number(u)
    return Number.isSafeInteger(n) ? t.success(n) : t.failure(u, c)
  },
  String,
)

/** An integer from a query string within [min, max]. */
export function boundedInteger(min: number, max: number, name: string): t.Type<number, string, unknown> {
  return t.refinement(IntegerFromString, (n) => n >= min && n <= max, name)
}

/** Lower-case hex of any even length (encoded blocks, proofs), as a string; decode it with `fromHex` after. */
export const HexString = t.refinement(t.string, (s) => s.length % 2 === 0 && /^[0-9a-f]*$/.test(s), 'HexString')
