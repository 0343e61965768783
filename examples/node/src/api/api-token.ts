/**
 * The credential of the API's routes that change state, like bitcoind's cookie file: at each start the node makes a
 * random token (32 bytes from the OS's CSPRNG, as hex) unless `api.token` fixes one, and writes it to
 * `<dataDir>/api.cookie`, readable by its owner only; a clean stop removes the file. A client on the same machine
 * running as the node's owner (the CLI with `--data-dir`, the devnet) reads the file and sends
 * `Authorization: Bearer <token>`; any other local user cannot read it, so cannot make the node pay. Reading the node
 * stays open: only methods other than GET and HEAD need the token (see api-server.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { constants } from 'node:fs'
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { isLeft } from 'fp-ts/lib/Either.js'
import { ApiTokenCodec, dataPaths } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'

/** Bytes of randomness in a token the node makes (256 bits: not guessable, however many tries). */
export const API_TOKEN_BYTES = 32
/** A cookie file is one token and a newline; anything much larger is not one. */
const MAX_COOKIE_BYTES = 1_024

/** A new random token: 64 hex characters. */
export function createApiToken(): string {
  return randomBytes(API_TOKEN_BYTES).toString('hex')
}

/**
 * Writes `token` to `path`, owner-only from the first byte: a new file beside it is created with mode 0600 and
 * O_EXCL (never a file or link someone else put there), written, synced, and renamed over `path`. A reader sees the
 * old file or the whole new one, never a part, and no other user can read it at any moment.
 */
export async function writeApiCookie(path: string, token: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    const file = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    try {
      await file.writeFile(`${token}\n`)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}

/** Removes the cookie file at a clean stop (a node killed with SIGKILL leaves it: the next start replaces it). */
export async function removeApiCookie(path: string): Promise<void> {
  await rm(path, { force: true })
}

/**
 * The token a running node of `dataDir` serves, from its cookie file. Fails with a NodeError UNAVAILABLE naming the
 * file and why (no such file: the node is not running; EACCES: this user is not the node's owner).
 */
export async function readApiCookie(dataDir: string): Promise<string> {
  const path = dataPaths(dataDir).apiCookie
  let text: string
  try {
    if ((await stat(path)).size > MAX_COOKIE_BYTES)
      throw new NodeError(NodeErrorCode.UNAVAILABLE, `${path} is not an API cookie file (larger than ${MAX_COOKIE_BYTES} bytes)`, { path })
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof NodeError) throw error
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    const why =
      code === 'ENOENT' ? 'no such file: is the node running?' : code === 'EACCES' ? "permission denied: run as the node's owner, or pass its token" : code
    throw new NodeError(NodeErrorCode.UNAVAILABLE, `cannot read the API token from ${path} (${why})`, { path, reason: code }, { cause: error })
  }
  const decoded = ApiTokenCodec.decode(text.trim())
  if (isLeft(decoded)) throw new NodeError(NodeErrorCode.UNAVAILABLE, `${path} does not hold an API token`, { path })
  return decoded.right
}

/** The token of an `Authorization: Bearer <token>` header value, or undefined for any other value. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^bearer +([^\s]+) *$/i.exec(header)
  return match?.[1]
}

/** Compares a presented token with the node's in time that does not depend on where they differ (nor on lengths). */
export function tokenMatches(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(presented), digest(expected))
}
