/**
 * The modules `start` runs beside the node's core, in start order: the contracts host, then the HTTP API (which
 * serves the contracts' routes too). `createNode` closes them in reverse, before the core.
 */
import { apiModule } from '../api/api-server.js'
import type { FullNode, NodeModule } from '../node/create-node.js'

export function nodeModules(): ((node: FullNode) => Promise<NodeModule>)[] {
  return [apiModule()]
}
