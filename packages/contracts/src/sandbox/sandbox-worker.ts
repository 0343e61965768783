/**
 * Entry point of a sandbox worker thread: an executor in its own thread, so that the host can terminate the thread
 * when an invocation overruns its wall-clock guard.
 *
 * Requests are synchronous calls: the host posts a request on a message port, flips a shared flag and sleeps on it
 * (`Atomics.wait`, with the guard as timeout); this thread, asleep on the same flag, takes the request off the port
 * (`receiveMessageOnPort`), answers on the port and flips the flag back. No event loop wakes up on either side, so a
 * call costs little more than the invocation itself.
 */
import { loadCrypto } from '@constellation/crypto'
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import { createExecutor, failureOf } from './executor.js'
import { loadQuickJs } from './quickjs.js'
import { Flag, type SandboxWorkerData, type WorkerMessage, type WorkerReply } from './worker-protocol.js'

const data = workerData as SandboxWorkerData
const flag = new Int32Array(data.flag)
const executor = createExecutor({ crypto: await loadCrypto(), quickjs: await loadQuickJs(), limits: data.limits })

function answer(message: WorkerMessage): WorkerReply {
  if (message.op === 'execute') return { outcome: executor.execute(message.request) }
  try {
    executor.register(message.registration)
    return { registered: true }
  } catch (error) {
    return { error: failureOf(error) }
  }
}

parentPort?.postMessage('ready')
for (;;) {
  let state = Atomics.load(flag, 0)
  while (state !== Flag.REQUEST && state !== Flag.CLOSE) {
    Atomics.wait(flag, 0, state)
    state = Atomics.load(flag, 0)
  }
  if (state === Flag.CLOSE) break
  const received = receiveMessageOnPort(data.port)
  if (received !== undefined) data.port.postMessage(answer(received.message as WorkerMessage))
  Atomics.store(flag, 0, Flag.REPLIED)
  Atomics.notify(flag, 0)
}
executor.close()
data.port.close()
