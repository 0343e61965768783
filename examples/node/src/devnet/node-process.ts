/**
 * One node of a devnet as a child process: `constellation start --data-dir D` run from the TypeScript sources (tsx
 * as a loader, the `source` condition), as a user would run it. The node prints one JSON line
 * `{"event":"ready", id, api, listen, pid}` on stdout once it is up; `ready()` resolves with it, or rejects when the
 * process exits first (with the end of its stderr, which says why). `stop()` sends SIGTERM and, if the node has not
 * exited within the grace period, SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url))
const CLI_MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url))
/** Resolved here, so the nodes start from any working directory. */
const TSX_LOADER = import.meta.resolve('tsx')
/** What is kept of a node's stderr for error messages. */
const STDERR_TAIL_BYTES = 4_096

const ReadyLineCodec = t.type({
  event: t.literal('ready'),
  id: t.string,
  api: t.string,
  listen: t.array(t.string),
})
export type ReadyLine = t.TypeOf<typeof ReadyLineCodec>

export interface NodeExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface NodeProcessOptions {
  readonly dataDir: string
  /** A name for messages (`node-3`). */
  readonly name: string
  /** Extra arguments after `start --data-dir D`. */
  readonly args?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  /** In its own process group: a terminal's Ctrl-C then reaches only the parent, which stops the node itself. */
  readonly detached?: boolean
}

export class NodeProcess {
  readonly name: string
  readonly dataDir: string
  readonly #child: ChildProcess
  readonly #ready: Promise<ReadyLine>
  readonly #exited: Promise<NodeExit>
  #exit: NodeExit | undefined
  #stderr = ''

  constructor(options: NodeProcessOptions) {
    this.name = options.name
    this.dataDir = options.dataDir
    this.#child = spawn(
      process.execPath,
      ['--conditions=source', '--import', TSX_LOADER, CLI_MAIN, 'start', '--data-dir', options.dataDir, ...(options.args ?? [])],
      {
        cwd: PACKAGE_DIR,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: options.env ?? process.env,
        detached: options.detached ?? false,
      },
    )
    this.#child.stderr?.setEncoding('utf8')
    this.#child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_TAIL_BYTES)
    })
    this.#exited = new Promise((resolve) => {
      this.#child.once('close', (code, signal) => {
        this.#exit = { code, signal }
        resolve(this.#exit)
      })
    })
    this.#ready = new Promise((resolve, reject) => {
      const lines = createInterface({ input: this.#child.stdout as NodeJS.ReadableStream })
      lines.on('line', (line) => {
        const ready = parseReadyLine(line)
        if (ready !== undefined) resolve(ready)
      })
      // 'close' comes after stdout and stderr ended: every line has been read by then.
      void this.#exited.then((exit) => reject(new Error(`${this.name} exited (${describeExit(exit)}) before it was ready${this.stderrTail()}`)))
    })
    // Rejections are for whoever awaits ready(); one nobody awaits must not crash the devnet.
    this.#ready.catch(() => {})
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  /** How the process ended, once it has. */
  get exit(): NodeExit | undefined {
    return this.#exit
  }

  ready(): Promise<ReadyLine> {
    return this.#ready
  }

  exited(): Promise<NodeExit> {
    return this.#exited
  }

  /** The last lines the node wrote to stderr, for error messages ('' when it wrote none). */
  stderrTail(): string {
    const tail = this.#stderr.trim()
    return tail === '' ? '' : `:\n${tail.split('\n').slice(-12).join('\n')}`
  }

  /** SIGTERM, then SIGKILL if the node is still running after `graceMs`. */
  async stop(graceMs = 10_000): Promise<NodeExit> {
    if (this.#exit !== undefined) return this.#exit
    this.#child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.kill()
        resolve()
      }, graceMs)
    })
    try {
      await Promise.race([this.#exited, killed])
      return await this.#exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGKILL: the node gets no chance to flush anything. */
  kill(): void {
    if (this.#exit === undefined) this.#child.kill('SIGKILL')
  }
}

export function parseReadyLine(line: string): ReadyLine | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  const decoded = ReadyLineCodec.decode(value)
  return isLeft(decoded) ? undefined : decoded.right
}

export function describeExit(exit: NodeExit): string {
  return exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`
}
