/**
 * Running the CLI in-process with captured output, or as a process through the launcher (killed after each test if
 * still running), and temp data dirs that are removed after each test.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
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

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'constellation-cli-'))
  dirs.push(dir)
  return dir
}

const LAUNCHER = fileURLToPath(new URL('../bin/constellation.mjs', import.meta.url))

/** The `ready` line `constellation start` prints first. */
export interface Ready {
  readonly id: string
  readonly api: string
  readonly listen: readonly string[]
  readonly pid: number
}

export interface Launched {
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** The first stdout line, or a rejection (with stderr) if the process exits first. */
  readonly firstLine: Promise<string>
  stderr(): string
}

const running: Launched[] = []

/** The test runner's environment without any `CONSTELLATION_*` variable, so only the test's own apply. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CONSTELLATION_')))

/**
 * Starts `constellation …` through bin/constellation.mjs, in its own process group: after the test the group (the
 * launcher and the node it runs) is killed if it is still there.
 */
export function launch(args: readonly string[]): Launched {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv, detached: true })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve)
    void exited.then((exit) => reject(new Error(`exited (${exit.code ?? exit.signal}) before a line: ${stderr}`)))
  })
  firstLine.catch(() => {})
  const launched = { child, exited, firstLine, stderr: () => stderr }
  running.push(launched)
  return launched
}

// Processes first: a node still running would hold its data dir.
afterEach(async () => {
  for (const launched of running.splice(0)) {
    try {
      if (launched.child.pid !== undefined) process.kill(-launched.child.pid, 'SIGKILL')
    } catch {
      // ESRCH: the group is gone already.
    }
    await launched.exited
  }
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})
