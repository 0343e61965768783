/**
 * The options every command that talks to a running node shares: `--api URL`, or `--data-dir D` whose `node.json`
 * names the URL (falling back to `CONSTELLATION_DATA_DIR`), and `--json`.
 */
import { type Command, Option } from 'commander'
import { NodeError, NodeErrorCode } from '../errors.js'
import { ApiClient, ApiUrlCodec } from './api-client.js'
import { ENVIRONMENT } from './load-config.js'
import { parseWith } from './option-values.js'
import { withJsonOption } from './output.js'
import { readRuntimeFile } from './runtime-file.js'

export interface ApiFlags {
  readonly api?: string
  readonly dataDir?: string
  readonly json?: boolean
}

export function withApiOptions(command: Command): Command {
  command
    .addOption(new Option('--api <url>', 'the node API, e.g. http://127.0.0.1:8080').argParser(parseWith(ApiUrlCodec)).conflicts('dataDir'))
    .option('--data-dir <dir>', `a running node's data dir; its node.json names the API (or $${ENVIRONMENT.dataDir})`)
  return withJsonOption(command)
}

/** Where a command finds the API: `--api`, else the `node.json` of `--data-dir` or `CONSTELLATION_DATA_DIR`. */
export async function apiClientFor(flags: ApiFlags, env: Readonly<Record<string, string | undefined>>): Promise<ApiClient> {
  if (flags.api !== undefined) return new ApiClient(flags.api)
  const dataDir = flags.dataDir ?? (env[ENVIRONMENT.dataDir]?.trim() || undefined)
  if (dataDir === undefined) throw new NodeError(NodeErrorCode.INVALID_CONFIG, `which node? pass --api URL or --data-dir D (or set ${ENVIRONMENT.dataDir})`)
  const runtime = await readRuntimeFile(dataDir)
  if (runtime.api === undefined) throw new NodeError(NodeErrorCode.UNAVAILABLE, `the node in ${dataDir} runs without an HTTP API`)
  return new ApiClient(runtime.api)
}
