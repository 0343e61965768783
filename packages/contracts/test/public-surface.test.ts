import { describePublicSurface } from '../../../scripts/public-surface.mjs'
import * as root from '../src/index.js'

// The package's public surface (README, "Interface"): a name added to or dropped from the index fails here until
// this list — and the README — say so. Runtime names only; the types follow the same README entries.
const expected = [
  'ContractError',
  'ContractErrorCode',
  'DEFAULT_SANDBOX_LIMITS',
  'DEPLOY_KIND',
  'DeployPayloadCodec',
  'INVOKE_KIND',
  'InvokePayloadCodec',
  'PROTOCOL_SIZE_LIMITS',
  'Types',
  'check',
  'compose',
  'contractId',
  'createCaller',
  'createContractHost',
  'createExecutor',
  'createRpcBridge',
  'createWorkerExecutor',
  'defineContract',
  'deployHash',
  'describeSignature',
  'inThreadExecutor',
  'isAssignable',
  'isContractError',
  'loadQuickJs',
  'mapReduce',
  'pipe',
  'reexecute',
  'registerContractPayloads',
  'sandboxLimits',
  'service',
  'typeFromDescription',
  'verifyExecutionFraudProof',
] as const

describePublicSurface(new URL('..', import.meta.url), { '.': root }, { '.': expected })
