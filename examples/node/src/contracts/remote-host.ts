/**
 * A contract host on another node, as the caller sees it: a `ContractEndpoint` (the host's key, its price and the
 * protocol steps) whose steps are requests on the contracts protocol. The host's key and price come from its
 * `describe` answer; each quote brings the current price, which the caller pays.
 */
import { type CborValue, type Crypto, fromHex, toHex } from '@constellation/crypto'
import { type ContractEndpoint, ContractError, ContractErrorCode, type InvokePayload, InvokePayloadCodec } from '@constellation/contracts'
import type { Network } from '@constellation/gossip'
import { type BlockLimits, decodeBlock, encodeBlock, type HalfBlock } from '@constellation/trustchain'
import { isLeft } from 'fp-ts/lib/Either.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import {
  CONTRACTS_PROTOCOL,
  type ContractsRequest,
  type ContractsResponse,
  ContractsResponseCodec,
  decodeContractsMessage,
  encodeContractsMessage,
  errorFromResponse,
  MAX_INPUT_JSON_LENGTH,
} from './contracts-protocol.js'

/** A host a caller can deploy to: the endpoint plus the deploy check, and the node it runs on (undefined: this one). */
export interface DeployingEndpoint extends ContractEndpoint {
  readonly node: string | undefined
  /** The checks a deploy makes, before the deployer proposes; the contract id. */
  checkDeploy(payload: unknown): Promise<string>
}

/** An invocation may run up to the sandbox's wall-clock guard, and a first contact may have to dial. */
const REQUEST_TIMEOUT_MS = 15_000

type Answer<T extends ContractsResponse['type']> = Extract<ContractsResponse, { type: T }>

async function ask<T extends ContractsResponse['type']>(
  network: Pick<Network, 'request'>,
  peer: string,
  request: ContractsRequest,
  expected: T,
): Promise<Answer<T>> {
  let bytes: Uint8Array
  try {
    bytes = await network.request(peer, CONTRACTS_PROTOCOL, encodeContractsMessage(request), { timeout: REQUEST_TIMEOUT_MS })
  } catch (cause) {
    throw new NodeError(
      NodeErrorCode.UNAVAILABLE,
      `host ${peer.slice(0, 16)}… did not answer: ${cause instanceof Error ? cause.message : String(cause)}`,
      {},
      { cause },
    )
  }
  const answer = decodeContractsMessage(ContractsResponseCodec, bytes)
  if (answer.type === 'error') throw errorFromResponse(answer, peer)
  if (answer.type !== expected) throw new NodeError(NodeErrorCode.REJECTED, `host ${peer.slice(0, 16)}… answered ${answer.type} to ${request.type}`)
  return answer as Answer<T>
}

/** Asks `peer` (a hex node id) for its contract host and returns it as an endpoint. */
export async function remoteHost(network: Pick<Network, 'request'>, crypto: Crypto, peer: string, limits: BlockLimits): Promise<DeployingEndpoint> {
  const described = await ask(network, peer, { type: 'describe' }, 'host')
  let price = described.price
  const block = (bytes: Uint8Array): HalfBlock => {
    try {
      return decodeBlock(crypto, bytes, limits)
    } catch (cause) {
      throw new NodeError(NodeErrorCode.REJECTED, `host ${peer.slice(0, 16)}… sent a malformed block`, {}, { cause })
    }
  }
  return {
    node: peer,
    publicKey: described.host,
    get price() {
      return price
    },
    async checkDeploy(payload) {
      return toHex((await ask(network, peer, { type: 'check-deploy', payload: payload as CborValue }, 'checked')).contract)
    },
    async deploy(proposal) {
      return block((await ask(network, peer, { type: 'deploy', proposal: encodeBlock(proposal, limits) }, 'deployed')).agreement)
    },
    async quote(request): Promise<InvokePayload> {
      const input = JSON.stringify(request.input)
      if (input.length > MAX_INPUT_JSON_LENGTH) {
        throw new ContractError(
          ContractErrorCode.INPUT_TOO_LARGE,
          `the input is ${input.length} characters of JSON, more than the ${MAX_INPUT_JSON_LENGTH} a quote carries`,
        )
      }
      const answer = await ask(
        network,
        peer,
        { type: 'quote', contract: fromHex(request.contract), caller: request.caller, input, timestamp: request.timestamp, seed: request.seed },
        'quote',
      )
      const record = InvokePayloadCodec.decode(answer.record)
      if (isLeft(record)) throw new NodeError(NodeErrorCode.REJECTED, `host ${peer.slice(0, 16)}… sent a malformed invoke record`)
      price = answer.price
      return record.right
    },
    async countersign(proposal) {
      const answer = await ask(network, peer, { type: 'countersign', proposal: encodeBlock(proposal, limits) }, 'countersigned')
      return { agreement: block(answer.agreement), proposals: answer.proposals.map(block) }
    },
  }
}
