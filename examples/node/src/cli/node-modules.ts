/**
 * The modules `start` runs beside the node's core, in start order: the contracts module, then the HTTP API, which
 * serves the contracts' routes beside its own. `createNode` closes them in reverse, before the core.
 */
import { apiModule } from '../api/api-server.js'
import { contractRoutes } from '../api/routes/contracts.js'
import { contractsModule } from '../contracts/contracts-module.js'
import type { FullNode, NodeModule } from '../node/create-node.js'

export function nodeModules(): ((node: FullNode) => Promise<NodeModule>)[] {
  return [contractsModule(), apiModule({ routes: contractRoutes })]
}
