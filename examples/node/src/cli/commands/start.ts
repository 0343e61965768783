/**
 * `constellation start`: runs a node until SIGINT or SIGTERM. The config is layered (see load-config.ts); once the
 * node is up, one JSON line `{"event":"ready",…}` goes to stdout for scripts and the devnet, and logs go to
 * `<dataDir>/node.log` (or stderr with `--log-file -`). Stopping is `Shutdown`'s business: the first signal closes
 * the node, later ones are ignored, a close that hangs ends after a hard timeout with exit code 1; an uncaught error
 * is logged and closes the node with exit code 1.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { PortCodec } from '../../config/codecs.js'
import { ApiTokenCodec, dataPaths, Host, MultiaddrCodec as Multiaddr, type NodeConfig } from '../../config/node-config.js'
import { NodeError, NodeErrorCode } from '../../errors.js'
import { createLogger, errorFields, type Logger } from '../../log/logger.js'
import { EXPLORER_PATH } from '../../explorer/asset-routes.js'
import { createNode } from '../../node/create-node.js'
import type { FullNode } from '../../node/full-node.js'
import type { CliContext } from '../cli-context.js'
import { ExitCode } from '../cli-io.js'
import { type ConfigFlags, ENVIRONMENT, LogLevelCodec, loadNodeConfig } from '../load-config.js'
import { nodeModules } from '../node-modules.js'
import { collectWith, integerText, parseWith } from '../option-values.js'
import { errorLine } from '../report-error.js'
import { readRuntimeFile, readyLine } from '../runtime-file.js'
import { Shutdown } from '../shutdown.js'

interface StartFlags extends ConfigFlags {
  readonly logFile?: string
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const

export function registerStartCommand(program: Command, context: CliContext): void {
  program
    .command('start')
    .summary('run a node until SIGINT or SIGTERM')
    .description(
      'Runs the node of a data dir made by `init`: its chain, the network, consensus, contracts, the HTTP API and the web explorer (<api>/explorer/). ' +
        'Prints one JSON line {"event":"ready","id","api","listen","pid"} on stdout when up. ' +
        'Flags override environment variables, which override <data-dir>/config.json.',
    )
    .option('--data-dir <dir>', `the node data dir (or $${ENVIRONMENT.dataDir})`)
    .option('--listen <multiaddr>', `a p2p listen address, repeatable (or $${ENVIRONMENT.listen}, comma-separated)`, collectWith(Multiaddr))
    .option('--bootstrap <multiaddr>', `a peer to dial at start, repeatable (or $${ENVIRONMENT.bootstrap}, comma-separated)`, collectWith(Multiaddr))
    .option('--api-host <host>', `interface the HTTP API binds to (or $${ENVIRONMENT.apiHost})`, parseWith(Host))
    .option('--api-port <port>', `HTTP API port, 0 for any free one (or $${ENVIRONMENT.apiPort})`, parseWith(PortCodec, integerText))
    .option(
      '--api-token <token>',
      `a fixed token for the API's routes that change state, for clients on other machines (default: a new random one at each start, in <data-dir>/api.cookie); prefer $${ENVIRONMENT.apiToken}, which other users cannot see in the process list`,
      parseWith(ApiTokenCodec),
    )
    .option('--log-level <level>', `fatal, error, warn, info, debug, trace or silent (or $${ENVIRONMENT.logLevel})`, parseWith(LogLevelCodec))
    .option('--log-file <file>', 'where logs go (default <data-dir>/node.log; - for stderr)')
    // Both forms, so that neither sets a default: an absent flag leaves the config file's or the environment's choice.
    .option('--explorer', `serve the web explorer at <api>/explorer/ (the default; or $${ENVIRONMENT.explorer}=true)`)
    .option('--no-explorer', `do not serve the web explorer (or $${ENVIRONMENT.explorer}=false, or explorer.enabled: false in config.json)`)
    .addHelpText(
      'after',
      `
The key file is opened with $${ENVIRONMENT.passphrase} when it is sealed.

Examples:
  $ constellation start --data-dir ./node-a
  $ constellation start --data-dir ./node-b --api-port 8081 --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…
  $ ${ENVIRONMENT.dataDir}=./node-a ${ENVIRONMENT.logLevel}=debug constellation start --log-file -`,
    )
    .action(async (flags: StartFlags) => {
      context.setExitCode(await runStart(flags, context))
    })
}

async function runStart(flags: StartFlags, context: CliContext): Promise<ExitCode> {
  const { io } = context
  const config = await loadNodeConfig(flags, io.env)
  if (!existsSync(config.genesisFile)) {
    throw new NodeError(
      NodeErrorCode.INVALID_GENESIS,
      `no network genesis at ${config.genesisFile}: copy the network's genesis.json there, or see \`constellation genesis --help\``,
    )
  }
  const logFile = flags.logFile ?? dataPaths(config.dataDir).log
  const logger = createLogger({ level: config.log.level, ...(logFile !== '-' && { file: resolve(logFile) }) })
  const shutdown = new Shutdown({
    onTimeout: (timeoutMs) => {
      logger.error({ timeoutMs }, 'the node did not close in time')
      io.stderr(`error: the node did not close within ${timeoutMs / 1000} s; exiting\n`)
    },
  })
  const onSignal = (signal: NodeJS.Signals) => {
    if (shutdown.request(ExitCode.OK)) {
      logger.info({ signal }, 'stopping')
      io.stderr(`${signal}: closing the node\n`)
    } else {
      logger.info({ signal }, 'already stopping: signal ignored')
    }
  }
  const onFatal = (error: unknown) => {
    logger.fatal(errorFields(error), 'uncaught error: closing the node')
    io.stderr(errorLine(error) ?? '')
    shutdown.request(ExitCode.FAILURE)
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  process.on('uncaughtException', onFatal)
  process.on('unhandledRejection', onFatal)
  try {
    // A start that hangs after a stop was requested still ends at the hard timeout.
    const started = startNode(config, flags, context, logger, shutdown)
    started.catch(() => {})
    await Promise.race([started, shutdown.done])
    return await shutdown.done
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal)
    process.off('uncaughtException', onFatal)
    process.off('unhandledRejection', onFatal)
    await flush(logger)
  }
}

/** Resolves once the node is up (or a stop during the start has been dealt with); rejects if the start failed. */
async function startNode(config: NodeConfig, flags: StartFlags, context: CliContext, logger: Logger, shutdown: Shutdown): Promise<void> {
  const passphrase = context.io.env[ENVIRONMENT.passphrase]
  let node: FullNode
  try {
    node = await createNode(config, {
      logger,
      signal: shutdown.signal,
      modules: nodeModules(config),
      ...(passphrase !== undefined && passphrase !== '' && { passphrase }),
    })
  } catch (error) {
    if (!shutdown.requested) {
      logger.error(errorFields(error), 'start failed')
      throw error
    }
    // Stopped while starting: createNode has closed what it opened.
    logger.info(errorFields(error), 'stopped while starting')
    shutdown.settle()
    return
  }
  const running = node
  shutdown.attach(async () => {
    try {
      await running.close()
    } catch (error) {
      logger.error(errorFields(error), 'close failed')
      throw error
    }
  })
  if (shutdown.requested) return
  try {
    const runtime = await readRuntimeFile(config.dataDir)
    context.io.stdout(readyLine(runtime))
    const explorer = runtime.api !== undefined && config.explorer.enabled ? `, explorer ${runtime.api}${EXPLORER_PATH}` : ''
    context.io.stderr(
      `node ${node.id.slice(0, 16)}… is up${runtime.api === undefined ? '' : `, API ${runtime.api}`}${explorer}; logs: ${logTarget(config.dataDir, flags)}; Ctrl-C stops it\n`,
    )
  } catch (error) {
    // The node runs but cannot say where: close it rather than leave a node no script will find.
    logger.error(errorFields(error), 'no ready line')
    context.io.stderr(errorLine(error) ?? '')
    shutdown.request(ExitCode.FAILURE)
  }
}

function logTarget(dataDir: string, flags: StartFlags): string {
  return flags.logFile === '-' ? 'stderr' : resolve(flags.logFile ?? dataPaths(dataDir).log)
}

function flush(logger: Logger): Promise<void> {
  return new Promise((done) => logger.flush(() => done()))
}
