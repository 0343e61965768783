/**
 * An in-process node with the modules `constellation start` runs (contracts, explorer, HTTP API: cli/node-modules.ts),
 * for tests that check rules every route of the real API must follow; and the genesis of a network of given members.
 */
import { writeFile } from 'node:fs/promises'
import type { ApiModule } from '../src/api/index.js'
import { nodeModules } from '../src/cli/node-modules.js'
import type { NodeConfig } from '../src/config/node-config.js'
import { createNode } from '../src/node/create-node.js'
import type { FullNode, NodeModuleFactory } from '../src/node/full-node.js'

export interface StartedNode {
  readonly node: FullNode
  readonly api: ApiModule
}

export async function startAsStartDoes(config: NodeConfig): Promise<StartedNode> {
  let api: ApiModule | undefined
  const modules = nodeModules(config).map(
    (start): NodeModuleFactory =>
      typeof start !== 'function'
        ? start
        : async (node) => {
            const module = await start(node)
            if ('router' in module) api = module as ApiModule
            return module
          },
  )
  const node = await createNode(config, { modules })
  if (api === undefined) throw new Error('the node started without its HTTP API')
  return { node, api }
}

/** Writes a genesis of `members` (hex ids), each with `balance`, and `facilitators` of them. */
export async function writeTestGenesis(
  path: string,
  options: { readonly group: string; readonly members: readonly string[]; readonly balance: number; readonly facilitators?: number },
): Promise<void> {
  const members = options.members.map((id) => ({ id, balance: options.balance }))
  await writeFile(
    path,
    JSON.stringify({ version: 1, group: options.group, timestamp: Date.now(), facilitators: options.facilitators ?? members.length, members }),
  )
}
