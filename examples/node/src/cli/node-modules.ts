/**
 * The modules `start` runs beside the node's core, in start order: the contracts host, then the HTTP API (which
 * serves the contracts' routes too). `createNode` closes them in reverse, before the core.
 */
import type { NodeConfig } from '../config/node-config.js'
import type { FullNode, NodeModule } from '../node/create-node.js'

export function nodeModules(_config: NodeConfig): ((node: FullNode) => Promise<NodeModule>)[] {
  return []
}
