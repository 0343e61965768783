/**
 * The devnet's demo contract, so that the explorer's contracts view has something to show: a counter deployed on
 * node 0's host (free: the devnet's hosts charge nothing, `contracts.price` 0, and a node's caller chain could not pay
 * anyway) and invoked through node 0's API every few seconds while the load runs. Its calls are few and go beside
 * the transfers, not into the transfer figures; failures are counted, never fatal to the run.
 */
import { setTimeout as delay } from 'node:timers/promises'
import * as t from 'io-ts'
import type { NodeApi } from './node-api.js'

/** A counter: each invocation adds its input and returns the new count. */
export const DEMO_CONTRACT = {
  code: 'function invoke(state, input) { const count = state + input; return { state: count, output: count } }',
  signature: { input: { kind: 'integer' }, output: { kind: 'integer' }, state: { kind: 'integer' } },
  initialState: 0,
} as const

/** Between two invocations during the load. */
export const DEMO_INVOKE_INTERVAL_MS = 2_000

const DeployedCodec = t.type({ id: t.string })
const InvokedCodec = t.type({ output: t.number })

export interface DemoInvocations {
  /** Invocations the host answered. */
  readonly done: number
  readonly failed: number
}

/** Deploys the counter on the node behind `api`; resolves with its id. */
export async function deployDemoContract(api: NodeApi, signal?: AbortSignal): Promise<string> {
  return (await api.post('/v1/contracts', DEMO_CONTRACT, DeployedCodec, signal)).id
}

/**
 * Invokes the counter every `intervalMs` (the first one at once) until `stop()`, which resolves with the counts once
 * the call under way, if any, has been answered.
 */
export function invokeDemoContract(api: NodeApi, id: string, intervalMs = DEMO_INVOKE_INTERVAL_MS): { stop(): Promise<DemoInvocations> } {
  const stopping = new AbortController()
  const counts = { done: 0, failed: 0 }
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await api.post(`/v1/contracts/${id}/invoke`, { input: 1 }, InvokedCodec)
        counts.done++
      } catch {
        counts.failed++
      }
      await delay(intervalMs, undefined, { signal: stopping.signal }).catch(() => {})
    }
  })()
  return {
    async stop() {
      stopping.abort()
      await loop
      return { ...counts }
    },
  }
}
