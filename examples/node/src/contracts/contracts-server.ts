/**
 * Answers the contracts protocol for this node's host: each request decoded (size, canonical CBOR, codec), blocks
 * decoded with the node's block limits, the host step run, and the answer encoded. Nothing thrown leaves the
 * handler: a failure is an `error` answer carrying the typed code.
 */
import { type CborValue, type Crypto, fromHex, toHex } from '@constellation/crypto'
import type { Network } from '@constellation/gossip'
import { type BlockLimits, decodeBlock, encodeBlock, type HalfBlock } from '@constellation/trustchain'
import { NodeError, NodeErrorCode } from '../errors.js'
import { errorFields, type Logger } from '../log/logger.js'
import type { ContractHosting } from './contract-hosting.js'
import {
  CONTRACTS_PROTOCOL,
  type ContractsRequest,
  ContractsRequestCodec,
  type ContractsResponse,
  decodeContractsMessage,
  encodeContractsMessage,
  errorResponse,
} from './contracts-protocol.js'

export function serveContracts(
  network: Pick<Network, 'handle'>,
  hosting: ContractHosting,
  options: { readonly crypto: Crypto; readonly limits: BlockLimits; readonly log: Logger },
): () => void {
  const { crypto, limits, log } = options
  const block = (bytes: Uint8Array): HalfBlock => {
    try {
      return decodeBlock(crypto, bytes, limits)
    } catch (cause) {
      throw new NodeError(NodeErrorCode.INVALID_REQUEST, `not a half-block: ${cause instanceof Error ? cause.message : String(cause)}`, {}, { cause })
    }
  }

  async function answer(request: ContractsRequest, from: string): Promise<ContractsResponse> {
    switch (request.type) {
      case 'describe':
        return { type: 'host', host: hosting.publicKey, price: hosting.price }
      case 'check-deploy':
        return { type: 'checked', contract: fromHex(await hosting.checkDeploy(request.payload)) }
      case 'deploy':
        return { type: 'deployed', agreement: encodeBlock(await hosting.deploy(block(request.proposal), from), limits) }
      case 'quote': {
        const record = await hosting.quote({
          contract: toHex(request.contract),
          caller: request.caller,
          input: parseInput(request.input),
          timestamp: request.timestamp,
          seed: request.seed,
        })
        return { type: 'quote', record: record as unknown as CborValue, price: hosting.price }
      }
      case 'countersign': {
        const { agreement, proposals } = await hosting.countersign(block(request.proposal), from)
        return { type: 'countersigned', agreement: encodeBlock(agreement, limits), proposals: proposals.map((proposal) => encodeBlock(proposal, limits)) }
      }
    }
  }

  return network.handle(CONTRACTS_PROTOCOL, async ({ from, data }) => {
    try {
      return encodeContractsMessage(await answer(decodeContractsMessage(ContractsRequestCodec, data), from))
    } catch (error) {
      log.debug({ from, ...errorFields(error) }, 'contracts request refused')
      return encodeContractsMessage(errorResponse(error))
    }
  })
}

function parseInput(json: string): unknown {
  try {
    return JSON.parse(json) as unknown
  } catch {
    throw new NodeError(NodeErrorCode.INVALID_REQUEST, 'the input is not JSON text')
  }
}
