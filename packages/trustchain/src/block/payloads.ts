/**
 * Payloads of half-blocks and the registry of transaction payload kinds.
 *
 * `genesis` and `checkpoint` blocks have fixed payload shapes. A `tx` block's payload is a map whose `kind` names
 * its payload type; the value transfer (`kind: 'transfer'`) is built in, and applications register their own kinds
 * with an io-ts codec. Validation checks a payload against the codec of its kind; a kind this node has not
 * registered is carried as opaque data (another application on the network may know it).
 *
 * Any other kind may carry value too, through a field `value: { amount, balance }` (e.g. a paid service call): the
 * ledgers then move balances exactly as for a transfer. Because balances are everyone's business, that field is
 * checked on every node whether or not it knows the kind: a tx payload with a `value` field that is not exactly
 * `{ amount, balance }` is refused, so no two nodes can disagree on whether a block moved value.
 */
import type { CborValue } from '@constellation/crypto'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { bytesOfLength, bytesUpTo, closedRecord, describeErrors, integerIn, recordWithOptional } from './field-codecs.js'
import { HashCodec } from './half-block.js'

const Amount = integerIn(1, Number.MAX_SAFE_INTEGER, 'Amount')
const Balance = integerIn(0, Number.MAX_SAFE_INTEGER, 'Balance')

/** The payload of a chain's first block: its opening balance. */
export const GenesisPayloadCodec = closedRecord('GenesisPayload', { balance: Balance })
export type GenesisPayload = t.TypeOf<typeof GenesisPayloadCodec>

/**
 * A checkpoint commits to the latest certified consensus result its author has seen (hash and round), to its own
 * chain head — the block just below it, by sequence number and hash (0 and the zero hash for a first block) — and
 * to the chain's running balance there. Once certified, it is the anchor a counterparty checks later blocks from:
 * facilitators checked the stretch below it, balance included.
 */
export const CheckpointPayloadCodec = closedRecord('CheckpointPayload', {
  consensusResultHash: HashCodec,
  round: integerIn(0, Number.MAX_SAFE_INTEGER, 'Round'),
  headSequenceNumber: integerIn(0, Number.MAX_SAFE_INTEGER, 'HeadSequenceNumber'),
  headHash: HashCodec,
  balance: Balance,
})
export type CheckpointPayload = t.TypeOf<typeof CheckpointPayloadCodec>

/**
 * A void undoes the own chain's proposal its link names, which the counterparty refused: it returns the proposal's
 * `amount` to the running `balance` (the chain's balance after the void) and carries the counterparty's signed
 * refusal (`refusal`, see `signRefusal`), so that anyone can check the counterparty will never agree to it.
 */
export const VoidPayloadCodec = closedRecord('VoidPayload', {
  amount: Amount,
  balance: Balance,
  refusal: bytesOfLength(64, 'RefusalSignature'),
})
export type VoidPayload = t.TypeOf<typeof VoidPayloadCodec>

/** Bytes of a transfer's reference at most: room for a 16- or 32-byte digest, not for data. */
export const MAX_REFERENCE_BYTES = 32

/**
 * A value transfer from the proposer to the counterparty. `balance` is the running balance of the chain that holds
 * the block, after this transfer: the proposer's goes down by `amount`, the counterparty's goes up. A proposal may
 * carry a `reference` (at most 32 bytes) its proposer chose — a payment reference, or the digest of a client's
 * idempotency key, so that a retried request finds the transfer it already made in the chain itself.
 */
export const TransferPayloadCodec = recordWithOptional(
  'TransferPayload',
  { kind: t.literal('transfer'), amount: Amount, balance: Balance },
  { reference: bytesUpTo(MAX_REFERENCE_BYTES, 'Reference') },
)
export type TransferPayload = t.TypeOf<typeof TransferPayloadCodec>

/** The value a payload of another kind carries: `amount` paid by the proposer, `balance` of the holding chain after it. */
export const CarriedValueCodec = closedRecord('CarriedValue', { amount: Amount, balance: Balance })
export type CarriedValue = t.TypeOf<typeof CarriedValueCodec>

/**
 * The value a tx block moves, whether by a transfer or by a payload of another kind carrying a `value`: its kind,
 * the amount and the holding chain's balance after it.
 */
export interface ValueTransfer {
  readonly kind: string
  readonly amount: number
  readonly balance: number
}

/** A transaction payload kind with the codec that checks it. */
export interface PayloadType<P extends { readonly kind: string }> {
  readonly kind: P['kind']
  readonly codec: t.Type<P, CborValue, unknown>
}

export const TRANSFER: PayloadType<TransferPayload> = { kind: 'transfer', codec: TransferPayloadCodec }

/** What the registry keeps of a payload type: its kind and a decoder to check payloads with. */
export interface RegisteredPayloadType {
  readonly kind: string
  readonly codec: t.Decoder<unknown, unknown>
}

/** The outcome of checking a payload: its kind, and reasons if it does not fit its codec. */
export type PayloadCheck = { readonly ok: true; readonly kind: string | undefined } | { readonly ok: false; readonly errors: string[] }

const isAmount = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 1
const isBalance = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/**
 * `TransferPayloadCodec.is` for the usual payload, a plain object, without io-ts's work: true only when the codec
 * would say so too (anything unusual answers false, and the caller asks the codec).
 */
function isPlainTransfer(payload: unknown): payload is TransferPayload {
  if (typeof payload !== 'object' || payload === null || Object.getPrototypeOf(payload) !== Object.prototype) return false
  const fields = payload as Record<string, unknown>
  if (fields.kind !== 'transfer' || !isAmount(fields.amount) || !isBalance(fields.balance)) return false
  let keys = 0
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) return false
    keys++
  }
  if (keys === 3) return true
  const reference = fields.reference
  return keys === 4 && reference instanceof Uint8Array && reference.length <= MAX_REFERENCE_BYTES
}

/** `CarriedValueCodec.is` for a plain `{ amount, balance }`; false means "ask the codec". */
function isPlainValue(value: unknown): value is CarriedValue {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false
  const fields = value as Record<string, unknown>
  if (!isAmount(fields.amount) || !isBalance(fields.balance)) return false
  let keys = 0
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) return false
    keys++
  }
  return keys === 2
}

const isTransferPayload = (payload: unknown): payload is TransferPayload => isPlainTransfer(payload) || TransferPayloadCodec.is(payload)
const isCarriedValue = (value: unknown): value is CarriedValue => isPlainValue(value) || CarriedValueCodec.is(value)

const TRANSFER_FITS: PayloadCheck = Object.freeze({ ok: true, kind: 'transfer' })

export class PayloadRegistry {
  readonly #types = new Map<string, t.Decoder<unknown, unknown>>()

  constructor(types: readonly RegisteredPayloadType[] = [TRANSFER]) {
    for (const type of types) this.register(type)
  }

  /** Adds a transaction payload kind; registering a kind twice is refused, so codecs never change under a node. */
  register(type: RegisteredPayloadType): this {
    if (typeof type.kind !== 'string' || type.kind === '') {
      throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, 'a payload kind must be a non-empty string')
    }
    if (this.#types.has(type.kind)) {
      throw new TrustChainError(TrustChainErrorCode.PAYLOAD_TYPE_CONFLICT, `payload kind '${type.kind}' is already registered`, {
        kind: type.kind,
      })
    }
    this.#types.set(type.kind, type.codec)
    return this
  }

  has(kind: string): boolean {
    return this.#types.has(kind)
  }

  /** Checks the payload of a block of the given type against its codec. */
  check(type: 'genesis' | 'tx' | 'checkpoint' | 'void', payload: CborValue): PayloadCheck {
    let codec: t.Decoder<unknown, unknown> | undefined
    let kind: string | undefined
    if (type === 'genesis') codec = GenesisPayloadCodec
    else if (type === 'checkpoint') codec = CheckpointPayloadCodec
    else if (type === 'void') codec = VoidPayloadCodec
    else {
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || payload instanceof Uint8Array) {
        return { ok: false, errors: ['a transaction payload must be a map with a string `kind`'] }
      }
      const field = (payload as Record<string, CborValue>).kind
      if (typeof field !== 'string') return { ok: false, errors: ['a transaction payload must have a string `kind`'] }
      kind = field
      if (field !== 'transfer' && Object.hasOwn(payload, 'value') && !isPlainValue((payload as Record<string, CborValue>).value)) {
        const value = CarriedValueCodec.decode((payload as Record<string, CborValue>).value)
        if (isLeft(value)) return { ok: false, errors: describeErrors(value.left).map((error) => `value: ${error}`) }
      }
      codec = this.#types.get(field)
      if (codec === undefined) return { ok: true, kind }
      // The built-in transfer codec, on the usual payload: no need for io-ts to say yes.
      if (codec === TransferPayloadCodec && isPlainTransfer(payload)) return TRANSFER_FITS
    }
    const decoded = codec.decode(payload)
    return isLeft(decoded) ? { ok: false, errors: describeErrors(decoded.left) } : { ok: true, kind }
  }
}

function isMap(payload: CborValue): payload is { readonly [key: string]: CborValue } {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) && !(payload instanceof Uint8Array)
}

/**
 * The value a block moves: a transfer, or a tx payload of another kind whose `value` is exactly
 * `{ amount, balance }`; undefined when it moves none. (A malformed `value` moves nothing here, and the payload
 * check refuses such a block, so it never reaches a ledger.)
 */
export function transferOf(type: string, payload: CborValue): ValueTransfer | undefined {
  if (type !== 'tx' || !isMap(payload)) return undefined
  if (isTransferPayload(payload)) return payload
  const { kind, value } = payload
  if (typeof kind !== 'string' || kind === 'transfer' || !Object.hasOwn(payload, 'value') || !isCarriedValue(value)) return undefined
  return { kind, amount: value.amount, balance: value.balance }
}

/** True when the payload carries value through a `value` field (not a transfer). */
export function carriesValue(payload: CborValue): payload is { readonly kind: string; readonly value: CarriedValue } {
  return isMap(payload) && payload.kind !== 'transfer' && transferOf('tx', payload) !== undefined
}

/**
 * The running balance a block states, if it states one: a genesis (opening balance), a transfer or value-carrying
 * payload (the holding chain's balance after it), a checkpoint (the balance at the head it records) or a void (the
 * balance after the refund).
 */
export function statedBalance(type: string, payload: CborValue): number | undefined {
  const transfer = transferOf(type, payload)
  if (transfer !== undefined) return transfer.balance
  if (type === 'genesis' && GenesisPayloadCodec.is(payload)) return payload.balance
  if (type === 'checkpoint' && CheckpointPayloadCodec.is(payload)) return payload.balance
  if (type === 'void' && VoidPayloadCodec.is(payload)) return payload.balance
  return undefined
}
