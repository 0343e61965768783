/** What every command's action gets: the process's IO and a way to set the exit code without exiting. */
import type { CliIo, ExitCode } from './cli-io.js'

export interface CliContext {
  readonly io: CliIo
  /** For commands that end with something other than 0 without failing (`start` after a hard timeout). */
  setExitCode(code: ExitCode): void
}
