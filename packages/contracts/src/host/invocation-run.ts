/**
 * Running a hosted contract's invocation through the executor: a first run, which calls out over RPC through the
 * host's bridge whenever the contract asks and records each answer, and the replay of a committed invocation with
 * its recorded answers, which must reach the recorded state.
 */
import { equalBytes } from '@constellation/crypto'
import type { InvokePayload } from '../chain/payloads.js'
import { ContractError, ContractErrorCode } from '../errors.js'
import { canonicalForm } from '../json/json-value.js'
import type { RpcExchange } from '../sandbox/contract-vm.js'
import { type AsyncExecutor, errorOf, type ExecutionResult } from '../sandbox/executor.js'
import type { DeployedContract } from './host-api.js'
import { rejected } from './refusal.js'
import type { RpcBridge } from './rpc-bridge.js'

/**
 * Runs an invocation from the given committed state, fetching RPC answers as the contract asks for them and
 * appending each to `recorded`. The executor is sent the encoded state only when it asks for it.
 */
export async function runInvocation(
  executor: AsyncExecutor,
  bridge: RpcBridge | undefined,
  contract: DeployedContract,
  from: { readonly hash: Uint8Array; readonly encoded: Uint8Array },
  inputJson: string,
  contextJson: string,
  recorded: RpcExchange[],
): Promise<ExecutionResult> {
  let sendState = false
  for (;;) {
    const outcome = await executor.execute({
      contractId: contract.id,
      deploy: contract.deploy,
      stateHash: from.hash,
      ...(sendState ? { encodedState: from.encoded } : {}),
      input: inputJson,
      context: contextJson,
      rpc: recorded,
    })
    if (outcome.kind === 'done') return outcome.result
    if (outcome.kind === 'failed') throw errorOf(outcome.error)
    if (outcome.kind === 'loaded') throw new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the executor only loaded the contract')
    if (outcome.kind === 'needs-state') {
      if (sendState) throw new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the executor refused the committed state')
      sendState = true
      continue
    }
    if (bridge === undefined) throw new ContractError(ContractErrorCode.RPC_NOT_ALLOWED, 'this host offers no RPC bridge', { endpoint: outcome.endpoint })
    if (recorded.length >= executor.limits.maxRpcCalls) {
      throw new ContractError(ContractErrorCode.RPC_TOO_LARGE, `the invocation made more than ${executor.limits.maxRpcCalls} RPC calls`)
    }
    recorded.push(await bridge(outcome.endpoint, outcome.request))
  }
}

/**
 * Runs a committed invocation again from the contract's committed state (which the caller has checked it follows),
 * with its recorded RPC answers; refuses it unless it reaches the recorded state hash. `caller` is the hex key of
 * the invocation's proposer.
 */
export async function replayInvocation(executor: AsyncExecutor, contract: DeployedContract, record: InvokePayload, caller: string): Promise<ExecutionResult> {
  const context = { caller, timestamp: record.timestamp, seed: record.seed, invocation: record.invocation }
  const request = {
    contractId: contract.id,
    deploy: contract.deploy,
    stateHash: contract.hash,
    input: JSON.stringify(canonicalForm(record.input, executor.limits.maxInputBytes, ContractErrorCode.INPUT_TOO_LARGE, 'the input')),
    context: JSON.stringify(context),
    rpc: record.rpc,
  }
  let outcome = await executor.execute(request)
  if (outcome.kind === 'needs-state') outcome = await executor.execute({ ...request, encodedState: contract.encoded })
  if (outcome.kind === 'failed') throw errorOf(outcome.error)
  if (outcome.kind !== 'done' || !equalBytes(outcome.result.stateHash, record.stateHash)) {
    throw rejected(`replaying invocation ${record.invocation} of contract ${contract.id} does not reach the recorded state`, {
      invocation: record.invocation,
    })
  }
  return outcome.result
}
