/**
 * How a failure leaves the CLI: one line `error CODE: message` on stderr and an exit code — 2 when the command line,
 * the configuration or the data dir's setup is wrong (fix the invocation), 1 when the operation failed (the node
 * refused, could not be reached, or broke).
 */
import { CommanderError } from 'commander'
import { NodeError, NodeErrorCode } from '../errors.js'
import { ApiCallError } from './api-client.js'
import { type CliIo, ExitCode } from './cli-io.js'

const USAGE_CODES: ReadonlySet<NodeErrorCode> = new Set([
  NodeErrorCode.INVALID_CONFIG,
  NodeErrorCode.INVALID_GENESIS,
  NodeErrorCode.NOT_INITIALISED,
  NodeErrorCode.ALREADY_INITIALISED,
  NodeErrorCode.NOT_A_MEMBER,
])

export function exitCodeOf(error: unknown): ExitCode {
  // Commander has printed its own message (and the help hint) already; --help and --version end with 0.
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE
  if (error instanceof NodeError && USAGE_CODES.has(error.code)) return ExitCode.USAGE
  return ExitCode.FAILURE
}

/** The one line printed for a failure (commander's own errors are printed by commander). */
export function errorLine(error: unknown): string | undefined {
  if (error instanceof CommanderError) return undefined
  if (error instanceof ApiCallError && error.retryAfterS !== undefined) return `error ${error.code}: ${error.message} (retry after ${error.retryAfterS} s)\n`
  if (error instanceof NodeError || error instanceof ApiCallError) return `error ${error.code}: ${error.message}\n`
  const code = (error as { code?: unknown } | undefined)?.code
  const message = error instanceof Error ? error.message : String(error)
  return typeof code === 'string' ? `error ${code}: ${message}\n` : `error: ${message}\n`
}

export function reportError(io: CliIo, error: unknown): ExitCode {
  const line = errorLine(error)
  if (line !== undefined) io.stderr(line)
  return exitCodeOf(error)
}
