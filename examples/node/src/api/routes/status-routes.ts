/** The node's own condition: its status summary, and its Prometheus metrics as text for a scraper. */
import type { Route } from '../router.js'

export function statusRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/status',
      handler: ({ node }) => ({ status: 200, body: node.status() }),
    },
    {
      method: 'GET',
      path: '/v1/metrics',
      async handler({ node }) {
        const { contentType, body } = await node.metrics.render()
        return { status: 200, contentType, raw: body }
      },
    },
  ]
}
