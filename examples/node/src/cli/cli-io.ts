/**
 * What a command may touch of its process: where it prints and the environment it reads. `main.ts` passes the real
 * ones; tests pass buffers and a fixed environment, so every command except `start` runs in-process under test.
 */
import type { Writable } from 'node:stream'

export interface CliIo {
  /** Results: one line of text for people, or one line of JSON with `--json`. */
  readonly stdout: (text: string) => void
  /** Errors, notes and progress: never parsed by scripts. */
  readonly stderr: (text: string) => void
  readonly env: Readonly<Record<string, string | undefined>>
  /** stdout as a stream, for output that redraws a line on a terminal (the devnet's progress). */
  readonly stdoutStream?: Writable
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stdoutStream: process.stdout,
}

/** How `constellation` exits: 0 done, 1 the operation failed, 2 the command line or the configuration is wrong. */
export enum ExitCode {
  OK = 0,
  FAILURE = 1,
  USAGE = 2,
}
