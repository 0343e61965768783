/**
 * Consensus results: the certificates of the rounds this node has applied, a page at a time or one round, each with
 * its result hash, signers, certified checkpoints, next facilitators and encoding (see certificate-view.ts).
 */
import * as t from 'io-ts'
import { ApiError, ApiErrorCode } from '../api-error.js'
import { boundedInteger, decodeInput, IntegerFromString, strictQuery } from '../request-input.js'
import type { Route } from '../router.js'
import { certificateView } from '../views/certificate-view.js'

/** Most certificates one page returns. */
export const MAX_ROUNDS_LISTED = 100

const RoundQuery = boundedInteger(1, Number.MAX_SAFE_INTEGER, 'Round')
const RoundsQuery = { from: RoundQuery, limit: boundedInteger(1, MAX_ROUNDS_LISTED, 'Limit') }
const RoundParamsCodec = t.type({ round: t.refinement(IntegerFromString, (n) => n >= 1, 'Round') })

export function consensusRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/consensus/rounds',
      query: RoundsQuery,
      handler({ node, query }) {
        const { history } = node.consensus
        const { limit = 20, from } = strictQuery(RoundsQuery, query)
        // Without `from`, the latest `limit` rounds; ascending either way.
        const first = from ?? Math.max(1, history.round - limit + 1)
        const last = Math.min(history.round, first + limit - 1)
        const rounds = []
        for (let round = first; round <= last; round++) {
          const certificate = history.certificate(round)
          if (certificate !== undefined) rounds.push(certificateView(node.crypto, certificate))
        }
        return { status: 200, body: { latestRound: history.round, rounds } }
      },
    },
    {
      method: 'GET',
      path: '/v1/consensus/rounds/:round',
      handler({ node, params }) {
        const { round } = decodeInput(RoundParamsCodec, params, 'path')
        const certificate = node.consensus.history.certificate(round)
        if (certificate === undefined)
          throw new ApiError(ApiErrorCode.NOT_FOUND, `round ${round} is not certified here (latest: ${node.consensus.history.round})`)
        return { status: 200, body: certificateView(node.crypto, certificate) }
      },
    },
  ]
}
