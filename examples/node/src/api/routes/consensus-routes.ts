/**
 * Consensus results: the certificates of the rounds this node has applied, a page at a time or one round, each with
 * its result hash, signers, certified checkpoints, next facilitators and encoding (see certificate-view.ts) — of its
 * own solar system (`/v1/consensus/rounds`), and of any group it follows (`/v1/consensus/groups/:level/:group/rounds`):
 * a group above level 0 it validates, and that group's children.
 */
import type { CertificateHistory } from '@constellation/consensus'
import * as t from 'io-ts'
import { GroupName, MAX_GENESIS_LEVEL } from '../../config/network-genesis.js'
import { followedHistory } from '../../node/followed-history.js'
import type { FullNode } from '../../node/full-node.js'
import { ApiError, ApiErrorCode } from '../api-error.js'
import { boundedInteger, decodeInput, IntegerFromString, strictQuery } from '../request-input.js'
import type { Route } from '../router.js'
import { certificateView } from '../views/certificate-view.js'

/** Most certificates one page returns. */
export const MAX_ROUNDS_LISTED = 100

const RoundQuery = boundedInteger(1, Number.MAX_SAFE_INTEGER, 'Round')
const RoundsQuery = { from: RoundQuery, limit: boundedInteger(1, MAX_ROUNDS_LISTED, 'Limit') }
const RoundParamsCodec = t.type({ round: t.refinement(IntegerFromString, (n) => n >= 1, 'Round') })
const GroupParamsCodec = t.type({ level: t.refinement(IntegerFromString, (n) => n >= 0 && n <= MAX_GENESIS_LEVEL, 'Level'), group: GroupName })

/** A page of a certified history: without `from`, the latest `limit` rounds; ascending either way. */
function roundsPage(node: FullNode, history: CertificateHistory, query: { readonly from?: number; readonly limit?: number }) {
  const { limit = 20, from } = query
  const first = from ?? Math.max(1, history.round - limit + 1)
  const last = Math.min(history.round, first + limit - 1)
  const rounds = []
  for (let round = first; round <= last; round++) {
    const certificate = history.certificate(round)
    if (certificate !== undefined) rounds.push(certificateView(node.crypto, certificate))
  }
  return { latestRound: history.round, rounds }
}

export function consensusRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/consensus/rounds',
      query: RoundsQuery,
      handler({ node, query }) {
        return { status: 200, body: roundsPage(node, node.consensus.history, strictQuery(RoundsQuery, query)) }
      },
    },
    {
      method: 'GET',
      path: '/v1/consensus/groups/:level/:group/rounds',
      query: RoundsQuery,
      handler({ node, params, query }) {
        const { level, group } = decodeInput(GroupParamsCodec, params, 'path')
        const history = followedHistory(node, level, group)
        if (history === undefined) throw new ApiError(ApiErrorCode.NOT_FOUND, `this node does not follow group ${group} of level ${level}`)
        return { status: 200, body: { level, group, ...roundsPage(node, history, strictQuery(RoundsQuery, query)) } }
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
