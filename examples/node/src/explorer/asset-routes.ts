/**
 * The routes that serve the explorer app: `GET /` redirects to it, `GET /explorer/` is its page and
 * `GET /explorer/<file>` its script, stylesheet and icon (see explorer-assets.ts). Every file carries its ETag and
 * `Cache-Control: no-cache` (a browser keeps it but asks first: a 304 costs a few bytes, and a rebuilt node is seen at
 * once); the page carries a Content-Security-Policy that allows only the node's own origin and no inline script. An
 * unknown file is the API's usual 404 JSON.
 */
import { ApiError, ApiErrorCode } from '../api/api-error.js'
import type { RawResponse, Route, RouteContext } from '../api/router.js'
import { type ExplorerBundler, explorerAssets, matchesEtag, type ServedAsset } from './explorer-assets.js'

export const EXPLORER_PATH = '/explorer/'

/**
 * What the page may load: its own origin's script, styles, images and API (the event stream included), nothing
 * inline, no plugins, no framing, no form posts elsewhere.
 */
export const EXPLORER_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

function assetResponse(asset: ServedAsset, headers: RouteContext['headers']): RawResponse {
  const page = asset.path === 'index.html'
  const common = {
    etag: asset.etag,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...(page && { 'content-security-policy': EXPLORER_CSP, 'referrer-policy': 'no-referrer' }),
  }
  const ifNoneMatch = headers['if-none-match']
  if (matchesEtag(ifNoneMatch, asset.etag)) return { status: 304, contentType: asset.contentType, raw: '', headers: common }
  return { status: 200, contentType: asset.contentType, raw: asset.body, headers: common }
}

function redirect(location: string): RawResponse {
  return { status: 302, contentType: 'text/plain; charset=utf-8', raw: `see ${location}\n`, headers: { location } }
}

export function assetRoutes(bundler?: ExplorerBundler): Route[] {
  const serve = async (path: string, headers: RouteContext['headers']): Promise<RawResponse> => {
    const asset = (await explorerAssets(bundler)).get(path)
    if (asset === undefined) throw new ApiError(ApiErrorCode.NOT_FOUND, `the explorer has no file ${path}`)
    return assetResponse(asset, headers)
  }
  return [
    { method: 'GET', path: '/', handler: () => redirect(EXPLORER_PATH) },
    {
      method: 'GET',
      path: '/explorer',
      // The page's files are named relative to it: /explorer must become /explorer/ before the page is served.
      handler: ({ path, headers }) => (path.endsWith('/') ? serve('index.html', headers) : redirect(EXPLORER_PATH)),
    },
    { method: 'GET', path: '/explorer/:asset', handler: ({ params, headers }) => serve(params.asset ?? '', headers) },
  ]
}
