/** Every route the node's core serves (modules add theirs through `apiModule({ routes })`). */
import type { Route } from '../router.js'
import { blockRoutes } from './block-routes.js'
import { consensusRoutes } from './consensus-routes.js'
import { genesisRoutes } from './genesis-routes.js'
import { memeRoutes } from './meme-routes.js'
import { networkRoutes } from './network-routes.js'
import { statusRoutes } from './status-routes.js'
import { transactionRoutes } from './transaction-routes.js'

export function nodeRoutes(): Route[] {
  return [...statusRoutes(), ...transactionRoutes(), ...blockRoutes(), ...consensusRoutes(), ...memeRoutes(), ...networkRoutes(), ...genesisRoutes()]
}
