/**
 * Re-execution and fraud proofs against hosts.
 *
 * Any node holding a deploy transaction (the code), an invoke record countersigned by the host, and the state the
 * record starts from can run the invocation again, replaying the recorded RPC answers. If the result differs from
 * the record (output, effects, state hash or gas), the three items form an `ExecutionFraudProof`: anyone can check
 * it with `verifyExecutionFraudProof` using only a sandbox, because the host's signature binds it to the record,
 * the code hashes to the contract id, and the state hashes to the record's starting point. A re-execution that
 * fails for a machine-dependent reason (memory, wall clock) proves nothing either way.
 */
import { type Crypto, encodeCanonical, equalBytes, toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock, isAgreement } from '@constellation/trustchain'
import * as E from 'fp-ts/lib/Either.js'
import { contractId } from '../contract/contract.js'
import { ContractError, ContractErrorCode, toContractError } from '../errors.js'
import { asCbor, canonicalForm } from '../json/json-value.js'
import { type AsyncExecutor, errorOf, type ExecutionResult } from '../sandbox/executor.js'
import { PROTOCOL_SIZE_LIMITS, type SizeLimit } from '../sandbox/limits.js'
import { DEPLOY_KIND, DeployPayloadCodec, deployHash, INVOKE_KIND, type InvokePayload, InvokePayloadCodec } from './payloads.js'

export interface ExecutionFraudProof {
  /** A deploy transaction half (either half) carrying the contract's code. */
  readonly deploy: HalfBlock
  /** The host's agreement to the invoke transaction: the record, signed by the host. */
  readonly invoke: HalfBlock
  /** Canonical encoding of the state the invocation started from. */
  readonly previousState: Uint8Array
}

export type ReexecutionVerdict =
  | { readonly kind: 'agrees' }
  | { readonly kind: 'disagrees'; readonly reason: string; readonly proof: ExecutionFraudProof }
  | { readonly kind: 'inconclusive'; readonly error: ContractError }

/** Failures that a size limit causes, and which limit: evidence only from a verifier that applies the protocol's. */
const SIZE_FAILURES: ReadonlyMap<ContractErrorCode, SizeLimit> = new Map<ContractErrorCode, SizeLimit>([
  [ContractErrorCode.STATE_TOO_LARGE, 'maxStateBytes'],
  [ContractErrorCode.INPUT_TOO_LARGE, 'maxInputBytes'],
  [ContractErrorCode.OUTPUT_TOO_LARGE, 'maxOutputBytes'],
  [ContractErrorCode.RPC_TOO_LARGE, 'maxRpcCalls'],
])

/** Whether this verifier's failure proves anything: deterministic, and not caused by a limit stricter than the protocol's. */
function isEvidence(executor: AsyncExecutor, error: ContractError): boolean {
  if (!error.deterministic) return false
  const limit = SIZE_FAILURES.get(error.code)
  if (limit === undefined) return true
  // STATE_TOO_LARGE also stands for a whole result past state + output limits: both must be the protocol's.
  const strict = (name: SizeLimit) => executor.limits[name] < PROTOCOL_SIZE_LIMITS[name]
  return !strict(limit) && !(error.code === ContractErrorCode.STATE_TOO_LARGE && strict('maxOutputBytes'))
}

function invalid(message: string): ContractError {
  return new ContractError(ContractErrorCode.INVALID_FRAUD_PROOF, message)
}

/** Where a re-execution differs from the record, or undefined when it matches. */
function difference(record: InvokePayload, result: ExecutionResult): string | undefined {
  if (!equalBytes(encodeCanonical(record.output), encodeCanonical(asCbor(result.output)))) return 'output'
  if (!equalBytes(encodeCanonical(record.effects), encodeCanonical(asCbor(result.effects)))) return 'effects'
  if (!equalBytes(record.stateHash, result.stateHash)) return 'state hash'
  if (record.gasUsed !== result.gasUsed) return 'gas used'
  return undefined
}

/** Runs the invocation the proof's record describes; Left when the items do not fit together. */
async function replay(
  crypto: Crypto,
  executor: AsyncExecutor,
  proof: ExecutionFraudProof,
): Promise<E.Either<ContractError, { record: InvokePayload; result: E.Either<ContractError, ExecutionResult> }>> {
  const { deploy, invoke, previousState } = proof
  const deployPayload = DeployPayloadCodec.decode(deploy.payload)
  if (E.isLeft(deployPayload) || deployPayload.right.kind !== DEPLOY_KIND) return E.left(invalid('the deploy block carries no contract-deploy payload'))
  const invokePayload = InvokePayloadCodec.decode(invoke.payload)
  if (E.isLeft(invokePayload) || invokePayload.right.kind !== INVOKE_KIND) return E.left(invalid('the invoke block carries no contract-invoke payload'))
  if (!isAgreement(invoke)) return E.left(invalid('the invoke block must be the host agreement'))
  if (!crypto.verify(invoke.signature, blockHash(crypto, invoke), invoke.publicKey)) return E.left(invalid('the invoke block is not signed by its host'))
  const code = deployPayload.right.code
  const id = contractId(crypto, code)
  const record = invokePayload.right
  if (id !== toHex(record.contract)) return E.left(invalid('the code does not hash to the invoked contract id'))
  // The same code deployed with another signature is another contract: only the deploy the record names counts.
  const deployKey = toHex(deployHash(crypto, deployPayload.right))
  if (deployKey !== toHex(record.deploy)) return E.left(invalid('the deploy is not the one the invoke record names'))
  if (!equalBytes(crypto.sha256(previousState), record.previousStateHash)) return E.left(invalid('the state does not hash to the record starting point'))
  // The run gets exactly the gas the record claims: a verifier whose own budget is smaller cannot judge it.
  if (record.gasUsed > executor.limits.gas) {
    return E.left(
      new ContractError(ContractErrorCode.OUT_OF_GAS, `the record used ${record.gasUsed} gas, more than this verifier's budget of ${executor.limits.gas}`),
    )
  }
  await executor.register({ contractId: id, deploy: deployKey, code, signature: deployPayload.right.signature })
  // The caller is the proposer, whose key the agreement links to.
  const context = { caller: toHex(invoke.linkPublicKey), timestamp: record.timestamp, seed: record.seed, invocation: record.invocation }
  // The input as the host's contract saw it: canonical key order, whatever order this copy of the record has.
  let input: string
  try {
    input = JSON.stringify(canonicalForm(record.input, executor.limits.maxInputBytes, ContractErrorCode.INPUT_TOO_LARGE, 'the input'))
  } catch (error) {
    return E.right({ record, result: E.left(toContractError(error)) })
  }
  const outcome = await executor.execute({
    contractId: id,
    deploy: deployKey,
    stateHash: record.previousStateHash,
    encodedState: previousState,
    input,
    context: JSON.stringify(context),
    rpc: record.rpc,
    gas: record.gasUsed,
  })
  if (outcome.kind === 'done') return E.right({ record, result: E.right(outcome.result) })
  if (outcome.kind === 'failed') return E.right({ record, result: E.left(errorOf(outcome.error)) })
  if (outcome.kind === 'needs-rpc')
    return E.right({ record, result: E.left(new ContractError(ContractErrorCode.RPC_FAILED, 'the contract made an RPC call the record does not answer')) })
  return E.left(new ContractError(ContractErrorCode.SANDBOX_CRASHED, `unexpected executor outcome ${outcome.kind}`))
}

/** Re-executes a recorded invocation and says whether the host's record holds. */
export async function reexecute(crypto: Crypto, executor: AsyncExecutor, items: ExecutionFraudProof): Promise<ReexecutionVerdict> {
  const replayed = await replay(crypto, executor, items)
  if (E.isLeft(replayed)) return { kind: 'inconclusive', error: replayed.left }
  const { record, result } = replayed.right
  if (E.isLeft(result)) {
    return isEvidence(executor, result.left)
      ? { kind: 'disagrees', reason: `the invocation fails: ${result.left.code}`, proof: items }
      : { kind: 'inconclusive', error: result.left }
  }
  const differs = difference(record, result.right)
  return differs === undefined ? { kind: 'agrees' } : { kind: 'disagrees', reason: `the ${differs} differs from the record`, proof: items }
}

/** Right(reason) when the proof shows the host signed a record its contract does not produce. */
export async function verifyExecutionFraudProof(crypto: Crypto, executor: AsyncExecutor, proof: ExecutionFraudProof): Promise<E.Either<ContractError, string>> {
  const verdict = await reexecute(crypto, executor, proof)
  if (verdict.kind === 'disagrees') return E.right(verdict.reason)
  if (verdict.kind === 'agrees') return E.left(invalid('the re-execution agrees with the record'))
  return E.left(verdict.error)
}
