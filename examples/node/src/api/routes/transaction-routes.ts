/**
 * Transactions: submit a transfer (answered once the counterparty has countersigned), list the ones this node
 * proposed, look one up by id — the tracker first, then the store: the proposal by its hash and its agreement by
 * link — and fetch its agreement proof once it is final.
 */
import { encodeAgreementProof } from '@constellation/consensus'
import { equalBytes, fromHex, toHex } from '@constellation/crypto'
import { type HalfBlock, isProposal } from '@constellation/trustchain'
import * as t from 'io-ts'
import { Hex32Codec, SafePositiveInteger } from '../../config/codecs.js'
import { memberOf } from '../../config/network-genesis.js'
import type { FullNode } from '../../node/create-node.js'
import { ApiError, ApiErrorCode } from '../api-error.js'
import { boundedInteger, decodeInput, queryObject } from '../request-input.js'
import type { Route } from '../router.js'
import { proofSummary } from '../views/agreement-proof-view.js'
import { type TransactionRecord, trackedRecord, transactionView } from '../views/transaction-view.js'

/** Most transactions one listing returns. */
export const MAX_TRANSACTIONS_LISTED = 100

const TransferRequestCodec = t.exact(t.type({ to: Hex32Codec, amount: SafePositiveInteger }))
const IdParamsCodec = t.type({ id: Hex32Codec })
const ListQueryCodec = t.exact(t.partial({ limit: boundedInteger(1, MAX_TRANSACTIONS_LISTED, 'Limit') }))

interface Halves {
  readonly id: string
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock | undefined
}

/** The transaction's halves from the tracker or the store; 404 when this node holds no proposal with that hash. */
async function findHalves(node: FullNode, id: string): Promise<Halves & { readonly record?: TransactionRecord }> {
  const tracked = node.transactions.get(id)
  if (tracked !== undefined) return { id, proposal: tracked.proposal, agreement: tracked.agreement, record: trackedRecord(tracked) }
  const proposal = await node.store.getByHash(fromHex(id))
  if (proposal === undefined || !isProposal(proposal)) throw new ApiError(ApiErrorCode.NOT_FOUND, `no transaction ${id} is known to this node`)
  // The agreement is the counterparty's block that links to the proposal (a second one would be fraud).
  const linked = await node.store.getLinked(proposal.publicKey, proposal.sequenceNumber)
  const agreement = linked.find((block) => equalBytes(block.publicKey, proposal.linkPublicKey))
  return { id, proposal, agreement }
}

async function findTransaction(node: FullNode, id: string): Promise<TransactionRecord> {
  const halves = await findHalves(node, id)
  if (halves.record !== undefined) return halves.record
  const { proposal, agreement } = halves
  if (agreement === undefined) return { id, status: 'proposed', proposal, agreement }
  return { id, status: (await node.consensus.isFinal({ proposal, agreement })) ? 'final' : 'agreed', proposal, agreement }
}

export function transactionRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/transactions',
      async handler({ node, body }) {
        const request = decodeInput(TransferRequestCodec, body, 'body')
        const to = fromHex(request.to)
        // A key outside the network would only time out after every retry: refuse it at once.
        if (memberOf(node.genesis, to) === undefined) throw new ApiError(ApiErrorCode.REJECTED, `${request.to} is not a member of this network`)
        const tracked = await node.transfer(to, request.amount)
        return { status: 201, body: transactionView(node.crypto, trackedRecord(tracked), node.chain.ledger.limits) }
      },
    },
    {
      method: 'GET',
      path: '/v1/transactions',
      handler({ node, query }) {
        const { limit = 20 } = decodeInput(ListQueryCodec, queryObject(query), 'query')
        const transactions = node.transactions.recent(limit).map((tracked) => transactionView(node.crypto, trackedRecord(tracked), node.chain.ledger.limits))
        return { status: 200, body: { totals: node.transactions.totals, transactions } }
      },
    },
    {
      method: 'GET',
      path: '/v1/transactions/:id',
      async handler({ node, params }) {
        const { id } = decodeInput(IdParamsCodec, params, 'path')
        return { status: 200, body: transactionView(node.crypto, await findTransaction(node, id), node.chain.ledger.limits) }
      },
    },
    {
      method: 'GET',
      path: '/v1/transactions/:id/proof',
      async handler({ node, params }) {
        const { id } = decodeInput(IdParamsCodec, params, 'path')
        const { proposal, agreement } = await findHalves(node, id)
        if (agreement === undefined) throw new ApiError(ApiErrorCode.NOT_FINAL, `transaction ${id} has no agreement yet`)
        // NOT_FINAL from the consensus (409) until both halves lie between certified checkpoints.
        const proof = await node.consensus.agreementProof({ proposal, agreement })
        const bytes = encodeAgreementProof(proof, node.chain.ledger.limits)
        return { status: 200, body: { id, bytes: bytes.length, proof: toHex(bytes), summary: proofSummary(node.crypto, proof) } }
      },
    },
  ]
}
