/**
 * The HTTP API's routes and how a request finds one. A `Route` is a method, a path pattern (`/v1/blocks/:hash`)
 * and a handler that gets the decoded request (`RouteContext`) and returns a JSON or raw response; it throws an
 * `ApiError` (or a typed package error, see api-error.ts) to fail. Other modules of the node contribute their own
 * routes through `apiModule({ routes })`; the server (api-server.ts) owns sockets, body limits and error bodies, so
 * a route only decodes its inputs (see request-input.ts) and does its work.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type * as t from 'io-ts'
import type { FullNode } from '../node/full-node.js'
import { ApiError, ApiErrorCode } from './api-error.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'
/** What a path answers to: its routes' methods, and HEAD wherever GET is (the GET route answers it, without a body). */
export type AllowedMethod = HttpMethod | 'HEAD'

export interface RouteContext {
  /** Path parameters by name, percent-decoded (still strings: decode them with a codec). */
  readonly params: Readonly<Record<string, string>>
  /** Only the parameters the route declared (the server refused any other): decode them with `strictQuery`. */
  readonly query: URLSearchParams
  /** The request's path as sent (percent-encoded; a trailing slash kept), for routes that redirect. */
  readonly path: string
  /** The request's headers (lower-case names), for conditional requests (`if-none-match`). */
  readonly headers: IncomingHttpHeaders
  /** The parsed JSON body of a POST/PUT (`undefined` when there is none): decode it with a codec. */
  readonly body: unknown
  readonly node: FullNode
  /** Aborted when the client goes away or the node closes. */
  readonly signal: AbortSignal
}

/** A JSON response: `body` is sent with `JSON.stringify` (binary values as hex, numbers as numbers). */
export interface JsonResponse {
  readonly status: number
  readonly body: unknown
}

/** A response sent as is: Prometheus text, a page, a stream of lines. */
export interface RawResponse {
  readonly status: number
  readonly contentType: string
  readonly raw: string | Uint8Array | Readable
  /**
   * Headers beside the content type (lower-case names): `etag`, `location`, a `cache-control` that replaces the
   * API's default `no-store`, a page's `content-security-policy`.
   */
  readonly headers?: Readonly<Record<string, string>>
}

export type RouteResponse = JsonResponse | RawResponse

export interface Route {
  readonly method: HttpMethod
  /** Absolute path; a segment `:name` matches one non-empty segment and is passed as `params.name`. */
  readonly path: string
  /**
   * The query parameters the route reads, each optional (decode them with `strictQuery(props, query)`). The server
   * refuses a request with any other parameter, or one given twice, before the handler runs; without `query` the
   * route takes none.
   */
  readonly query?: t.Props
  handler(context: RouteContext): RouteResponse | Promise<RouteResponse>
}

/** Routes given as a list, or built from the running node when the API starts (for modules started before it). */
export type RouteSource = readonly Route[] | ((node: FullNode) => readonly Route[])

export function isRawResponse(response: RouteResponse): response is RawResponse {
  return 'raw' in response
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Readonly<Record<string, string>> }
  /** The path exists for other methods (405, with an `Allow` header). */
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly AllowedMethod[] }
  | { readonly kind: 'not-found' }

interface CompiledRoute {
  readonly route: Route
  /** Literal segments as strings, parameters as `{ name }`. */
  readonly segments: readonly (string | { readonly name: string })[]
}

/** Matches a method and a path against a fixed set of routes. */
export class Router {
  readonly #routes: readonly CompiledRoute[]

  constructor(routes: readonly Route[]) {
    const seen = new Set<string>()
    this.#routes = routes.map((route) => {
      const segments = splitPath(route.path).map((segment) => (segment.startsWith(':') ? { name: segment.slice(1) } : segment))
      // Two routes that match the same requests would make one of them dead code: refuse them at start.
      const shape = `${route.method} /${segments.map((segment) => (typeof segment === 'string' ? segment : ':')).join('/')}`
      if (seen.has(shape)) throw new Error(`two routes for ${route.method} ${route.path}`)
      seen.add(shape)
      for (const segment of segments)
        if (typeof segment !== 'string' && !/^[A-Za-z_]\w*$/.test(segment.name)) throw new Error(`bad parameter in route ${route.path}`)
      return { route, segments }
    })
  }

  get routes(): readonly Route[] {
    return this.#routes.map((compiled) => compiled.route)
  }

  /** The route for `method` and `pathname`; a HEAD request finds the GET route (the server sends no body). */
  match(method: string, pathname: string): RouteMatch {
    const parts = splitPath(pathname)
    const wanted = method === 'HEAD' ? 'GET' : method
    const allowed = new Set<AllowedMethod>()
    let best: { readonly compiled: CompiledRoute; readonly params: Record<string, string> } | undefined
    for (const compiled of this.#routes) {
      const params = matchSegments(compiled.segments, parts)
      if (params === undefined) continue
      allowed.add(compiled.route.method)
      if (compiled.route.method === 'GET') allowed.add('HEAD')
      // Literal segments win over parameters (`/v1/transactions/recent` before `/v1/transactions/:id`).
      if (compiled.route.method === wanted && (best === undefined || literalCount(compiled) > literalCount(best.compiled))) best = { compiled, params }
    }
    if (best !== undefined) return { kind: 'found', route: best.compiled.route, params: best.params }
    if (allowed.size > 0) return { kind: 'method-not-allowed', allowed: [...allowed] }
    return { kind: 'not-found' }
  }
}

function literalCount(compiled: CompiledRoute): number {
  return compiled.segments.filter((segment) => typeof segment === 'string').length
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '')
}

function matchSegments(segments: CompiledRoute['segments'], parts: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined
  const params: Record<string, string> = {}
  for (const [i, segment] of segments.entries()) {
    const part = parts[i] as string
    if (typeof segment === 'string') {
      if (segment !== part) return undefined
      continue
    }
    try {
      params[segment.name] = decodeURIComponent(part)
    } catch {
      throw new ApiError(ApiErrorCode.INVALID_REQUEST, `path parameter ${segment.name} is not valid percent-encoding`)
    }
  }
  return params
}
