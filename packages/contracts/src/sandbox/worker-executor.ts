/**
 * An executor in a worker thread with a wall-clock guard: each request must be answered within
 * `limits.wallClockMs` (plus the worker's start-up for the first), or the thread is terminated, the request fails
 * with TIMEOUT, and a fresh worker takes over. Contracts are registered again in the new worker and their sandboxes
 * are reloaded from the committed states the host sends (the executor asks with `needs-state`), so one runaway
 * contract costs the others only a cold start.
 */
import { Worker } from 'node:worker_threads'
import { ContractError, ContractErrorCode } from '../errors.js'
import { type AsyncExecutor, type ContractRegistration, type ExecuteOutcome, type ExecuteRequest, type FailureDetail, registrationKey } from './executor.js'
import { type SandboxLimits, sandboxLimits } from './limits.js'
import type { WorkerMessage } from './sandbox-worker.js'

type Reply = { id: number; ok: boolean; outcome?: ExecuteOutcome; error?: FailureDetail }

/** Starts the worker module: compiled JavaScript next to this file, or (running from source) TypeScript via tsx. */
function startWorker(limits: SandboxLimits): Worker {
  const fromSource = import.meta.url.endsWith('.ts')
  if (!fromSource) return new Worker(new URL('./sandbox-worker.js', import.meta.url), { workerData: { limits } })
  const entry = new URL('./sandbox-worker.ts', import.meta.url).href
  // Evaluated code resolves bare names from the working directory: name tsx as this module finds it, so a process
  // started elsewhere (a CLI run from any folder) still starts its workers. Vitest's modules have no `resolve`.
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api'
  const source = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)})`
  return new Worker(source, { eval: true, workerData: { limits }, execArgv: ['--conditions=source'] })
}

const STARTUP_MS = 10_000

/** A running worker thread, resolved once it has started, and the answers it owes by request id (0: start-up). */
interface RunningWorker {
  readonly thread: Worker
  readonly ready: Promise<void>
  readonly pending: Map<number, (reply: Reply) => void>
}

class WorkerExecutor implements AsyncExecutor {
  readonly limits: SandboxLimits
  /** Every registration so far, sent again to a fresh worker. */
  readonly #registrations = new Map<string, ContractRegistration>()
  #worker: RunningWorker | undefined
  #nextId = 1
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false

  constructor(options: { limits?: Partial<SandboxLimits> }) {
    this.limits = sandboxLimits(options.limits)
  }

  async register(registration: ContractRegistration): Promise<void> {
    this.#registrations.set(registrationKey(registration), registration)
    const reply = await this.#send({ op: 'register', registration }, STARTUP_MS)
    if (!reply.ok) {
      this.#registrations.delete(registrationKey(registration))
      const error = reply.error as FailureDetail
      throw new ContractError(error.code, error.message, error.detail)
    }
  }

  async execute(request: ExecuteRequest): Promise<ExecuteOutcome> {
    // A cold load (code and state) is not the contract's fault: it gets the start-up allowance on top.
    const reply = await this.#send({ op: 'execute', request }, this.limits.wallClockMs + (request.encodedState === undefined ? 0 : STARTUP_MS / 10))
    if (reply.outcome?.kind === 'failed' && reply.outcome.error.code === ContractErrorCode.SANDBOX_CRASHED && this.#worker !== undefined) {
      // The worker's module is poisoned: the next request starts a fresh worker.
      const poisoned = this.#worker
      this.#worker = undefined
      void poisoned.thread.terminate()
    }
    if (reply.outcome !== undefined) return reply.outcome
    return { kind: 'failed', error: reply.error as FailureDetail }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#queue
    if (this.#worker !== undefined) await this.#worker.thread.terminate()
    this.#worker = undefined
  }

  #spawn(): RunningWorker {
    const thread = startWorker(this.limits)
    thread.unref()
    const pending = new Map<number, (reply: Reply) => void>()
    const ready = new Promise<void>((resolve, reject) => {
      pending.set(0, () => resolve())
      thread.once('error', reject)
    })
    ready.catch(() => undefined)
    // A worker that throws later also exits, and the exit handler fails what it had pending.
    thread.on('error', () => undefined)
    thread.on('message', (reply: Reply) => {
      const resolve = pending.get(reply.id)
      pending.delete(reply.id)
      resolve?.(reply)
    })
    thread.on('exit', () => {
      for (const resolve of pending.values()) {
        resolve({ id: -1, ok: false, error: { code: ContractErrorCode.SANDBOX_CRASHED, message: 'the sandbox worker exited', detail: {} } })
      }
      pending.clear()
      if (this.#worker?.thread === thread) this.#worker = undefined
    })
    this.#worker = { thread, ready, pending }
    return this.#worker
  }

  /** Sends one request and waits for its answer or the guard, one request at a time. */
  #send(message: WorkerMessage, guardMs: number): Promise<Reply> {
    const result = this.#queue.then(async () => {
      if (this.#closed) throw new ContractError(ContractErrorCode.CLOSED, 'the executor is closed')
      const fresh = this.#worker === undefined
      const current = this.#worker ?? this.#spawn()
      await current.ready
      if (fresh) {
        for (const registration of this.#registrations.values()) {
          if (registration !== (message as { registration?: ContractRegistration }).registration)
            await this.#exchange(current, { op: 'register', registration }, STARTUP_MS)
        }
      }
      return this.#exchange(current, message, guardMs)
    })
    this.#queue = result.catch(() => undefined)
    return result
  }

  #exchange(current: RunningWorker, message: WorkerMessage, guardMs: number): Promise<Reply> {
    const id = this.#nextId++
    return new Promise<Reply>((resolve) => {
      const guard = setTimeout(() => {
        current.pending.delete(id)
        if (this.#worker === current) this.#worker = undefined
        void current.thread.terminate()
        resolve({
          id,
          ok: false,
          error: { code: ContractErrorCode.TIMEOUT, message: `the invocation ran longer than ${guardMs} ms`, detail: { wallClockMs: guardMs } },
        })
      }, guardMs)
      current.pending.set(id, (reply) => {
        clearTimeout(guard)
        resolve(reply)
      })
      current.thread.postMessage({ ...message, id })
    })
  }
}

export function createWorkerExecutor(options: { limits?: Partial<SandboxLimits> } = {}): AsyncExecutor {
  return new WorkerExecutor(options)
}
