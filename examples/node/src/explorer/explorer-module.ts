/**
 * The web explorer as a node module: `explorerModule()` starts the live event hub (explorer-events.ts) beside the
 * node's core, and `explorerRoutes` are the routes the HTTP API serves for it — the app's files (asset-routes.ts)
 * and its JSON and event routes (explorer-routes.ts). Started before the API and closed after it:
 *   createNode(config, { modules: [contractsModule(), explorerModule(), apiModule({ routes: [...contractRoutes, ...explorerRoutes()] })] })
 * The app itself is bundled on the first request for it, not at start (a devnet of eight nodes must not bundle eight
 * times while it starts).
 */
import type { Route } from '../api/router.js'
import type { FullNode, NodeModule } from '../node/full-node.js'
import { assetRoutes } from './asset-routes.js'
import type { ExplorerBundler } from './explorer-assets.js'
import { ExplorerEvents, type ExplorerEventsOptions } from './explorer-events.js'
import { explorerApiRoutes } from './explorer-routes.js'

export type ExplorerModuleOptions = ExplorerEventsOptions

export interface ExplorerModule extends NodeModule {
  readonly events: ExplorerEvents
}

/** The running explorer of each node, for the routes. */
const running = new WeakMap<FullNode, ExplorerModule>()

export function nodeExplorer(node: FullNode): ExplorerModule | undefined {
  return running.get(node)
}

export function explorerModule(options: ExplorerModuleOptions = {}): (node: FullNode) => Promise<ExplorerModule> {
  return async (node) => {
    const events = new ExplorerEvents(node, options)
    const module: ExplorerModule = {
      events,
      async close() {
        running.delete(node)
        events.close()
      },
    }
    running.set(node, module)
    node.logger.child({ module: 'explorer' }).info('explorer running')
    return module
  }
}

/** The explorer's routes for `apiModule({ routes })`; `bundler` replaces the app's build (tests). */
export function explorerRoutes(options: { readonly bundler?: ExplorerBundler } = {}): Route[] {
  return [...assetRoutes(options.bundler), ...explorerApiRoutes((node) => running.get(node)?.events)]
}
