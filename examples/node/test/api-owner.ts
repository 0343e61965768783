/**
 * Tests that drive in-process nodes over HTTP do so as the node's owner: each node's API token, read from its cookie
 * file as the CLI reads it, by the API's origin, so a test's HTTP helper adds `Authorization` to requests that change
 * state without each test passing it. (test/api-auth.test.ts is where requests without it are tried.)
 */
import { readApiCookie } from '../src/api/api-token.js'

const tokens = new Map<string, string>()

/** Reads the token of the node of `dataDir`, whose API is at `apiUrl`: call once the node is up (and after each restart). */
export async function rememberOwnerToken(apiUrl: string, dataDir: string): Promise<void> {
  tokens.set(new URL(apiUrl).origin, await readApiCookie(dataDir))
}

/** The `Authorization` header a request of `method` to `url` needs: none for GET and HEAD, or for a node not remembered. */
export function ownerHeaders(url: string, method: string): Record<string, string> {
  const token = method === 'GET' || method === 'HEAD' ? undefined : tokens.get(new URL(url).origin)
  return token === undefined ? {} : { authorization: `Bearer ${token}` }
}
