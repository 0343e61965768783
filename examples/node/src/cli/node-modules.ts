/**
 * The modules `start` runs beside the node's core, in start order: the contracts module, the explorer's event hub
 * (unless `explorer.enabled` is false), then the HTTP API, which serves the contracts' and the explorer's routes
 * beside its own. `createNode` closes them in reverse, before the core: the API (and its open event streams) first.
 */
import { apiModule } from '../api/api-server.js'
import { contractRoutes } from '../api/routes/contracts.js'
import type { NodeConfig } from '../config/node-config.js'
import { contractsModule } from '../contracts/contracts-module.js'
import { explorerModule, explorerRoutes } from '../explorer/explorer-module.js'
import type { NodeModuleFactory } from '../node/full-node.js'

export function nodeModules(config: Pick<NodeConfig, 'explorer'>): NodeModuleFactory[] {
  if (!config.explorer.enabled) return [contractsModule(), apiModule({ routes: contractRoutes })]
  return [contractsModule(), explorerModule(), apiModule({ routes: [...contractRoutes, ...explorerRoutes()] })]
}
