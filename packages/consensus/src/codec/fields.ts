/**
 * io-ts field codecs for consensus values that cross a boundary (network frames, certificates on disk, proofs
 * handed to third parties): fixed-length byte strings, bounded integers, bounded lists and closed records, so that
 * every shape's static type and runtime check come from one definition.
 */
import { type CborValue, decodeCanonical, fromHex, toHex } from '@constellation/crypto'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'

// The field codecs trustchain's own shapes are built from; consensus shapes use the same ones.
export { bytesOfLength, bytesUpTo, closedRecord, integerIn, recordWithOptional } from '@constellation/trustchain'

/** An array of at most `max` items of `item`; the length is checked before any item is looked at. */
export function listUpTo<C extends t.Mixed>(item: C, max: number, name: string): t.Type<t.TypeOf<C>[], t.OutputOf<C>[], unknown> {
  const array = t.array(item)
  return new t.Type(
    name,
    (u): u is t.TypeOf<C>[] => Array.isArray(u) && u.length <= max && array.is(u),
    (u, c) => (Array.isArray(u) && u.length <= max ? array.validate(u, c) : t.failure(u, c, `${name} must be an array of at most ${max} items`)),
    (a) => array.encode(a),
  )
}

/** Lowercase hex of a 32-byte public key: how peers and facilitators are named. */
export const PeerIdCodec = new t.Type<string, string, unknown>(
  'PeerId',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{64}$/.test(u),
  (u, c) => (typeof u === 'string' && /^[0-9a-f]{64}$/.test(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)

/**
 * A peer id (lowercase hex of a 32-byte public key) in memory, its 32 bytes on the wire: for lists that name many
 * peers, such as a round's ledger entries, where hex would double what every node receives.
 */
export const PeerIdBytesCodec = new t.Type<string, Uint8Array, unknown>(
  'PeerIdBytes',
  (u): u is string => PeerIdCodec.is(u),
  (u, c) => (u instanceof Uint8Array && u.length === 32 ? t.success(toHex(u)) : t.failure(u, c, 'a peer id is 32 bytes')),
  (a) => fromHex(a),
)

/** Decodes canonical CBOR bytes into `codec`'s type, sizes first; every failure is a MALFORMED_MESSAGE error. */
export function decodeWith<A>(codec: t.Type<A, unknown, unknown>, bytes: unknown, maxBytes: number, what: string): A {
  if (!(bytes instanceof Uint8Array)) throw malformed(`${what} must be given as a Uint8Array`)
  if (bytes.length > maxBytes) throw malformed(`${what} is ${bytes.length} bytes, over the limit of ${maxBytes}`, { size: bytes.length, maxBytes })
  let value: CborValue
  try {
    value = decodeCanonical(bytes, { maxBytes })
  } catch (cause) {
    throw malformed(`${what} is not canonical CBOR`, {}, cause)
  }
  return validateWith(codec, value, what)
}

/** Checks an already decoded value against `codec`; failures are MALFORMED_MESSAGE errors. */
export function validateWith<A>(codec: t.Type<A, unknown, unknown>, value: unknown, what: string): A {
  const result = codec.decode(value)
  if (isLeft(result)) {
    const paths = result.left.slice(0, 4).map(
      (error) =>
        error.context
          .map((entry) => entry.key)
          .filter((key) => key !== '')
          .join('.') || '$',
    )
    throw malformed(`${what} does not have the expected shape (at ${paths.join(', ')})`, { paths })
  }
  return result.right
}

function malformed(message: string, detail: Record<string, unknown> = {}, cause?: unknown): ConsensusError {
  return new ConsensusError(ConsensusErrorCode.MALFORMED_MESSAGE, message, detail, cause === undefined ? undefined : { cause })
}

/**
 * Freezes a decoded or freshly built value all the way down (byte arrays excepted: typed arrays cannot be frozen),
 * so that hashes cached for it stay true.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || Object.isFrozen(value)) return value
  for (const item of Object.values(value)) deepFreeze(item)
  return Object.freeze(value)
}
