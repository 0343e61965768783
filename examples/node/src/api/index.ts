/**
 * The node's HTTP JSON API: `apiModule()` for `createNode(config, { modules: [apiModule()] })`, and what other
 * modules need to contribute routes (`Route`, `ApiError`, the input decoders).
 */
export { type ApiModule, apiModule, type ApiModuleOptions } from './api-server.js'
export { ApiError, ApiErrorCode, toApiError } from './api-error.js'
export { boundedInteger, decodeInput, HexString, IntegerFromString, type InputPart, queryObject, strictQuery } from './request-input.js'
export {
  type AllowedMethod,
  type HttpMethod,
  isRawResponse,
  type JsonResponse,
  type RawResponse,
  type Route,
  type RouteContext,
  type RouteMatch,
  type RouteResponse,
  Router,
  type RouteSource,
} from './router.js'
