/**
 * The `constellation` command tree and `runCli`, which runs one command line and returns its exit code. Commander
 * never exits the process itself (`exitOverride`): its errors (an unknown flag, a bad value, a missing option)
 * come back here as exit code 2, after it has printed the message and a hint to use `--help`.
 */
import { Command } from 'commander'
import type { CliContext } from './cli-context.js'
import { type CliIo, ExitCode } from './cli-io.js'
import { registerContractCommand } from './commands/contract.js'
import { registerDevnetCommand } from './commands/devnet.js'
import { registerGenesisCommand } from './commands/genesis.js'
import { registerInitCommand } from './commands/init.js'
import { registerSoakCommand } from './commands/soak.js'
import { registerStartCommand } from './commands/start.js'
import { registerStatusCommand } from './commands/status.js'
import { registerTxCommand } from './commands/tx.js'
import { ENVIRONMENT } from './load-config.js'
import { reportError } from './report-error.js'
import { versionLine } from './version.js'

export function createProgram(context: CliContext): Command {
  const program = new Command('constellation')
    .description('A Constellation node: create one, run it, and talk to it over its HTTP API; or run a local devnet.')
    .exitOverride()
    .configureOutput({ writeOut: context.io.stdout, writeErr: context.io.stderr })
    .version(versionLine(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText(
      'after',
      `
Quick start:
  $ constellation devnet                                     # a local network of real nodes under load
  $ constellation init --data-dir ./node --new-network       # a one-node network of your own
  $ constellation start --data-dir ./node
  $ constellation status --data-dir ./node

Configuration for start: flags > environment (${Object.values(ENVIRONMENT).join(', ')}) > <data-dir>/config.json > defaults.
Exit codes: 0 done, 1 the operation failed, 2 bad command line or configuration.`,
    )
  registerInitCommand(program, context)
  registerGenesisCommand(program, context)
  registerStartCommand(program, context)
  registerStatusCommand(program, context)
  registerTxCommand(program, context)
  registerContractCommand(program, context)
  registerDevnetCommand(program, context)
  registerSoakCommand(program, context)
  return program
}

/** Runs one command line (without the `node script` prefix) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode = ExitCode.OK
  const context: CliContext = { io, setExitCode: (code) => (exitCode = code) }
  try {
    await createProgram(context).parseAsync([...argv], { from: 'user' })
    return exitCode
  } catch (error) {
    return reportError(io, error)
  }
}
