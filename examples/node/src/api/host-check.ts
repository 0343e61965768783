/**
 * Which `Host` a request may name. The API binds to loopback by default, but a web page from anywhere can still
 * reach it through DNS rebinding: the page's own name is re-pointed at 127.0.0.1, and the browser then sends the
 * page's requests (transfers, deploys) to the node as same-origin. Such a request carries the attacker's name in
 * its `Host` header, so the API answers only requests that name the node by an IP address, by `localhost`, or by a
 * name the operator allowed (`api.allowedHosts`, for a node served under a DNS name).
 */
import { isIP } from 'node:net'

/** The host name of a `Host` header value (`name`, `name:port`, `[v6]`, `[v6]:port`), lower-cased; undefined if malformed. */
export function hostNameOf(header: string): string | undefined {
  const value = header.trim().toLowerCase()
  if (value.startsWith('[')) {
    const end = value.indexOf(']')
    if (end < 0) return undefined
    const rest = value.slice(end + 1)
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined
    return value.slice(1, end)
  }
  const match = /^([^:]+)(?::\d{1,5})?$/.exec(value)
  return match?.[1]
}

/**
 * Whether a request naming `header` may be answered. No header (HTTP/1.0 clients) is allowed: a browser always
 * sends one, and rebinding needs a browser.
 */
export function isAllowedHost(header: string | undefined, allowedHosts: readonly string[]): boolean {
  if (header === undefined) return true
  const name = hostNameOf(header)
  if (name === undefined) return false
  const bare = name.endsWith('.') ? name.slice(0, -1) : name
  if (isIP(bare) !== 0) return true
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true
  return allowedHosts.some((allowed) => allowed.toLowerCase() === bare)
}
