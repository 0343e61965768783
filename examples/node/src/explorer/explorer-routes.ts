/**
 * The explorer's JSON and event routes beside the API's own (the data contract is explorer-views.ts):
 *   GET /v1/dag?perChain=N              the DAG of chains (N 1..50, default 16)
 *   GET /v1/hierarchy                   the levels this node runs
 *   GET /v1/contracts/:id/invocations   a hosted contract's invocations, newest first (?limit 1..100, default 20)
 *   GET /v1/events                      the live event stream (text/event-stream)
 * Inputs are decoded with codecs (a bad one is a 400 naming it, an unknown query key too: see request-input.ts); the event stream comes
 * from the node's running explorer module (explorer-module.ts), so a node without it answers 503.
 */
import * as t from 'io-ts'
import { ApiError, ApiErrorCode } from '../api/api-error.js'
import { boundedInteger, decodeInput, strictQuery } from '../api/request-input.js'
import type { Route } from '../api/router.js'
import { Hex32Codec } from '../config/codecs.js'
import type { FullNode } from '../node/full-node.js'
import { contractInvocations, DEFAULT_INVOCATIONS_LISTED, MAX_INVOCATIONS_LISTED } from './contract-invocations.js'
import { DEFAULT_DAG_PER_CHAIN, dagView, MAX_DAG_PER_CHAIN } from './dag-view.js'
import type { ExplorerEvents } from './explorer-events.js'
import { hierarchyView } from './hierarchy-view.js'

const DagQuery = { perChain: boundedInteger(1, MAX_DAG_PER_CHAIN, 'PerChain') }
const InvocationsQuery = { limit: boundedInteger(1, MAX_INVOCATIONS_LISTED, 'Limit') }
const ContractParamsCodec = t.type({ id: Hex32Codec })

/** Routes for the node's JSON API; `eventsOf` finds the running explorer's event hub of a node. */
export function explorerApiRoutes(eventsOf: (node: FullNode) => ExplorerEvents | undefined): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/dag',
      query: DagQuery,
      async handler({ node, query }) {
        const { perChain = DEFAULT_DAG_PER_CHAIN } = strictQuery(DagQuery, query)
        return { status: 200, body: await dagView(node, perChain) }
      },
    },
    {
      method: 'GET',
      path: '/v1/hierarchy',
      handler({ node }) {
        return { status: 200, body: hierarchyView(node) }
      },
    },
    {
      method: 'GET',
      path: '/v1/contracts/:id/invocations',
      query: InvocationsQuery,
      async handler({ node, params, query }) {
        const { id } = decodeInput(ContractParamsCodec, params, 'path')
        const { limit = DEFAULT_INVOCATIONS_LISTED } = strictQuery(InvocationsQuery, query)
        return { status: 200, body: await contractInvocations(node, id, limit) }
      },
    },
    {
      method: 'GET',
      path: '/v1/events',
      handler({ node, signal }) {
        const events = eventsOf(node)
        if (events === undefined) throw new ApiError(ApiErrorCode.UNAVAILABLE, 'this node runs without the explorer module')
        return {
          status: 200,
          contentType: 'text/event-stream; charset=utf-8',
          raw: events.open(signal),
          // No cache, and no buffering by a proxy in front of the node: an event is worth something only now.
          headers: { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
        }
      },
    },
  ]
}
