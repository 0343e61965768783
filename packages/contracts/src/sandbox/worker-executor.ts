/**
 * An executor in a worker thread with a wall-clock guard: each request must be answered within
 * `limits.wallClockMs` (more for a request that loads a contract cold), or the thread is terminated, the request
 * fails with TIMEOUT, and a fresh worker takes over. Contracts are registered again in the new worker and their
 * sandboxes are reloaded from the committed states the host sends (the executor asks with `needs-state`), so one
 * runaway contract costs the others only a cold start.
 *
 * Calls are synchronous underneath (see sandbox-worker.ts): the calling thread sleeps until the worker answers or
 * the guard expires, exactly as long as it would be busy running the contract itself, but a runaway contract can
 * be stopped.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads'
import { ContractError, ContractErrorCode } from '../errors.js'
import type { AsyncExecutor, ContractRegistration, ExecuteOutcome } from './executor.js'
import { type SandboxLimits, sandboxLimits } from './limits.js'
import { Flag, type SandboxWorkerData, type WorkerMessage, type WorkerReply } from './worker-protocol.js'

/** Allowance for a worker to start, and for a request that loads a contract's code and state cold. */
const STARTUP_MS = 10_000
const COLD_LOAD_MS = 1_000

/** Starts the worker module: compiled JavaScript next to this file, or (running from source) TypeScript via tsx. */
function startWorker(data: SandboxWorkerData): Worker {
  const options = { workerData: data, transferList: [data.port] }
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./sandbox-worker.js', import.meta.url), options)
  const entry = new URL('./sandbox-worker.ts', import.meta.url).href
  const source = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(entry)})`
  return new Worker(source, { ...options, eval: true, execArgv: ['--conditions=source'] })
}

interface SandboxThread {
  readonly worker: Worker
  readonly port: MessagePort
  readonly flag: Int32Array
  readonly ready: Promise<void>
  registered: boolean
}

export function createWorkerExecutor(options: { limits?: Partial<SandboxLimits> } = {}): AsyncExecutor {
  const limits = sandboxLimits(options.limits)
  const registrations = new Map<string, ContractRegistration>()
  let thread: SandboxThread | undefined
  let closed = false

  function spawn(): SandboxThread {
    const channel = new MessageChannel()
    const shared = new SharedArrayBuffer(4)
    const worker = startWorker({ limits, port: channel.port2, flag: shared })
    worker.unref()
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve())
      worker.once('error', reject)
      worker.once('exit', () => reject(new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the sandbox worker exited while starting')))
    })
    ready.catch(() => undefined)
    const started: SandboxThread = { worker, port: channel.port1, flag: new Int32Array(shared), ready, registered: false }
    worker.once('exit', () => {
      if (thread === started) thread = undefined
    })
    return started
  }

  function stop(target: SandboxThread): void {
    if (thread === target) thread = undefined
    target.port.close()
    void target.worker.terminate()
  }

  /** One synchronous call: the answer, or undefined when the guard expired (the worker is then terminated). */
  function call(target: SandboxThread, message: WorkerMessage, guardMs: number): WorkerReply | undefined {
    target.port.postMessage(message)
    Atomics.store(target.flag, 0, Flag.REQUEST)
    Atomics.notify(target.flag, 0)
    Atomics.wait(target.flag, 0, Flag.REQUEST, guardMs)
    if (Atomics.load(target.flag, 0) !== Flag.REPLIED) {
      stop(target)
      return undefined
    }
    const received = receiveMessageOnPort(target.port)
    Atomics.store(target.flag, 0, Flag.IDLE)
    return received?.message as WorkerReply | undefined
  }

  /** A started worker with every registered contract registered in it. */
  async function ready(): Promise<SandboxThread> {
    for (;;) {
      if (closed) throw new ContractError(ContractErrorCode.CLOSED, 'the executor is closed')
      const current = thread ?? (thread = spawn())
      try {
        await current.ready
      } catch (cause) {
        if (thread === current) thread = undefined
        throw new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the sandbox worker did not start', {}, { cause })
      }
      if (thread !== current) continue // replaced while starting
      if (!current.registered) {
        current.registered = true
        for (const registration of registrations.values()) {
          if (call(current, { op: 'register', registration }, STARTUP_MS) === undefined) break
        }
      }
      if (thread === current) return current
    }
  }

  return {
    limits,
    async register(registration) {
      const current = await ready()
      const reply = call(current, { op: 'register', registration }, STARTUP_MS)
      if (reply === undefined) throw new ContractError(ContractErrorCode.TIMEOUT, 'registering the contract took too long')
      if ('error' in reply) throw new ContractError(reply.error.code, reply.error.message, reply.error.detail)
      registrations.set(registration.contractId, registration)
    },
    async execute(request): Promise<ExecuteOutcome> {
      const current = await ready()
      const guardMs = limits.wallClockMs + (request.encodedState === undefined ? 0 : COLD_LOAD_MS)
      const reply = call(current, { op: 'execute', request }, guardMs)
      if (reply === undefined) {
        return { kind: 'failed', error: { code: ContractErrorCode.TIMEOUT, message: `the invocation ran longer than ${guardMs} ms`, detail: { wallClockMs: guardMs } } }
      }
      if ('outcome' in reply) return reply.outcome
      return { kind: 'failed', error: 'error' in reply ? reply.error : { code: ContractErrorCode.SANDBOX_CRASHED, message: 'unexpected reply', detail: {} } }
    },
    async close() {
      closed = true
      const current = thread
      thread = undefined
      if (current === undefined) return
      Atomics.store(current.flag, 0, Flag.CLOSE)
      Atomics.notify(current.flag, 0)
      current.port.close()
      await current.worker.terminate()
    },
  }
}
