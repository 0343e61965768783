/**
 * The configuration `start` runs with, from four layers: defaults < `<dataDir>/config.json` < environment
 * (`CONSTELLATION_*`) < command-line flags. Each layer is a partial config; objects merge field by field, arrays
 * and scalars replace. Every value is decoded by a codec where it enters (an environment variable is named in its
 * error) and the merged result by `NodeConfigCodec`, so all sources meet the same rules.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeJsonFile, decodeWith, isPlainObject, PortCodec, unknownFields } from '../config/codecs.js'
import {
  ApiTokenCodec,
  decodeNodeConfig,
  dataPaths,
  defaultNodeConfig,
  Host,
  type LogLevel,
  MAX_CONFIG_BYTES,
  MultiaddrCodec as Multiaddr,
  type NodeConfig,
  NodeConfigCodec,
} from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { integerText, refusal } from './option-values.js'

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { readonly [K in keyof T]?: DeepPartial<T[K]> } : T

/** One layer: the fields it sets override the layers below it. */
export type ConfigOverrides = DeepPartial<NodeConfig>

/** The flags of `start` that override the config (commander has already decoded each one). */
export interface ConfigFlags {
  readonly dataDir?: string
  readonly listen?: string[]
  readonly bootstrap?: string[]
  readonly apiHost?: string
  readonly apiPort?: number
  /** `--api-token`: a fixed token for the routes that change state (else a new one at each start). */
  readonly apiToken?: string
  readonly logLevel?: LogLevel
  /** `--explorer` / `--no-explorer`: serve the web explorer or not. */
  readonly explorer?: boolean
}

/** The environment variables `start` reads (the passphrase is not config: it opens the key file). */
export const ENVIRONMENT = {
  dataDir: 'CONSTELLATION_DATA_DIR',
  apiPort: 'CONSTELLATION_API_PORT',
  apiHost: 'CONSTELLATION_API_HOST',
  /** The fixed API token: `start` serves it, the client commands send it (see api/api-token.ts). */
  apiToken: 'CONSTELLATION_API_TOKEN',
  logLevel: 'CONSTELLATION_LOG_LEVEL',
  bootstrap: 'CONSTELLATION_BOOTSTRAP',
  listen: 'CONSTELLATION_LISTEN',
  explorer: 'CONSTELLATION_EXPLORER',
  passphrase: 'CONSTELLATION_PASSPHRASE',
} as const

export const LogLevelCodec = NodeConfigCodec.type.props.log.type.props.level
/** `true` or `false`, as a variable spells it. */
const BooleanText = new t.Type<boolean, string, unknown>(
  'BooleanText',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => (u === 'true' ? t.success(true) : u === 'false' ? t.success(false) : t.failure(u, c)),
  String,
)

type Environment = Readonly<Record<string, string | undefined>>

/** An empty variable counts as unset, as shells make it easy to export one by accident. */
function variable(env: Environment, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** A variable decoded by `codec`; unset or empty is undefined, a bad value fails naming the variable. */
export function decodeVariable<A>(
  env: Environment,
  name: string,
  codec: t.Decoder<unknown, A>,
  fromText: (text: string) => unknown = (text) => text,
): A | undefined {
  const text = variable(env, name)
  if (text === undefined) return undefined
  const decoded = codec.decode(fromText(text))
  if (isLeft(decoded)) throw new NodeError(NodeErrorCode.INVALID_CONFIG, `environment variable ${name}: ${refusal(decoded.left)}`, { variable: name })
  return decoded.right
}

const commaList = (text: string) =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')

/** Only the fields that are set, so an unset flag never hides a lower layer. */
function defined<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> }
}

function overrides(fields: ConfigFlags): ConfigOverrides {
  const p2p = defined({ listen: fields.listen, bootstrap: fields.bootstrap })
  const api = defined({ host: fields.apiHost, port: fields.apiPort, token: fields.apiToken })
  return {
    ...defined({ dataDir: fields.dataDir }),
    ...(Object.keys(p2p).length > 0 && { p2p }),
    ...(Object.keys(api).length > 0 && { api }),
    ...(fields.logLevel !== undefined && { log: { level: fields.logLevel } }),
    ...(fields.explorer !== undefined && { explorer: { enabled: fields.explorer } }),
  }
}

/** The layer the `CONSTELLATION_*` variables make; a bad value fails naming its variable. */
export function configFromEnvironment(env: Environment): ConfigOverrides {
  const listen = decodeVariable(env, ENVIRONMENT.listen, t.array(Multiaddr), commaList)
  const bootstrap = decodeVariable(env, ENVIRONMENT.bootstrap, t.array(Multiaddr), commaList)
  return overrides({
    ...defined({
      dataDir: decodeVariable(env, ENVIRONMENT.dataDir, t.string),
      apiHost: decodeVariable(env, ENVIRONMENT.apiHost, Host),
      apiPort: decodeVariable(env, ENVIRONMENT.apiPort, PortCodec, integerText),
      apiToken: decodeVariable(env, ENVIRONMENT.apiToken, ApiTokenCodec),
      logLevel: decodeVariable(env, ENVIRONMENT.logLevel, LogLevelCodec),
      explorer: decodeVariable(env, ENVIRONMENT.explorer, BooleanText, (text) => text.toLowerCase()),
    }),
    ...(listen !== undefined && { listen }),
    ...(bootstrap !== undefined && { bootstrap }),
  })
}

/** The layer the flags make. */
export function configFromFlags(flags: ConfigFlags): ConfigOverrides {
  return overrides(flags)
}

/** `over` on top of `base`: objects field by field, anything else replaced. */
export function mergeLayer(base: unknown, over: unknown): unknown {
  if (over === undefined) return base
  if (!isPlainObject(base) || !isPlainObject(over)) return over
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) merged[key] = mergeLayer(base[key], value)
  return merged
}

/**
 * The pure part of loading: defaults for `dataDir`, then the file's contents (decoded naming the file), then the
 * environment and the flags. A relative genesis path is relative to the data dir, so a data dir can move.
 */
export function layerConfig(layers: {
  readonly dataDir: string
  readonly file: unknown
  readonly fileName: string
  readonly env: ConfigOverrides
  readonly flags: ConfigOverrides
}): NodeConfig {
  const dataDir = resolve(layers.dataDir)
  const fromFile = decodeWith(
    NodeConfigCodec,
    mergeLayer(defaultNodeConfig(dataDir), layers.file),
    NodeErrorCode.INVALID_CONFIG,
    `config file ${layers.fileName}`,
  )
  // The codec drops fields it does not know; in a file a person edits, one is almost always a misspelt setting.
  const unknown = unknownFields(layers.file, fromFile)
  if (unknown.length > 0)
    throw new NodeError(NodeErrorCode.INVALID_CONFIG, `config file ${layers.fileName}: unknown field ${unknown.join(', ')}`, { fields: unknown })
  const merged = decodeNodeConfig(mergeLayer(mergeLayer(mergeLayer(fromFile, layers.env), layers.flags), { dataDir }))
  return { ...merged, genesisFile: resolve(dataDir, merged.genesisFile) }
}

/** The data dir `start` uses: `--data-dir`, else `CONSTELLATION_DATA_DIR`. */
export function dataDirOf(flags: { readonly dataDir?: string }, env: Environment): string {
  const dataDir = flags.dataDir ?? variable(env, ENVIRONMENT.dataDir)
  if (dataDir === undefined) throw new NodeError(NodeErrorCode.INVALID_CONFIG, `no data dir: pass --data-dir or set ${ENVIRONMENT.dataDir}`)
  return resolve(dataDir)
}

/** Reads `<dataDir>/config.json` and layers the environment and the flags over it. */
export async function loadNodeConfig(flags: ConfigFlags, env: Environment): Promise<NodeConfig> {
  const dataDir = dataDirOf(flags, env)
  const path = dataPaths(dataDir).config
  if (!existsSync(path)) {
    throw new NodeError(NodeErrorCode.NOT_INITIALISED, `${dataDir} has no config.json: run \`constellation init --data-dir ${dataDir}\` first`, { dataDir })
  }
  const file = await decodeJsonFile(path, t.UnknownRecord, MAX_CONFIG_BYTES, NodeErrorCode.INVALID_CONFIG, 'config file')
  return layerConfig({ dataDir, file, fileName: path, env: configFromEnvironment(env), flags: configFromFlags(flags) })
}
