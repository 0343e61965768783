/**
 * The contracts protocol between nodes (`/constellation/contracts/1`, request/response on `node.network`): how a
 * node deploys to and invokes a contract hosted by another node. Every request and answer is one canonical-CBOR
 * map, size-checked before it is decoded and decoded with a closed codec; blocks travel in their wire encoding and
 * are decoded with trustchain's `decodeBlock` (sizes first) by the side that uses them.
 *
 * The steps mirror the contracts package's host: `describe` (the host's contract key and price), `check-deploy`
 * (the checks a deploy makes, before the deployer proposes), `deploy` (a signed deploy proposal → the host's
 * agreement), `quote` (run an invocation, return its record uncommitted) and `countersign` (a signed invoke
 * proposal → the host's agreement and any proposals the contract's effects made). A failure is answered as
 * `{ type: 'error', code, message }`, where `code` is a `ContractErrorCode` or a `NodeErrorCode`.
 */
import { type CborValue, decodeCanonical, encodeCanonical } from '@constellation/crypto'
import { ContractError, ContractErrorCode, PROTOCOL_SIZE_LIMITS } from '@constellation/contracts'
import { bytesOfLength, bytesUpTo, CborValueCodec, closedRecord, integerIn } from '@constellation/trustchain'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describeErrors } from '../config/codecs.js'
import { NodeError, NodeErrorCode } from '../errors.js'

export const CONTRACTS_PROTOCOL = '/constellation/contracts/1'

/** Largest request or answer: a block (trustchain's default limit is far below) or an input plus framing. */
export const MAX_CONTRACTS_MESSAGE_BYTES = 512 * 1024
/**
 * Longest input text a quote carries: room above the protocol's input limit, so that the host's own check (on the
 * input's canonical form) is what refuses an input near the limit, with its typed INPUT_TOO_LARGE.
 */
export const MAX_INPUT_JSON_LENGTH = 4 * PROTOCOL_SIZE_LIMITS.maxInputBytes
/** Encoded half-blocks carried in one message (bounded again by the block limits when decoded). */
const Block = bytesUpTo(256 * 1024, 'EncodedBlock')
const Key = bytesOfLength(32, 'PublicKey')
const Count = integerIn(0, Number.MAX_SAFE_INTEGER, 'Count')
const Text = (max: number, name: string) => t.refinement(t.string, (s) => s.length <= max, name)

export const ContractsRequestCodec = t.union([
  closedRecord('DescribeRequest', { type: t.literal('describe') }),
  closedRecord('CheckDeployRequest', { type: t.literal('check-deploy'), payload: CborValueCodec }),
  closedRecord('DeployRequest', { type: t.literal('deploy'), proposal: Block }),
  closedRecord('QuoteRequest', {
    type: t.literal('quote'),
    contract: Key,
    caller: Key,
    /** The input as JSON text, so JSON values cross exactly as the caller wrote them; the host checks its size. */
    input: Text(MAX_INPUT_JSON_LENGTH, 'InputJson'),
    timestamp: Count,
    seed: Text(128, 'Seed'),
  }),
  closedRecord('CountersignRequest', { type: t.literal('countersign'), proposal: Block }),
])
export type ContractsRequest = t.TypeOf<typeof ContractsRequestCodec>

export const ContractsResponseCodec = t.union([
  closedRecord('HostResponse', { type: t.literal('host'), host: Key, price: Count }),
  closedRecord('CheckedResponse', { type: t.literal('checked'), contract: Key }),
  closedRecord('DeployedResponse', { type: t.literal('deployed'), agreement: Block }),
  /** The record is checked with `InvokePayloadCodec` by the caller. */
  closedRecord('QuoteResponse', { type: t.literal('quote'), record: CborValueCodec, price: Count }),
  closedRecord('CountersignedResponse', { type: t.literal('countersigned'), agreement: Block, proposals: t.array(Block) }),
  closedRecord('ErrorResponse', { type: t.literal('error'), code: Text(64, 'ErrorCode'), message: Text(2_048, 'ErrorMessage') }),
])
export type ContractsResponse = t.TypeOf<typeof ContractsResponseCodec>

export function encodeContractsMessage(message: ContractsRequest | ContractsResponse): Uint8Array {
  return encodeCanonical(message as CborValue, { maxBytes: MAX_CONTRACTS_MESSAGE_BYTES })
}

/** Size first, then canonical CBOR, then the codec; anything else is a malformed message (INVALID_REQUEST). */
export function decodeContractsMessage<A>(codec: t.Decoder<unknown, A>, bytes: Uint8Array): A {
  if (bytes.length > MAX_CONTRACTS_MESSAGE_BYTES) {
    throw new NodeError(NodeErrorCode.PAYLOAD_TOO_LARGE, `a contracts message is at most ${MAX_CONTRACTS_MESSAGE_BYTES} bytes, got ${bytes.length}`)
  }
  let value: unknown
  try {
    value = decodeCanonical(bytes, { maxBytes: MAX_CONTRACTS_MESSAGE_BYTES })
  } catch (cause) {
    throw new NodeError(NodeErrorCode.INVALID_REQUEST, 'a contracts message is not canonical CBOR', {}, { cause })
  }
  const decoded = codec.decode(value)
  if (isLeft(decoded)) throw new NodeError(NodeErrorCode.INVALID_REQUEST, `not a contracts message: ${describeErrors(decoded.left)}`)
  return decoded.right
}

const CONTRACT_CODES: ReadonlySet<string> = new Set(Object.values(ContractErrorCode))
const NODE_CODES: ReadonlySet<string> = new Set(Object.values(NodeErrorCode))

/** A failure as the answer to a request: its typed code survives the trip, anything untyped is a refusal. */
export function errorResponse(error: unknown): ContractsResponse {
  const code = (error as { code?: unknown }).code
  const typed = (error instanceof ContractError || error instanceof NodeError) && typeof code === 'string'
  const message = error instanceof Error ? error.message : String(error)
  return { type: 'error', code: typed ? code : NodeErrorCode.REJECTED, message: message.slice(0, 2_048) }
}

/** The typed error an error answer stands for, on the asking side. */
export function errorFromResponse(response: Extract<ContractsResponse, { type: 'error' }>, host: string): Error {
  const message = `host ${host.slice(0, 16)}…: ${response.message}`
  if (CONTRACT_CODES.has(response.code)) return new ContractError(response.code as ContractErrorCode, message)
  if (NODE_CODES.has(response.code)) return new NodeError(response.code as NodeErrorCode, message)
  return new NodeError(NodeErrorCode.REJECTED, message)
}
