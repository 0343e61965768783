/**
 * Everything a deploy checks before the host agrees to host a contract: the payload's codec, that the code hashes to
 * the contract id (the code is notarised on chain under that id), the initial state against the state type, that the
 * contract is new here, and that the code loads, so code that does not parse or load is refused before the host
 * agrees to it.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { isLeft } from 'fp-ts/lib/Either.js'
import { DeployPayloadCodec, deployHash } from '../chain/payloads.js'
import { contractId } from '../contract/contract.js'
import { ContractError, ContractErrorCode } from '../errors.js'
import { decodeJson } from '../json/json-value.js'
import { type AsyncExecutor, errorOf } from '../sandbox/executor.js'
import { decodeWith, typeFromDescription } from '../types/contract-type.js'
import type { DeployedContract } from './host-api.js'
import { rejected } from './refusal.js'

/**
 * Checks a deploy payload, registers its code with the executor and loads it at the initial state; returns the
 * contract, not yet deployed. `deployed` says whether a contract id is already hosted here.
 */
export async function prepareDeploy(
  crypto: Crypto,
  executor: AsyncExecutor,
  payloadValue: unknown,
  deployed: (id: string) => boolean,
): Promise<DeployedContract> {
  const decoded = DeployPayloadCodec.decode(payloadValue)
  if (isLeft(decoded)) throw rejected('malformed contract-deploy payload')
  const payload = decoded.right
  const id = contractId(crypto, payload.code)
  if (id !== toHex(payload.contract)) {
    throw new ContractError(ContractErrorCode.CODE_HASH_MISMATCH, 'the code does not hash to the contract id', {
      contract: toHex(payload.contract),
      codeHash: id,
    })
  }
  const initial = decodeJson(payload.initialState, executor.limits.maxStateBytes)
  decodeWith(typeFromDescription(payload.signature.state), initial, ContractErrorCode.STATE_INVALID, 'the initial state')
  if (deployed(id)) throw rejected(`contract ${id} is already deployed here`, { contract: id })
  const contract: DeployedContract = {
    id,
    deploy: toHex(deployHash(crypto, payload)),
    code: payload.code,
    signature: payload.signature,
    input: typeFromDescription(payload.signature.input),
    encoded: payload.initialState,
    hash: crypto.sha256(payload.initialState),
    invocations: 0,
  }
  await executor.register({ contractId: id, deploy: contract.deploy, code: payload.code, signature: payload.signature })
  const outcome = await executor.execute({
    contractId: id,
    deploy: contract.deploy,
    stateHash: contract.hash,
    encodedState: contract.encoded,
    input: 'null',
    context: 'null',
    rpc: [],
    loadOnly: true,
  })
  if (outcome.kind === 'failed') throw errorOf(outcome.error)
  return contract
}
