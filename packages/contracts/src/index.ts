/**
 * @constellation/contracts — smart contracts as typed, sandboxed, composable microservices.
 *
 * Data flow: a contract (`defineContract`: code + io-ts-backed type signature + initial state) is deployed by a
 * transaction carrying its code (id = SHA-256 of the code); a `ContractHost` runs it in a QuickJS sandbox (gas,
 * memory, stack and wall-clock limits, state kept warm inside the sandbox and hashed after every invocation),
 * countersigns invoke transactions that record input, output, state hash, gas and RPC answers, and publishes SLA
 * figures. Any node re-executes a recorded invocation (`reexecute`) and turns a disagreement into a fraud proof.
 * Services (`Service<in I, out O>`) compose with `pipe`/`compose` and fan out with `mapReduce`.
 */
export { ContractError, ContractErrorCode, isContractError } from './errors.js'
export type { JsonValue } from './json/json-value.js'
export { type ContractType, isAssignable, type SignatureDescription, type TypeDescription, typeFromDescription, Types } from './types/contract-type.js'
export { DEFAULT_SANDBOX_LIMITS, PROTOCOL_SIZE_LIMITS, type SandboxLimits, sandboxLimits } from './sandbox/limits.js'
export type { RpcExchange } from './sandbox/contract-vm.js'
export type { ContractRegistration, ExecuteOutcome, ExecuteRequest, ExecutionResult, Executor, FailureDetail } from './sandbox/executor.js'
export { createExecutor } from './sandbox/sandbox-executor.js'
export { loadQuickJs } from './sandbox/quickjs.js'
export {
  type ContractDefinition,
  contractId,
  type ContractSignature,
  defineContract,
  describeSignature,
  type InvocationContext,
} from './contract/contract.js'
export { type AsyncExecutor, inThreadExecutor } from './sandbox/executor.js'
export { createWorkerExecutor } from './sandbox/worker-executor.js'
export {
  DEPLOY_KIND,
  type DeployPayload,
  DeployPayloadCodec,
  deployHash,
  INVOKE_KIND,
  type InvokePayload,
  InvokePayloadCodec,
  registerContractPayloads,
} from './chain/payloads.js'
export {
  type ExecutionFraudProof,
  reexecute,
  type ReexecutionVerdict,
  verifyExecutionFraudProof,
} from './chain/reexecution.js'
export { createContractHost } from './host/contract-host.js'
export type { ContractHost, ContractHostOptions, DeployedContract, InvokeRequest } from './host/host-api.js'
export { type ContractCaller, type ContractEndpoint, createCaller, type Invocation } from './host/caller.js'
export { createRpcBridge, type FetchLike, type RpcBridge, type RpcBridgeOptions } from './host/rpc-bridge.js'
export type { SlaFigures } from './host/sla.js'
export { check, compose, pipe, type Service, service } from './service/service.js'
export { mapReduce, type Reducer } from './service/map-reduce.js'
