/**
 * Entry point of a sandbox worker thread: an executor in its own thread, so that the host can terminate the thread
 * when an invocation overruns its wall-clock guard. Requests arrive as messages and are answered in order.
 */
import { loadCrypto } from '@constellation/crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { type ContractRegistration, type ExecuteRequest, failureOf } from './executor.js'
import type { SandboxLimits } from './limits.js'
import { loadQuickJs } from './quickjs.js'
import { createExecutor } from './sandbox-executor.js'

export type WorkerMessage =
  | { readonly op: 'register'; readonly registration: ContractRegistration }
  | { readonly op: 'execute'; readonly request: ExecuteRequest }
export type WorkerRequest = WorkerMessage & { readonly id: number }

const port = parentPort
if (port === null) throw new Error('sandbox-worker must run in a worker thread')
const executor = createExecutor({
  crypto: await loadCrypto(),
  quickjs: await loadQuickJs(),
  limits: (workerData as { limits: SandboxLimits }).limits,
})
port.on('message', (message: WorkerRequest) => {
  if (message.op === 'register') {
    try {
      executor.register(message.registration)
      port.postMessage({ id: message.id, ok: true })
    } catch (error) {
      port.postMessage({ id: message.id, ok: false, error: failureOf(error) })
    }
  } else {
    port.postMessage({ id: message.id, ok: true, outcome: executor.execute(message.request) })
  }
})
port.postMessage({ id: 0, ok: true })
