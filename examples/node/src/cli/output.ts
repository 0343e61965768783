/**
 * What a command prints on success: a few aligned lines for people, or with `--json` the answer as one line of JSON
 * for scripts (`jq` reads it; nothing else goes to stdout).
 */
import type { Command } from 'commander'
import type { CliIo } from './cli-io.js'

export function withJsonOption(command: Command): Command {
  return command.option('--json', 'print the result as one line of JSON (for scripts)')
}

/** Rows of `label  value`, the labels padded to one column. */
export function table(rows: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${typeof value === 'string' ? value : JSON.stringify(value)}\n`).join('')
}

export function printResult(io: CliIo, options: { readonly json?: boolean }, value: unknown, human: () => string): void {
  io.stdout(options.json === true ? `${JSON.stringify(value)}\n` : human())
}
