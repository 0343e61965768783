/**
 * The messages facilitators exchange while running the asynchronous common subset, and their wire form.
 *
 * Every message names its `instance`: the index of the proposer whose reliable broadcast and binary agreement it
 * belongs to. Reliable broadcast (Bracha): INIT carries the proposal, ECHO and READY only its digest, VALUE-REQUEST
 * and VALUE let a facilitator that must deliver but never got the INIT fetch the value. Binary agreement
 * (Mostéfaoui–Moumen–Raynal with the CONF phase): BVAL, AUX and CONF belong to one agreement round; TERM announces
 * a decision.
 *
 * On the wire a message is a short CBOR array `[tag, instance, ...fields]` rather than a map: ACS sends O(n^2) of
 * them per instance and the checkpoint round batches many into one frame, so field names would dominate the frame.
 * `AcsMessageCodec` is the one definition of both forms; `acsMessageFromCbor` is the strict entry point for values
 * decoded from a frame and never throws.
 */
import type { CborValue } from '@constellation/crypto'
import * as t from 'io-ts'

/** Largest instance number the codec accepts (a solar system has far fewer facilitators). */
export const MAX_ACS_INSTANCE = 4095
/** Largest agreement round the codec accepts; real runs end in a handful of rounds. */
export const MAX_AGREEMENT_ROUND = 1 << 20
/** Longest digest accepted in ECHO and READY (SHA-512 would fit; SHA-256 is what the config uses). */
export const MAX_DIGEST_BYTES = 64
/** Default largest proposal the codec accepts in INIT and VALUE when the caller states no limit. */
export const DEFAULT_MAX_ACS_VALUE_BYTES = 1 << 20

/**
 * A set of binary values as a bitmask: bit 0 = false (0) present, bit 1 = true (1) present. CONF carries a
 * non-empty one: 1 = {0}, 2 = {1}, 3 = {0, 1}.
 */
export type BinValues = 1 | 2 | 3

export type AcsMessage =
  | { readonly kind: 'init'; readonly instance: number; readonly value: Uint8Array }
  | { readonly kind: 'echo'; readonly instance: number; readonly digest: Uint8Array }
  | { readonly kind: 'ready'; readonly instance: number; readonly digest: Uint8Array }
  | { readonly kind: 'value-request'; readonly instance: number }
  | { readonly kind: 'value'; readonly instance: number; readonly value: Uint8Array }
  | { readonly kind: 'bval'; readonly instance: number; readonly round: number; readonly value: boolean }
  | { readonly kind: 'aux'; readonly instance: number; readonly round: number; readonly value: boolean }
  | { readonly kind: 'conf'; readonly instance: number; readonly round: number; readonly values: BinValues }
  | { readonly kind: 'term'; readonly instance: number; readonly round: number; readonly value: boolean }

export type AcsMessageKind = AcsMessage['kind']

/** The wire form: `[tag, instance, ...fields]`, booleans as 0/1, all canonical-CBOR encodable. */
export type AcsWireMessage = readonly (number | Uint8Array)[]

const KIND_TAGS = ['init', 'echo', 'ready', 'value-request', 'value', 'bval', 'aux', 'conf', 'term'] as const
const TAG_OF: Readonly<Record<AcsMessageKind, number>> = Object.fromEntries(KIND_TAGS.map((kind, tag) => [kind, tag])) as Record<AcsMessageKind, number>

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}

function isBytesOf(value: unknown, min: number, max: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length >= min && value.length <= max
}

/**
 * Reads the wire form into a message, or undefined. Checks every field's type and range, the exact arity, and
 * that value bytes are at most `maxValueBytes`.
 */
function fromWire(input: unknown, maxValueBytes: number): AcsMessage | undefined {
  if (!Array.isArray(input) || input.length < 2 || input.length > 4) return undefined
  const [tag, instance, a, b] = input as unknown[]
  if (!isIntegerIn(tag, 0, KIND_TAGS.length - 1) || !isIntegerIn(instance, 0, MAX_ACS_INSTANCE)) return undefined
  const kind = KIND_TAGS[tag]
  switch (kind) {
    case 'init':
    case 'value':
      return input.length === 3 && isBytesOf(a, 0, maxValueBytes) ? { kind, instance, value: a } : undefined
    case 'echo':
    case 'ready':
      return input.length === 3 && isBytesOf(a, 1, MAX_DIGEST_BYTES) ? { kind, instance, digest: a } : undefined
    case 'value-request':
      return input.length === 2 ? { kind, instance } : undefined
    case 'bval':
    case 'aux':
    case 'term':
      return input.length === 4 && isIntegerIn(a, 0, MAX_AGREEMENT_ROUND) && isIntegerIn(b, 0, 1) ? { kind, instance, round: a, value: b === 1 } : undefined
    case 'conf':
      return input.length === 4 && isIntegerIn(a, 0, MAX_AGREEMENT_ROUND) && isIntegerIn(b, 1, 3)
        ? { kind, instance, round: a, values: b as BinValues }
        : undefined
    default:
      return undefined
  }
}

function toWire(message: AcsMessage): AcsWireMessage {
  const head = [TAG_OF[message.kind], message.instance] as const
  switch (message.kind) {
    case 'init':
    case 'value':
      return [...head, message.value]
    case 'echo':
    case 'ready':
      return [...head, message.digest]
    case 'value-request':
      return head
    case 'bval':
    case 'aux':
    case 'term':
      return [...head, message.round, message.value ? 1 : 0]
    case 'conf':
      return [...head, message.round, message.values]
  }
}

const FIELD_COUNT: Readonly<Record<AcsMessageKind, number>> = {
  init: 3,
  value: 3,
  echo: 3,
  ready: 3,
  'value-request': 2,
  bval: 4,
  aux: 4,
  term: 4,
  conf: 4,
}

/**
 * True when `message` is a well-formed AcsMessage object (the in-memory form): a known kind, exactly its fields,
 * each of the right type and range, values at most `maxValueBytes`. Allocation-free, so the state machine can
 * afford it on every message it is handed.
 */
export function isAcsMessage(message: unknown, maxValueBytes: number = DEFAULT_MAX_ACS_VALUE_BYTES): message is AcsMessage {
  if (typeof message !== 'object' || message === null) return false
  const m = message as Record<string, unknown>
  const kind = m.kind
  if (typeof kind !== 'string' || !Object.hasOwn(FIELD_COUNT, kind)) return false
  if (!isIntegerIn(m.instance, 0, MAX_ACS_INSTANCE)) return false
  let fields = 0
  for (const key in m) if (Object.hasOwn(m, key)) fields++
  if (fields !== FIELD_COUNT[kind as AcsMessageKind]) return false
  switch (kind as AcsMessageKind) {
    case 'init':
    case 'value':
      return isBytesOf(m.value, 0, maxValueBytes)
    case 'echo':
    case 'ready':
      return isBytesOf(m.digest, 1, MAX_DIGEST_BYTES)
    case 'value-request':
      return true
    case 'bval':
    case 'aux':
    case 'term':
      return isIntegerIn(m.round, 0, MAX_AGREEMENT_ROUND) && typeof m.value === 'boolean'
    case 'conf':
      return isIntegerIn(m.round, 0, MAX_AGREEMENT_ROUND) && isIntegerIn(m.values, 1, 3)
  }
}

/** An io-ts codec between AcsMessage and its wire form, accepting values up to `maxValueBytes`. */
export function acsMessageCodec(maxValueBytes: number = DEFAULT_MAX_ACS_VALUE_BYTES): t.Type<AcsMessage, AcsWireMessage, unknown> {
  return new t.Type<AcsMessage, AcsWireMessage, unknown>(
    'AcsMessage',
    (u): u is AcsMessage => isAcsMessage(u, maxValueBytes),
    (u, context) => {
      const message = fromWire(u, maxValueBytes)
      return message === undefined ? t.failure(u, context, 'not an ACS message in wire form') : t.success(message)
    },
    toWire,
  )
}

/** The codec with the default value limit (1 MiB). */
export const AcsMessageCodec = acsMessageCodec()

/** The canonical-CBOR value of a message (for batching into a frame with encodeCanonical). */
export function acsMessageToCbor(message: AcsMessage): CborValue {
  return toWire(message)
}

/**
 * Reads a message from a value decoded out of a canonical-CBOR frame. Strict: exact arity, ranges, byte lengths
 * (values at most `maxValueBytes`). Returns undefined for anything else; never throws.
 */
export function acsMessageFromCbor(value: unknown, maxValueBytes: number = DEFAULT_MAX_ACS_VALUE_BYTES): AcsMessage | undefined {
  // The codec's own validation, without allocating an io-ts context per message (frames carry thousands).
  return fromWire(value, maxValueBytes)
}
