/**
 * A hosted contract's invocations, newest first (`GET /v1/contracts/:id/invocations`), read from where they are
 * recorded: the agreements of `contract-invoke` transactions on this node's contract host chain. Each one's record
 * (input, output, gas, the time the contract saw) is the host's signed agreement payload; its id is the caller's
 * proposal hash and its status whether consensus can prove the pair final. The host chain is read backwards a page
 * at a time, and no further than `MAX_SCANNED_BLOCKS` below its head, so a contract called long ago costs a bounded
 * read (its older invocations are left out).
 */
import { INVOKE_KIND, InvokePayloadCodec } from '@constellation/contracts'
import { fromHex, toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock, isAgreement } from '@constellation/trustchain'
import { ApiError, ApiErrorCode } from '../api/api-error.js'
import { cborToJson } from '../api/views/half-block-view.js'
import { nodeContracts } from '../contracts/contracts-module.js'
import type { FullNode } from '../node/full-node.js'
import type { ContractInvocation, ContractInvocationsView } from './explorer-views.js'

export const MAX_INVOCATIONS_LISTED = 100
export const DEFAULT_INVOCATIONS_LISTED = 20
/** Blocks of the host chain read for one listing, at most. */
export const MAX_SCANNED_BLOCKS = 10_000
/** Blocks read per store range. */
const PAGE = 100

export async function contractInvocations(node: FullNode, id: string, limit: number): Promise<ContractInvocationsView> {
  const contracts = nodeContracts(node)
  if (contracts === undefined) throw new ApiError(ApiErrorCode.UNAVAILABLE, 'this node runs without the contracts module')
  if (contracts.hostKey === undefined || contracts.hostedContract(id) === undefined)
    throw new ApiError(ApiErrorCode.NOT_FOUND, `contract ${id} is not hosted by this node`)
  const host = fromHex(contracts.hostKey)
  const head = (await node.store.latest(host))?.sequenceNumber ?? 0
  const floor = Math.max(1, head - MAX_SCANNED_BLOCKS + 1)
  const found: HalfBlock[] = []
  for (let to = head; to >= floor && found.length < limit; to -= PAGE) {
    const page = await node.store.range(host, Math.max(floor, to - PAGE + 1), to)
    for (const block of page.reverse()) {
      if (found.length < limit && isInvokeOf(block, id)) found.push(block)
    }
  }
  const proposals = await node.store.getMany(found.map((agreement) => ({ publicKey: agreement.linkPublicKey, sequenceNumber: agreement.linkSequenceNumber })))
  const invocations = await Promise.all(found.map((agreement, i) => invocation(node, agreement, proposals[i])))
  return { id, invocations: invocations.filter((entry): entry is ContractInvocation => entry !== undefined) }
}

function isInvokeOf(block: HalfBlock, id: string): boolean {
  if (!isAgreement(block)) return false
  const payload = block.payload as { readonly kind?: unknown; readonly contract?: unknown }
  return payload.kind === INVOKE_KIND && payload.contract instanceof Uint8Array && toHex(payload.contract) === id
}

/** One invocation; undefined when the agreement's proposal is not stored here (it always is on the host: the pair is written together). */
async function invocation(node: FullNode, agreement: HalfBlock, proposal: HalfBlock | undefined): Promise<ContractInvocation | undefined> {
  const decoded = InvokePayloadCodec.decode(agreement.payload)
  if (proposal === undefined || decoded._tag === 'Left') return undefined
  const record = decoded.right
  return {
    transactionId: toHex(blockHash(node.crypto, proposal)),
    caller: toHex(agreement.linkPublicKey),
    input: cborToJson(record.input),
    output: cborToJson(record.output),
    gas: record.gasUsed,
    timestamp: record.timestamp,
    status: (await node.finalRound({ proposal, agreement })) === undefined ? 'agreed' : 'final',
  }
}
