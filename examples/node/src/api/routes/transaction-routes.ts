/**
 * Transactions: submit transfers (one, or a batch), list the ones this node proposed, look one up by id — the tracker
 * first, then the store: the proposal by its hash and its answer by link (the agreement, or the proposer's void of a
 * refused one) — and fetch its agreement proof once final.
 *
 * What a transfer's answer means, so that a client can always act on it:
 *   201 agreed              the counterparty countersigned; finality follows (status `final` later)
 *   202 pending             signed and sent, no answer yet: it may still be agreed (ask again by id); never an error
 *   422 REFUSED             the counterparty refused and the proposal was voided: nothing moved, never final
 *   422 INSUFFICIENT_FUNDS  more than the node may spend now: nothing was signed
 *   422 REJECTED            not a member, a transfer to itself: nothing was signed
 *   429 BUSY                at a bound: nothing was signed, retry after `Retry-After`
 *   409 KEY_CONFLICT        the idempotency key was used for another transfer: nothing was signed
 * A request with an `Idempotency-Key` header (a batch item: its `id`) that an earlier one used answers with that
 * transfer as it stands now, so a client that retries after a lost answer never pays twice.
 */
import { encodeAgreementProof, encodeFinalityPath } from '@constellation/consensus'
import { equalBytes, fromHex, toHex } from '@constellation/crypto'
import { type HalfBlock, isProposal } from '@constellation/trustchain'
import * as t from 'io-ts'
import { Hex32Codec, SafePositiveInteger } from '../../config/codecs.js'
import { memberOf } from '../../config/network-genesis.js'
import type { FullNode, TransferRequest, TransferResult } from '../../node/full-node.js'
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../../node/idempotency.js'
import { type StoredAnswer, storedAnswer } from '../../node/stored-answer.js'
import type { TrackedTransaction, TransactionRole } from '../../node/transaction-tracker.js'
import { ApiError, ApiErrorCode } from '../api-error.js'
import { boundedInteger, decodeInput, strictQuery } from '../request-input.js'
import type { Route } from '../router.js'
import { proofSummary } from '../views/agreement-proof-view.js'
import { type TransactionRecord, type TransactionView, trackedRecord, transactionView } from '../views/transaction-view.js'

/** Most transactions one listing returns. */
export const MAX_TRANSACTIONS_LISTED = 100
/** Most transfers one batch carries. */
export const MAX_BATCH_TRANSFERS = 1_000

const IdempotencyKeyCodec = new t.Type<string, string, unknown>(
  'IdempotencyKey',
  (u): u is string => typeof u === 'string' && u.length > 0 && u.length <= MAX_IDEMPOTENCY_KEY_LENGTH && /^[\x21-\x7e]+$/.test(u),
  (u, c) => (typeof u === 'string' && u.length > 0 && u.length <= MAX_IDEMPOTENCY_KEY_LENGTH && /^[\x21-\x7e]+$/.test(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)
const TransferRequestCodec = t.exact(t.type({ to: Hex32Codec, amount: SafePositiveInteger }))
const BatchItemCodec = t.exact(t.intersection([t.type({ to: Hex32Codec, amount: SafePositiveInteger }), t.partial({ id: IdempotencyKeyCodec })]))
const BatchRequestCodec = t.exact(
  t.type({
    transfers: t.refinement(
      t.array(BatchItemCodec),
      (items) => items.length >= 1 && items.length <= MAX_BATCH_TRANSFERS,
      `Transfers(1..${MAX_BATCH_TRANSFERS})`,
    ),
  }),
)
const IdParamsCodec = t.type({ id: Hex32Codec })
const ListQuery = { limit: boundedInteger(1, MAX_TRANSACTIONS_LISTED, 'Limit') }
/** `rooted=true`: the proof with the path that shows the root committed its certificate. */
const ProofQuery = { rooted: t.keyof({ true: null, false: null }, 'Rooted') }

interface Halves {
  readonly id: string
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock | undefined
}

type Found = Halves & ({ readonly tracked: TrackedTransaction } | { readonly answer: StoredAnswer })

/** The transaction from the tracker or the store; 404 when this node holds no proposal with that hash. */
async function findHalves(node: FullNode, id: string): Promise<Found> {
  const tracked = node.transactions.get(id)
  if (tracked !== undefined) return { id, proposal: tracked.proposal, agreement: tracked.agreement, tracked }
  const proposal = await node.store.getByHash(fromHex(id))
  if (proposal === undefined || !isProposal(proposal)) throw new ApiError(ApiErrorCode.NOT_FOUND, `no transaction ${id} is known to this node`)
  const answer = await storedAnswer(node.store, proposal)
  return { id, proposal, agreement: answer.status === 'agreed' ? answer.agreement : undefined, answer }
}

/** This node's side of a transaction it found in its store, if it is party to it. */
function roleOf(node: FullNode, proposal: HalfBlock): TransactionRole | undefined {
  if (equalBytes(proposal.publicKey, node.publicKey)) return 'proposer'
  return equalBytes(proposal.linkPublicKey, node.publicKey) ? 'counterparty' : undefined
}

async function findTransaction(node: FullNode, id: string): Promise<TransactionRecord> {
  const found = await findHalves(node, id)
  if ('tracked' in found) return trackedRecord(found.tracked)
  const { proposal, answer } = found
  const role = roleOf(node, proposal)
  const known = { id, proposal, ...(role === undefined ? {} : { role }) }
  switch (answer.status) {
    case 'unanswered':
      return { ...known, status: 'proposed', agreement: undefined }
    case 'refused':
      return { ...known, status: 'refused', agreement: undefined, voided: answer.voided }
    case 'agreed': {
      const { agreement } = answer
      return { ...known, status: (await node.finalRound({ proposal, agreement })) === undefined ? 'agreed' : 'final', agreement }
    }
  }
}

const view = (node: FullNode, tracked: TrackedTransaction): TransactionView => transactionView(node.crypto, trackedRecord(tracked), node.chain.ledger.limits)

/** A refused transfer as its error: the voided transaction goes with it, so the client sees nothing moved. */
function refusedError(node: FullNode, tracked: TrackedTransaction): ApiError {
  const reason = tracked.voided === undefined ? 'refused' : `${tracked.voided.code}: ${tracked.voided.reason}`
  return new ApiError(
    ApiErrorCode.REFUSED,
    `the counterparty refused the transfer (${reason}); its proposal was voided, nothing moved`,
    {},
    {
      extra: { transaction: view(node, tracked) },
    },
  )
}

/** The error of a transfer refused before anything was signed. */
function rejectionError(result: Extract<TransferResult, { kind: 'rejected' }>): ApiError {
  switch (result.reason) {
    case 'INSUFFICIENT_FUNDS':
      return new ApiError(ApiErrorCode.INSUFFICIENT_FUNDS, result.message)
    case 'BUSY': {
      const seconds = String(Math.max(1, Math.ceil((result.retryAfterMs ?? 1_000) / 1_000)))
      return new ApiError(ApiErrorCode.BUSY, result.message, {}, { headers: { 'retry-after': seconds } })
    }
    case 'KEY_CONFLICT':
      return new ApiError(ApiErrorCode.KEY_CONFLICT, result.message)
    case 'CLOSED':
      return new ApiError(ApiErrorCode.UNAVAILABLE, result.message, {}, { headers: { 'retry-after': '5' } })
    case 'INVALID':
      return new ApiError(ApiErrorCode.REJECTED, result.message)
  }
}

/** A transfer's result as one HTTP answer (see the module comment). */
function answerOf(node: FullNode, result: TransferResult): { status: number; body: unknown } {
  if (result.kind === 'rejected') throw rejectionError(result)
  const { tracked } = result
  if (tracked.status === 'refused') throw refusedError(node, tracked)
  return { status: tracked.status === 'pending' ? 202 : result.replay ? 200 : 201, body: view(node, tracked) }
}

/**
 * A transfer's result as one item of a batch answer: its status and id (a batch may hold a thousand transfers, so
 * the halves are left to `GET /v1/transactions/:id`), the refusal of a refused one, or why nothing was signed.
 */
function itemOf(result: TransferResult): unknown {
  if (result.kind === 'transaction') {
    const { tracked } = result
    return {
      status: tracked.status,
      id: tracked.id,
      replay: result.replay,
      ...(tracked.voided === undefined ? {} : { refusal: { code: tracked.voided.code, reason: tracked.voided.reason } }),
    }
  }
  const error = rejectionError(result)
  return {
    status: 'rejected',
    error: { code: error.code, message: error.message, ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }) },
  }
}

/** The request's transfers, checked: members of the network only (a key outside it could never finalise). */
function requestOf(node: FullNode, to: string, amount: number, key?: string): TransferRequest | ApiError {
  const publicKey = fromHex(to)
  if (memberOf(node.genesis, publicKey) === undefined) return new ApiError(ApiErrorCode.REJECTED, `${to} is not a member of this network`)
  return { to: publicKey, amount, ...(key === undefined ? {} : { key }) }
}

export function transactionRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/transactions',
      async handler({ node, body, headers }) {
        const request = decodeInput(TransferRequestCodec, body, 'body')
        const header = headers['idempotency-key']
        const key = header === undefined ? undefined : decodeInput(IdempotencyKeyCodec, header, 'header')
        const transfer = requestOf(node, request.to, request.amount, key)
        if (transfer instanceof ApiError) throw transfer
        const [result] = await node.transfer([transfer])
        return answerOf(node, result as TransferResult)
      },
    },
    {
      method: 'POST',
      path: '/v1/transactions/batch',
      async handler({ node, body }) {
        const { transfers } = decodeInput(BatchRequestCodec, body, 'body')
        const requests = transfers.map((item) => requestOf(node, item.to, item.amount, item.id))
        const valid = requests.flatMap((request) => (request instanceof ApiError ? [] : [request]))
        const results = await node.transfer(valid)
        let next = 0
        const outcomes = requests.map((request) =>
          request instanceof ApiError
            ? { status: 'rejected', error: { code: request.code, message: request.message } }
            : itemOf(results[next++] as TransferResult),
        )
        return { status: 200, body: { outcomes } }
      },
    },
    {
      method: 'GET',
      path: '/v1/transactions',
      query: ListQuery,
      handler({ node, query }) {
        const { limit = 20 } = strictQuery(ListQuery, query)
        return { status: 200, body: { totals: node.transactions.totals, transactions: node.transactions.recent(limit).map((tracked) => view(node, tracked)) } }
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
      query: ProofQuery,
      async handler({ node, params, query }) {
        const { id } = decodeInput(IdParamsCodec, params, 'path')
        const { rooted = 'false' } = strictQuery(ProofQuery, query)
        const { proposal, agreement } = await findHalves(node, id)
        if (agreement === undefined) throw new ApiError(ApiErrorCode.NOT_FINAL, `transaction ${id} has no agreement`)
        // NOT_FINAL from the consensus (409) until the consensus finalised it; rooted, NOT_ROOTED until the root committed it.
        const rootedProof = rooted === 'true' ? await node.rootedProof({ proposal, agreement }) : undefined
        const proof = rootedProof?.proof ?? (await node.agreementProof({ proposal, agreement }))
        const bytes = encodeAgreementProof(proof, node.chain.ledger.limits)
        const body = { id, bytes: bytes.length, proof: toHex(bytes), summary: proofSummary(node.crypto, proof) }
        if (rootedProof === undefined) return { status: 200, body }
        // The root certificate that commits it: the last step of the (one) path.
        const top = rootedProof.paths[0]?.steps.at(-1)?.certificate.result.body
        const paths = rootedProof.paths.map((path) => toHex(encodeFinalityPath(path)))
        return { status: 200, body: { ...body, paths, root: top === undefined ? null : { level: top.level, group: top.group, round: top.round } } }
      },
    },
  ]
}
