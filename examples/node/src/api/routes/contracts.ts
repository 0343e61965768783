/**
 * The contracts routes of the HTTP API (served when the node runs `contractsModule()`; see contracts/contracts-module.ts).
 * `createNode(config, { modules: [contractsModule(), apiModule({ routes: contractRoutes })] })`.
 *
 * GET  /v1/contracts
 *   200 { host: hex key | null, caller: hex key, price, sla: { invocations, successes, successRate, latencyP50Ms,
 *         latencyP95Ms, price } | null, contracts: [{ id, signature, invocations, stateHash }] }
 *   — the contracts this node hosts (`host` and `sla` null: hosting is off), in deploy order; `host` is the key
 *   its agreements are signed with, `caller` the key its own deploys and invokes are proposed under.
 * GET  /v1/contracts/:id                      (:id = 64 lower-case hex digits, the SHA-256 of the code)
 *   200 { id, signature, invocations, stateHash, state }   404 NOT_FOUND when this node does not host it.
 * POST /v1/contracts
 *   body { code: string, signature: { input, output, state }, initialState: JSON, host?: hex node id }
 *   `signature` is the deploy payload's form: each a TypeDescription, e.g. { kind: 'integer' },
 *   { kind: 'string' }, { kind: 'struct', fields: { to: { kind: 'string' } } }, { kind: 'record', values: … },
 *   { kind: 'array', items: … }, { kind: 'union', members: [...] }, { kind: 'literal', value }, 'null', 'boolean',
 *   'number', 'unknown'. `host` defaults to this node; another node is reached over the contracts protocol.
 *   201 { id, proposal, agreement } — the deploy pair as half-block views (this node's caller chain proposes, the
 *   host's contract chain agrees).
 * POST /v1/contracts/:id/invoke
 *   body { input: JSON, host?: hex node id }
 *   200 { output, gas, proposal, agreement } — the contract's output, the gas it used and the invoke pair.
 *
 * Errors are `{ "error": { "code", "message" } }`; a contract failure keeps its own code at the start of the
 * message (`CONTRACT_SYNTAX_ERROR: …`). Status by contract code: 400 INVALID_REQUEST for what the request got
 * wrong (malformed body, SYNTAX_ERROR, NOT_A_CONTRACT, CODE_HASH_MISMATCH, INPUT_INVALID, STATE_INVALID, INVALID_INPUT,
 * TYPE_MISMATCH); 404 NOT_FOUND for UNKNOWN_CONTRACT; 413 PAYLOAD_TOO_LARGE for INPUT_TOO_LARGE, for a deploy or
 * invoke whose transaction does not fit in a half-block (8 KiB of payload by default) and for bodies past the
 * API's limit; 422 REJECTED when the contract or the protocol refuses a well-formed request (CONTRACT_THREW,
 * OUT_OF_GAS, OUT_OF_MEMORY, STACK_OVERFLOW, STATE_TOO_LARGE, OUTPUT_TOO_LARGE, OUTPUT_INVALID, RESULT_MALFORMED,
 * RPC_*, PAYMENT_REQUIRED, TRANSACTION_REJECTED); 503 UNAVAILABLE when the sandbox or the host cannot serve now
 * (TIMEOUT, SANDBOX_CRASHED, CLOSED, a host node that does not answer, a node without the contracts module).
 */
import { ContractError, ContractErrorCode, type TypeDescription, typeFromDescription } from '@constellation/contracts'
import { TrustChainError, TrustChainErrorCode } from '@constellation/trustchain'
import * as t from 'io-ts'
import { Hex32Codec } from '../../config/codecs.js'
import { type NodeContracts, nodeContracts } from '../../contracts/contracts-module.js'
import type { FullNode } from '../../node/full-node.js'
import { ApiError, ApiErrorCode, toApiError } from '../api-error.js'
import { decodeInput } from '../request-input.js'
import type { Route } from '../router.js'
import { halfBlockView } from '../views/half-block-view.js'

/** Whether the contracts package can rebuild a type from a value (what the deploy payload's codec checks too). */
function isTypeDescription(u: unknown): u is TypeDescription {
  try {
    typeFromDescription(u)
    return true
  } catch {
    return false
  }
}
const TypeDescriptionCodec = new t.Type<TypeDescription, TypeDescription, unknown>(
  'TypeDescription',
  isTypeDescription,
  (u, c) => (isTypeDescription(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)
const SignatureCodec = t.exact(t.type({ input: TypeDescriptionCodec, output: TypeDescriptionCodec, state: TypeDescriptionCodec }))
/** Any JSON value, present (a missing field is not `null`). */
const JsonPresent = t.refinement(t.unknown, (u) => u !== undefined, 'JsonValue')
const Code = t.refinement(t.string, (s) => s.length > 0, 'NonEmptyCode')

const DeployBodyCodec = t.exact(t.intersection([t.type({ code: Code, signature: SignatureCodec, initialState: JsonPresent }), t.partial({ host: Hex32Codec })]))
const InvokeBodyCodec = t.exact(t.intersection([t.type({ input: JsonPresent }), t.partial({ host: Hex32Codec })]))
const IdParamsCodec = t.type({ id: Hex32Codec })

const BY_CONTRACT_CODE: Readonly<Record<ContractErrorCode, ApiErrorCode>> = {
  [ContractErrorCode.INVALID_INPUT]: ApiErrorCode.INVALID_REQUEST,
  [ContractErrorCode.SYNTAX_ERROR]: ApiErrorCode.INVALID_REQUEST,
  [ContractErrorCode.NOT_A_CONTRACT]: ApiErrorCode.INVALID_REQUEST,
  [ContractErrorCode.CODE_HASH_MISMATCH]: ApiErrorCode.INVALID_REQUEST,
  [ContractErrorCode.INPUT_INVALID]: ApiErrorCode.INVALID_REQUEST,
  [ContractErrorCode.STATE_INVALID]: ApiErrorCode.INVALID_REQUEST,
  [ContractErrorCode.TYPE_MISMATCH]: ApiErrorCode.INVALID_REQUEST,
  [ContractErrorCode.UNKNOWN_CONTRACT]: ApiErrorCode.NOT_FOUND,
  [ContractErrorCode.INPUT_TOO_LARGE]: ApiErrorCode.PAYLOAD_TOO_LARGE,
  [ContractErrorCode.CONTRACT_THREW]: ApiErrorCode.REJECTED,
  [ContractErrorCode.OUT_OF_GAS]: ApiErrorCode.REJECTED,
  [ContractErrorCode.OUT_OF_MEMORY]: ApiErrorCode.REJECTED,
  [ContractErrorCode.STACK_OVERFLOW]: ApiErrorCode.REJECTED,
  [ContractErrorCode.STATE_TOO_LARGE]: ApiErrorCode.REJECTED,
  [ContractErrorCode.OUTPUT_TOO_LARGE]: ApiErrorCode.REJECTED,
  [ContractErrorCode.OUTPUT_INVALID]: ApiErrorCode.REJECTED,
  [ContractErrorCode.RESULT_MALFORMED]: ApiErrorCode.REJECTED,
  [ContractErrorCode.RPC_NOT_ALLOWED]: ApiErrorCode.REJECTED,
  [ContractErrorCode.RPC_FAILED]: ApiErrorCode.REJECTED,
  [ContractErrorCode.RPC_TIMEOUT]: ApiErrorCode.REJECTED,
  [ContractErrorCode.RPC_TOO_LARGE]: ApiErrorCode.REJECTED,
  [ContractErrorCode.PAYMENT_REQUIRED]: ApiErrorCode.REJECTED,
  [ContractErrorCode.TRANSACTION_REJECTED]: ApiErrorCode.REJECTED,
  [ContractErrorCode.INVALID_FRAUD_PROOF]: ApiErrorCode.REJECTED,
  [ContractErrorCode.TIMEOUT]: ApiErrorCode.UNAVAILABLE,
  [ContractErrorCode.SANDBOX_CRASHED]: ApiErrorCode.UNAVAILABLE,
  [ContractErrorCode.CLOSED]: ApiErrorCode.UNAVAILABLE,
}

/** The API error for a failure of a contracts call: contract codes as above, the rest as the API maps them. */
export function contractApiError(error: unknown): ApiError {
  if (error instanceof ContractError) return new ApiError(BY_CONTRACT_CODE[error.code], `${error.code}: ${error.message}`, {}, { cause: error })
  // A deploy's code and initial state, and an invoke's record, travel in one half-block: past its limits, the request is too large.
  if (error instanceof TrustChainError && (error.code === TrustChainErrorCode.PAYLOAD_TOO_LARGE || error.code === TrustChainErrorCode.BLOCK_TOO_LARGE)) {
    return new ApiError(ApiErrorCode.PAYLOAD_TOO_LARGE, `the transaction does not fit in a half-block: ${error.message}`, {}, { cause: error })
  }
  return toApiError(error)
}

function contractsOf(node: FullNode): NodeContracts {
  const contracts = nodeContracts(node)
  if (contracts === undefined) throw new ApiError(ApiErrorCode.UNAVAILABLE, 'this node runs without the contracts module')
  return contracts
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw contractApiError(error)
  }
}

export const contractRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/contracts',
    handler: ({ node }) => {
      const contracts = contractsOf(node)
      return {
        status: 200,
        body: {
          host: contracts.hostKey ?? null,
          caller: contracts.callerKey,
          price: contracts.price,
          sla: contracts.sla() ?? null,
          contracts: contracts.hosted(),
        },
      }
    },
  },
  {
    method: 'GET',
    path: '/v1/contracts/:id',
    handler: ({ node, params }) => {
      const { id } = decodeInput(IdParamsCodec, params, 'path')
      const found = contractsOf(node).hostedContract(id)
      if (found === undefined) throw new ApiError(ApiErrorCode.NOT_FOUND, `contract ${id} is not hosted by this node`)
      return { status: 200, body: found }
    },
  },
  {
    method: 'POST',
    path: '/v1/contracts',
    handler: async ({ node, body }) => {
      const request = decodeInput(DeployBodyCodec, body, 'body')
      const contracts = contractsOf(node)
      const deployed = await mapped(() => contracts.deploy(request))
      return {
        status: 201,
        body: { id: deployed.id, proposal: halfBlockView(node.crypto, deployed.proposal), agreement: halfBlockView(node.crypto, deployed.agreement) },
      }
    },
  },
  {
    method: 'POST',
    path: '/v1/contracts/:id/invoke',
    handler: async ({ node, params, body }) => {
      const { id } = decodeInput(IdParamsCodec, params, 'path')
      const request = decodeInput(InvokeBodyCodec, body, 'body')
      const contracts = contractsOf(node)
      const done = await mapped(() => contracts.invoke({ contract: id, input: request.input, ...(request.host === undefined ? {} : { host: request.host }) }))
      return {
        status: 200,
        body: {
          output: done.output,
          gas: done.gas,
          proposal: halfBlockView(node.crypto, done.proposal),
          agreement: halfBlockView(node.crypto, done.agreement),
        },
      }
    },
  },
]
