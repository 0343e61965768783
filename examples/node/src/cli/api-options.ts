/**
 * The options every command that talks to a running node shares: `--api URL`, or `--data-dir D` whose `node.json`
 * names the URL (falling back to `CONSTELLATION_DATA_DIR`), `--api-token` (or `CONSTELLATION_API_TOKEN`; else the
 * token is read from the data dir's `api.cookie`, which its owner alone can read), and `--json`.
 */
import { type Command, Option } from 'commander'
import * as t from 'io-ts'
import { readApiCookie } from '../api/api-token.js'
import { ApiTokenCodec } from '../config/node-config.js'
import { isNodeError, NodeError, NodeErrorCode } from '../errors.js'
import { ApiClient, ApiUrlCodec } from './api-client.js'
import { decodeVariable, ENVIRONMENT } from './load-config.js'
import { parseWith } from './option-values.js'
import { withJsonOption } from './output.js'
import { readLiveRuntimeFile, type RuntimeInfo } from './runtime-file.js'

export interface ApiFlags {
  readonly api?: string
  readonly dataDir?: string
  readonly apiToken?: string
  readonly json?: boolean
}

export function withApiOptions(command: Command): Command {
  command
    .addOption(new Option('--api <url>', 'the node API, e.g. http://127.0.0.1:8080').argParser(parseWith(ApiUrlCodec)).conflicts('dataDir'))
    .option('--data-dir <dir>', `a running node's data dir; its node.json names the API, its api.cookie the token (or $${ENVIRONMENT.dataDir})`)
    .option(
      '--api-token <token>',
      `the node's API token, for commands that change state (default: read from the data dir's api.cookie; prefer $${ENVIRONMENT.apiToken}, which other users cannot see in the process list)`,
      parseWith(ApiTokenCodec),
    )
  return withJsonOption(command)
}

/**
 * Where a command finds the API: `--api`, else the `node.json` of `--data-dir` or `CONSTELLATION_DATA_DIR`; and its
 * token: `--api-token`, else `CONSTELLATION_API_TOKEN`, else the data dir's cookie file (when it cannot be read, the
 * client goes without: reading needs no token, and a 401 says why there was none).
 */
export async function apiClientFor(flags: ApiFlags, env: Readonly<Record<string, string | undefined>>): Promise<ApiClient> {
  const token = flags.apiToken ?? decodeVariable(env, ENVIRONMENT.apiToken, ApiTokenCodec)
  if (flags.api !== undefined) return new ApiClient(flags.api, token === undefined ? {} : { token })
  const dataDir = flags.dataDir ?? (env[ENVIRONMENT.dataDir]?.trim() || undefined)
  if (dataDir === undefined) throw new NodeError(NodeErrorCode.INVALID_CONFIG, `which node? pass --api URL or --data-dir D (or set ${ENVIRONMENT.dataDir})`)
  const runtime = await readLiveRuntimeFile(dataDir)
  if (runtime.api === undefined) throw new NodeError(NodeErrorCode.UNAVAILABLE, `the node in ${dataDir} runs without an HTTP API`)
  await probe(runtime.api, runtime, dataDir)
  if (token !== undefined) return new ApiClient(runtime.api, { token })
  try {
    return new ApiClient(runtime.api, { token: await readApiCookie(dataDir) })
  } catch (error) {
    return new ApiClient(runtime.api, { tokenProblem: (error as Error).message })
  }
}

const PROBE_TIMEOUT_MS = 10_000
const ProbeCodec = t.type({ id: t.string })

/**
 * Asks the API node.json names who it is before anything is sent to it: after a kill -9 its process may be gone with
 * its pid reused, and its port taken by another program or another node.
 */
async function probe(url: string, runtime: RuntimeInfo, dataDir: string): Promise<void> {
  let answered: string
  try {
    answered = (await new ApiClient(url).get('/v1/status', ProbeCodec, { timeoutMs: PROBE_TIMEOUT_MS })).id
  } catch (error) {
    if (!isNodeError(error, NodeErrorCode.UNAVAILABLE)) throw error
    throw new NodeError(
      NodeErrorCode.UNAVAILABLE,
      `no node is running in ${dataDir}: its node.json names ${url}, which does not answer (${error.message})`,
      { dataDir, url },
      { cause: error },
    )
  }
  if (answered !== runtime.id) {
    throw new NodeError(
      NodeErrorCode.UNAVAILABLE,
      `no node is running in ${dataDir}: its node.json names ${url}, which answers for another node (${answered.slice(0, 16)}…, not ${runtime.id.slice(0, 16)}…); node.json is left over from a node that did not stop cleanly`,
      { dataDir, url },
    )
  }
}
