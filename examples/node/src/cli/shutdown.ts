/**
 * How `start` ends. The first request to stop (SIGINT, SIGTERM, or an error nothing caught) aborts the start if the
 * node is still coming up, or closes it; further requests are ignored — a terminal's Ctrl-C reaches both the
 * launcher and the node, so the node sees each interrupt twice. A close that does not finish within the hard
 * timeout ends with exit code 1 rather than a process that never exits.
 */
import { ExitCode } from './cli-io.js'

export const SHUTDOWN_TIMEOUT_MS = 10_000

export interface ShutdownOptions {
  readonly timeoutMs?: number
  /** Told once, when the hard timeout fires. */
  readonly onTimeout?: (timeoutMs: number) => void
}

export class Shutdown {
  private readonly controller = new AbortController()
  private close: (() => Promise<void>) | undefined
  private code: ExitCode | undefined
  private finish!: (code: ExitCode) => void
  private timer: ReturnType<typeof setTimeout> | undefined
  /** The exit code, once the node has closed (or the timeout fired). */
  readonly done: Promise<ExitCode>

  constructor(private readonly options: ShutdownOptions = {}) {
    this.done = new Promise((resolve) => {
      this.finish = (code) => {
        clearTimeout(this.timer)
        resolve(code)
      }
    })
  }

  /** Aborts when a stop is requested: passed to `createNode` so a stop during start ends the start. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  get requested(): boolean {
    return this.code !== undefined
  }

  /** The node is up: a stop from now on closes it. If one came during the start, close now. */
  attach(close: () => Promise<void>): void {
    this.close = close
    if (this.code !== undefined) this.closeNode()
  }

  /** The start failed or was aborted: nothing is left to close. */
  settle(): void {
    if (this.code !== undefined) this.finish(this.code)
  }

  /** Requests the stop; returns false when one was already under way (the request is ignored). */
  request(code: ExitCode): boolean {
    if (this.code !== undefined) return false
    this.code = code
    const timeoutMs = this.options.timeoutMs ?? SHUTDOWN_TIMEOUT_MS
    this.timer = setTimeout(() => {
      this.options.onTimeout?.(timeoutMs)
      this.finish(ExitCode.FAILURE)
    }, timeoutMs)
    this.controller.abort()
    if (this.close !== undefined) this.closeNode()
    return true
  }

  private closeNode(): void {
    const code = this.code ?? ExitCode.OK
    this.close?.().then(
      () => this.finish(code),
      () => this.finish(ExitCode.FAILURE),
    )
  }
}
