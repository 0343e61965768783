/**
 * What the host thread and a sandbox worker thread exchange: the shared flag's values, the messages and replies
 * on the port, and the worker's start-up data (see sandbox-worker.ts for the protocol).
 */
import type { MessagePort } from 'node:worker_threads'
import type { ContractRegistration, ExecuteOutcome, ExecuteRequest, FailureDetail } from './executor.js'
import type { SandboxLimits } from './limits.js'

/** Values of the shared flag. */
export const Flag = { IDLE: 0, REQUEST: 1, REPLIED: 2, CLOSE: 3 } as const

export type WorkerMessage =
  | { readonly op: 'register'; readonly registration: ContractRegistration }
  | { readonly op: 'execute'; readonly request: ExecuteRequest }

export type WorkerReply = { readonly outcome: ExecuteOutcome } | { readonly registered: true } | { readonly error: FailureDetail }

export interface SandboxWorkerData {
  readonly limits: SandboxLimits
  readonly port: MessagePort
  readonly flag: SharedArrayBuffer
}
