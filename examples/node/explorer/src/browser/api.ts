/**
 * Reads the node's JSON API from the page (same origin, paths under /v1). A failed request becomes an `ApiFailure`
 * carrying the API's own error code (`NOT_FOUND`, `NOT_FINAL`, …) so views can tell "not final yet" from a broken
 * node. The body's shape is checked at the top level against the fields the view needs: the deeper shape is the
 * server's view types, shared with this app at compile time.
 */

export class ApiFailure extends Error {
  override readonly name = 'ApiFailure'
  constructor(
    /** HTTP status; 0 when the node could not be reached. */
    readonly status: number,
    /** The API's error code, `HTTP_<status>` without one, `UNREACHABLE` or `MALFORMED`. */
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

function errorOf(status: number, body: unknown): ApiFailure {
  const error = typeof body === 'object' && body !== null ? (body as { error?: { code?: unknown; message?: unknown } }).error : undefined
  if (typeof error?.code === 'string') return new ApiFailure(status, error.code, typeof error.message === 'string' ? error.message : error.code)
  return new ApiFailure(status, `HTTP_${status}`, `the node answered HTTP ${status}`)
}

/** GET `path` and check that the answer is an object holding `fields`. */
export async function getView<T extends object>(path: string, fields: readonly (keyof T & string)[], signal?: AbortSignal): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, { headers: { accept: 'application/json' }, ...(signal === undefined ? {} : { signal }) })
  } catch (error) {
    if (signal?.aborted === true) throw error
    throw new ApiFailure(0, 'UNREACHABLE', `the node did not answer ${path}`)
  }
  let body: unknown
  try {
    body = await response.json()
  } catch {
    throw response.ok ? new ApiFailure(response.status, 'MALFORMED', `${path} did not answer JSON`) : errorOf(response.status, undefined)
  }
  if (!response.ok) throw errorOf(response.status, body)
  if (typeof body !== 'object' || body === null) throw new ApiFailure(response.status, 'MALFORMED', `${path} answered ${typeof body}, expected an object`)
  const missing = fields.filter((field) => !(field in body))
  if (missing.length > 0) throw new ApiFailure(response.status, 'MALFORMED', `${path} answered without ${missing.join(', ')}`)
  return body as T
}
