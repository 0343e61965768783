/**
 * The HTTP API's errors: what a client did wrong (or what the node cannot do now), as a status and a stable code,
 * sent as `{ "error": { "code", "message" } }`. Handlers throw an `ApiError`, a `NodeError` or a package's typed
 * error; `toApiError` maps each code deliberately, and anything it does not recognise is a bug in the node (500).
 */
import { CodedError } from '@constellation/interface'
import { ConsensusError, ConsensusErrorCode } from '@constellation/consensus'
import { TrustChainError, TrustChainErrorCode } from '@constellation/trustchain'
import { NodeError, NodeErrorCode } from '../errors.js'

export enum ApiErrorCode {
  /** Malformed JSON, a field of the wrong type, a bad path or query parameter. */
  INVALID_REQUEST = 'INVALID_REQUEST',
  /** No such route, transaction, block, chain or round. */
  NOT_FOUND = 'NOT_FOUND',
  /** A route that changes state, without the node's API token (see api-token.ts). */
  UNAUTHORIZED = 'UNAUTHORIZED',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  /** The request did not arrive whole within `api.headersTimeoutMs` / `api.requestTimeoutMs`: the connection is closed. */
  REQUEST_TIMEOUT = 'REQUEST_TIMEOUT',
  /** The request's headers are larger than the server reads. */
  HEADERS_TOO_LARGE = 'HEADERS_TOO_LARGE',
  /** The client already holds `api.maxConnectionsPerClient` connections: this one is answered and closed. */
  TOO_MANY_CONNECTIONS = 'TOO_MANY_CONNECTIONS',
  /** The request names a host this node does not answer for (see host-check.ts). */
  MISDIRECTED = 'MISDIRECTED',
  /** The transaction exists but is not final yet (its proof cannot be built). */
  NOT_FINAL = 'NOT_FINAL',
  /** Final in its solar system; the root has not committed the certificate that finalised it yet. */
  NOT_ROOTED = 'NOT_ROOTED',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  /** Well-formed but refused by the protocol: a bad signature, an invalid block, a transfer to a non-member. */
  REJECTED = 'REJECTED',
  /** A transfer that would spend more than the node may now (nothing was signed). */
  INSUFFICIENT_FUNDS = 'INSUFFICIENT_FUNDS',
  /** The counterparty refused the transfer and its proposal was voided: nothing moved, it can never become final. */
  REFUSED = 'REFUSED',
  /** The node is at a bound (transfers waiting for answers or for a checkpoint): nothing was signed; retry after `Retry-After`. */
  BUSY = 'BUSY',
  /** An idempotency key already used for another transfer. */
  KEY_CONFLICT = 'KEY_CONFLICT',
  /** The node is closing or cannot serve this now (no peers, a timeout); retrying later may work. */
  UNAVAILABLE = 'UNAVAILABLE',
  /** A bug in the node (logged). */
  INTERNAL = 'INTERNAL',
}

const STATUS: Readonly<Record<ApiErrorCode, number>> = {
  [ApiErrorCode.INVALID_REQUEST]: 400,
  [ApiErrorCode.NOT_FOUND]: 404,
  [ApiErrorCode.UNAUTHORIZED]: 401,
  [ApiErrorCode.METHOD_NOT_ALLOWED]: 405,
  [ApiErrorCode.REQUEST_TIMEOUT]: 408,
  [ApiErrorCode.HEADERS_TOO_LARGE]: 431,
  [ApiErrorCode.TOO_MANY_CONNECTIONS]: 429,
  [ApiErrorCode.MISDIRECTED]: 421,
  [ApiErrorCode.NOT_FINAL]: 409,
  [ApiErrorCode.NOT_ROOTED]: 409,
  [ApiErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ApiErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ApiErrorCode.REJECTED]: 422,
  [ApiErrorCode.INSUFFICIENT_FUNDS]: 422,
  [ApiErrorCode.REFUSED]: 422,
  [ApiErrorCode.BUSY]: 429,
  [ApiErrorCode.KEY_CONFLICT]: 409,
  [ApiErrorCode.UNAVAILABLE]: 503,
  [ApiErrorCode.INTERNAL]: 500,
}

export interface ApiErrorOptions extends ErrorOptions {
  /** Response headers beside the body's (`retry-after`). */
  readonly headers?: Readonly<Record<string, string>>
  /** Fields added to the error object of the body (a refused transfer's `transaction`). */
  readonly extra?: Readonly<Record<string, unknown>>
}

export class ApiError extends CodedError<ApiErrorCode> {
  override readonly name = 'ApiError'
  readonly headers: Readonly<Record<string, string>>
  readonly extra: Readonly<Record<string, unknown>>
  constructor(code: ApiErrorCode, message: string, detail: Readonly<Record<string, unknown>> = {}, options: ApiErrorOptions = {}) {
    super(code, message, detail, options)
    this.headers = options.headers ?? {}
    this.extra = options.extra ?? {}
  }

  get status(): number {
    return STATUS[this.code]
  }

  /** The JSON body sent to the client. */
  toJSON(): { error: { code: ApiErrorCode; message: string } } {
    return { error: { ...this.extra, code: this.code, message: this.message } }
  }
}

const FROM_NODE: Readonly<Record<NodeErrorCode, ApiErrorCode>> = {
  [NodeErrorCode.INVALID_REQUEST]: ApiErrorCode.INVALID_REQUEST,
  [NodeErrorCode.NOT_FOUND]: ApiErrorCode.NOT_FOUND,
  [NodeErrorCode.PAYLOAD_TOO_LARGE]: ApiErrorCode.PAYLOAD_TOO_LARGE,
  [NodeErrorCode.REJECTED]: ApiErrorCode.REJECTED,
  [NodeErrorCode.UNAVAILABLE]: ApiErrorCode.UNAVAILABLE,
  [NodeErrorCode.NOT_ROOTED]: ApiErrorCode.NOT_ROOTED,
  [NodeErrorCode.NODE_CLOSED]: ApiErrorCode.UNAVAILABLE,
  [NodeErrorCode.DATA_DIR_LOCKED]: ApiErrorCode.UNAVAILABLE,
  // Start-up failures never reach a running API: if one does, it is a bug.
  [NodeErrorCode.INVALID_CONFIG]: ApiErrorCode.INTERNAL,
  [NodeErrorCode.INVALID_GENESIS]: ApiErrorCode.INTERNAL,
  [NodeErrorCode.NOT_A_MEMBER]: ApiErrorCode.INTERNAL,
  [NodeErrorCode.NOT_INITIALISED]: ApiErrorCode.INTERNAL,
  [NodeErrorCode.ALREADY_INITIALISED]: ApiErrorCode.INTERNAL,
}

/**
 * TrustChain failures a request can cause. Validation and policy failures are the protocol refusing the request
 * (422, with the validation reasons). INVALID_INPUT is one too: routes decode their input with codecs first, so what
 * trustchain still refuses is a rule of the protocol (an overdraft, a transfer to oneself), not a malformed field.
 * Bytes that are not a block are malformed input (400); timeouts and a stopped engine are the node being unable to
 * serve it now (503). Store corruption and the rest are bugs (500).
 */
function fromTrustChain(code: TrustChainErrorCode): ApiErrorCode {
  switch (code) {
    case TrustChainErrorCode.INVALID_INPUT:
    case TrustChainErrorCode.INVALID_BLOCK:
    case TrustChainErrorCode.MISSING_DEPENDENCY:
    case TrustChainErrorCode.PROPOSAL_REJECTED:
    case TrustChainErrorCode.INVALID_FRAUD_PROOF:
    case TrustChainErrorCode.PAYLOAD_TYPE_CONFLICT:
      return ApiErrorCode.REJECTED
    case TrustChainErrorCode.MALFORMED_BLOCK:
    case TrustChainErrorCode.MALFORMED_MESSAGE:
    case TrustChainErrorCode.BLOCK_TOO_LARGE:
    case TrustChainErrorCode.PAYLOAD_TOO_LARGE:
      return ApiErrorCode.INVALID_REQUEST
    case TrustChainErrorCode.INSUFFICIENT_FUNDS:
      return ApiErrorCode.INSUFFICIENT_FUNDS
    case TrustChainErrorCode.BUSY:
      return ApiErrorCode.BUSY
    case TrustChainErrorCode.PROPOSAL_TIMEOUT:
    case TrustChainErrorCode.NODE_STOPPED:
    case TrustChainErrorCode.STORE_CLOSED:
      return ApiErrorCode.UNAVAILABLE
    default:
      return ApiErrorCode.INTERNAL
  }
}

function fromConsensus(code: ConsensusErrorCode): ApiErrorCode {
  switch (code) {
    case ConsensusErrorCode.NOT_FINAL:
      return ApiErrorCode.NOT_FINAL
    case ConsensusErrorCode.STOPPED:
    case ConsensusErrorCode.ABORTED:
      return ApiErrorCode.UNAVAILABLE
    default:
      return ApiErrorCode.INTERNAL
  }
}

/** The API error a thrown value stands for; `INTERNAL` for anything not deliberately mapped. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof NodeError) return new ApiError(FROM_NODE[error.code], error.message, error.detail, { cause: error })
  if (error instanceof TrustChainError) return new ApiError(fromTrustChain(error.code), error.message, {}, { cause: error })
  if (error instanceof ConsensusError) return new ApiError(fromConsensus(error.code), error.message, {}, { cause: error })
  return new ApiError(ApiErrorCode.INTERNAL, 'internal error', {}, { cause: error })
}
