/**
 * The transaction payloads of contracts, as trustchain `tx` payload kinds (register them with a node's
 * `PayloadRegistry` via `registerContractPayloads`).
 *
 * - `contract-deploy`: the code, its type signature and its initial state (canonical CBOR); the contract id is the
 *   SHA-256 of the code, so the deploy transaction notarises the code.
 * - `contract-invoke`: one committed invocation of one deploy (named by `deployHash`): who called (the proposer), the input, the time and seed the
 *   contract saw, the state it started from (hash) and the state, output, effects and gas it ended with, the RPC
 *   answers the host fetched. A paid invoke carries the payment as trustchain value, `value: { amount, balance }`:
 *   the caller's balance goes down by `amount` in its proposal, the host's goes up in its agreement, and the ledgers
 *   check both like a transfer. The host's agreement repeats the record (with its own balance in `value`) and signs
 *   it, which is what makes a wrong record provable against the host.
 */
import { type Crypto, encodeCanonical, HASH_LENGTH } from '@constellation/crypto'
import { type CarriedValue, CarriedValueCodec, type PayloadRegistry } from '@constellation/trustchain'
import * as t from 'io-ts'
import { asCbor, type JsonValue } from '../json/json-value.js'
import type { SignatureDescription } from '../types/contract-type.js'
import { closedRecord, typeFromDescription, Types } from '../types/contract-type.js'

export const DEPLOY_KIND = 'contract-deploy'
export const INVOKE_KIND = 'contract-invoke'

const Hash = new t.Type<Uint8Array, Uint8Array, unknown>(
  'Hash',
  (u): u is Uint8Array => u instanceof Uint8Array && u.length === HASH_LENGTH,
  (u, c) => (u instanceof Uint8Array && u.length === HASH_LENGTH ? t.success(u) : t.failure(u, c)),
  t.identity,
)
const Bytes = new t.Type<Uint8Array, Uint8Array, unknown>(
  'Bytes',
  (u): u is Uint8Array => u instanceof Uint8Array,
  (u, c) => (u instanceof Uint8Array ? t.success(u) : t.failure(u, c)),
  t.identity,
)
const Count = new t.Type<number, number, unknown>(
  'Count',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
)
/** Any JSON value of the contract value model (the contract's own types are checked by the host, not here). */
const Json = Types.unknown.codec as t.Type<JsonValue, JsonValue, unknown>
const Signature: t.Type<SignatureDescription, SignatureDescription, unknown> = new t.Type<SignatureDescription, SignatureDescription, unknown>(
  'SignatureDescription',
  (u): u is SignatureDescription => {
    try {
      const s = u as SignatureDescription
      typeFromDescription(s.input)
      typeFromDescription(s.output)
      typeFromDescription(s.state)
      return Object.keys(u as object).length === 3
    } catch {
      return false
    }
  },
  (u, c): t.Validation<SignatureDescription> => (Signature.is(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)

export const DeployPayloadCodec = closedRecord('DeployPayload', {
  kind: t.literal(DEPLOY_KIND),
  contract: Hash,
  code: t.string,
  signature: Signature,
  initialState: Bytes,
})
export type DeployPayload = t.TypeOf<typeof DeployPayloadCodec>

export const RpcExchangeCodec = closedRecord('RpcExchange', { endpoint: t.string, request: t.string, response: t.string })

const invokeFields = {
  kind: t.literal(INVOKE_KIND),
  contract: Hash,
  deploy: Hash,
  invocation: Count,
  input: Json,
  timestamp: Count,
  seed: t.string,
  previousStateHash: Hash,
  stateHash: Hash,
  output: Json,
  effects: t.array(Json),
  gasUsed: Count,
  rpc: t.array(RpcExchangeCodec),
}
const FreeInvokeCodec = closedRecord('InvokePayload', invokeFields)
const PaidInvokeCodec = closedRecord('PaidInvokePayload', { ...invokeFields, value: CarriedValueCodec })

/** An invoke record; `value` is the payment to the host, present only when the invoke pays. */
export type InvokePayload = t.TypeOf<typeof FreeInvokeCodec> & { readonly value?: CarriedValue }

/** The invoke record, closed: exactly its fields, plus `value` when it pays. */
export const InvokePayloadCodec: t.Type<InvokePayload, InvokePayload, unknown> = new t.Type<InvokePayload, InvokePayload, unknown>(
  'InvokePayload',
  (u): u is InvokePayload => FreeInvokeCodec.is(u) || PaidInvokeCodec.is(u),
  (u, c) => (typeof u === 'object' && u !== null && Object.hasOwn(u, 'value') ? PaidInvokeCodec.validate(u, c) : FreeInvokeCodec.validate(u, c)),
  t.identity,
)

/**
 * The deploy hash: SHA-256 of the whole deploy payload (code, type signature, initial state). An invoke record names
 * it, so a replay runs the contract under exactly the signature its host deployed, not any deploy with the same code.
 */
export function deployHash(crypto: Crypto, payload: DeployPayload): Uint8Array {
  return crypto.sha256(encodeCanonical(asCbor(payload)))
}

/** Registers both payload kinds, so a node's validation checks contract transactions against their codecs. */
export function registerContractPayloads(registry: PayloadRegistry): PayloadRegistry {
  registry.register({ kind: DEPLOY_KIND, codec: DeployPayloadCodec })
  registry.register({ kind: INVOKE_KIND, codec: InvokePayloadCodec })
  return registry
}
