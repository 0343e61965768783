/**
 * Half-blocks and chains: one block by hash, a bounded range of one chain, and submitting an encoded half-block
 * (a light client's own block, say). A submitted block goes through the same path as blocks from the network —
 * `decodeBlock` with the ledger's size limits, then `ledger.ingest`, which validates before it writes — so a block
 * that does not decode is a 400, one that does not validate a 422 with the validation reasons, and neither stores
 * anything.
 */
import { fromHex, toHex } from '@constellation/crypto'
import { decodeBlock } from '@constellation/trustchain'
import * as t from 'io-ts'
import { Hex32Codec } from '../../config/codecs.js'
import { ApiError, ApiErrorCode } from '../api-error.js'
import { boundedInteger, decodeInput, HexString, strictQuery } from '../request-input.js'
import type { Route } from '../router.js'
import { halfBlockView } from '../views/half-block-view.js'

/** Most blocks one chain range returns. */
export const MAX_CHAIN_RANGE = 100

const HashParamsCodec = t.type({ hash: Hex32Codec })
const ChainParamsCodec = t.type({ publicKey: Hex32Codec })
const SequenceNumberQuery = boundedInteger(1, Number.MAX_SAFE_INTEGER, 'SequenceNumber')
const RangeQuery = { from: SequenceNumberQuery, to: SequenceNumberQuery }
const SubmitBlockCodec = t.exact(t.type({ block: HexString }))

export function blockRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/blocks/:hash',
      async handler({ node, params }) {
        const { hash } = decodeInput(HashParamsCodec, params, 'path')
        const block = await node.store.getByHash(fromHex(hash))
        if (block === undefined) throw new ApiError(ApiErrorCode.NOT_FOUND, `no block ${hash} is stored on this node`)
        return { status: 200, body: halfBlockView(node.crypto, block, node.chain.ledger.limits) }
      },
    },
    {
      method: 'POST',
      path: '/v1/blocks',
      async handler({ node, body }) {
        const { block: hex } = decodeInput(SubmitBlockCodec, body, 'body')
        const { limits } = node.chain.ledger
        // The hex is checked against the block limit before it is turned into bytes.
        if (hex.length / 2 > limits.maxBlockBytes)
          throw new ApiError(ApiErrorCode.INVALID_REQUEST, `the block is ${hex.length / 2} bytes, over the limit of ${limits.maxBlockBytes}`)
        const block = decodeBlock(node.crypto, fromHex(hex), limits)
        const [outcome] = await node.chain.ledger.ingest([block])
        if (outcome === undefined) throw new Error('the ledger returned no outcome for one block')
        if (outcome.status === 'rejected') throw outcome.error
        const validation = { level: outcome.validation.level, reasons: outcome.validation.reasons }
        return {
          status: outcome.status === 'stored' ? 201 : 200,
          body: { status: outcome.status, hash: toHex(outcome.hash), validation, block: halfBlockView(node.crypto, outcome.block, limits) },
        }
      },
    },
    {
      method: 'GET',
      path: '/v1/chains/:publicKey',
      query: RangeQuery,
      async handler({ node, params, query }) {
        const { publicKey } = decodeInput(ChainParamsCodec, params, 'path')
        const range = strictQuery(RangeQuery, query)
        const key = fromHex(publicKey)
        const latest = await node.store.latest(key)
        if (latest === undefined) throw new ApiError(ApiErrorCode.NOT_FOUND, `no block of chain ${publicKey} is stored on this node`)
        const from = range.from ?? 1
        // Without `to`, up to a page from `from` (an empty page past the head, not an error).
        const to = range.to ?? Math.max(from, Math.min(latest.sequenceNumber, from + MAX_CHAIN_RANGE - 1))
        if (to < from) throw new ApiError(ApiErrorCode.INVALID_REQUEST, `invalid query: to (${to}) is before from (${from})`)
        if (to - from + 1 > MAX_CHAIN_RANGE)
          throw new ApiError(ApiErrorCode.INVALID_REQUEST, `invalid query: at most ${MAX_CHAIN_RANGE} blocks at once, asked for ${to - from + 1}`)
        const blocks = await node.store.range(key, from, to)
        return {
          status: 200,
          body: {
            publicKey,
            height: latest.sequenceNumber,
            from,
            to,
            blocks: blocks.map((block) => halfBlockView(node.crypto, block, node.chain.ledger.limits)),
          },
        }
      },
    },
  ]
}
