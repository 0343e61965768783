/** Running the CLI in-process with captured output, and temp data dirs that are removed after each test. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { ExitCode } from '../src/cli/cli-io.js'
import { runCli } from '../src/cli/program.js'

export interface CliRun {
  readonly code: ExitCode
  readonly stdout: string
  readonly stderr: string
}

export async function cli(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env })
  return { code, stdout, stderr }
}

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'constellation-cli-'))
  dirs.push(dir)
  return dir
}
