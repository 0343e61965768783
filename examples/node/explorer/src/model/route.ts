/**
 * The explorer's hash routes: which view a location hash names, and the hash of a view. The app is one page, so a
 * link is `#/…` and the browser's history and back button keep working without a server round trip.
 *
 *   #/                   overview: the node's status and the DAG of personal chains
 *   #/rounds             certified checkpoint rounds, live
 *   #/hierarchy          solar systems up to the network's root
 *   #/memes              Proof of Meme: scores, brackets, committee, elections
 *   #/tx/<id>            a transaction, its status and agreement proof
 *   #/blocks/<hash>      a half-block
 *   #/chains/<key>       a personal chain
 *   #/contracts          hosted contracts
 *   #/contracts/<id>     a contract, its state and invocations
 */

export type ExplorerRoute =
  | { readonly view: 'overview' }
  | { readonly view: 'rounds' }
  | { readonly view: 'hierarchy' }
  | { readonly view: 'memes' }
  | { readonly view: 'contracts' }
  | { readonly view: 'transaction'; readonly id: string }
  | { readonly view: 'block'; readonly hash: string }
  | { readonly view: 'chain'; readonly publicKey: string }
  | { readonly view: 'contract'; readonly id: string }
  | { readonly view: 'not-found'; readonly hash: string }

const HEX32 = /^[0-9a-f]{64}$/

const SIMPLE: Readonly<Record<string, ExplorerRoute>> = {
  '': { view: 'overview' },
  rounds: { view: 'rounds' },
  hierarchy: { view: 'hierarchy' },
  memes: { view: 'memes' },
  contracts: { view: 'contracts' },
}

/** The route a location hash names (`#/tx/ab…`); anything unknown or malformed is `not-found`, never a guess. */
export function parseRoute(hash: string): ExplorerRoute {
  const path = hash.replace(/^#/, '').replace(/^\/+/, '').replace(/\/+$/, '')
  const simple = SIMPLE[path]
  if (simple !== undefined) return simple
  const [section, key, ...rest] = path.split('/')
  if (rest.length > 0 || key === undefined) return { view: 'not-found', hash }
  const id = key.toLowerCase()
  if (!HEX32.test(id)) return { view: 'not-found', hash }
  switch (section) {
    case 'tx':
      return { view: 'transaction', id }
    case 'blocks':
      return { view: 'block', hash: id }
    case 'chains':
      return { view: 'chain', publicKey: id }
    case 'contracts':
      return { view: 'contract', id }
    default:
      return { view: 'not-found', hash }
  }
}

/** The hash of a route, for links: `hrefOf({ view: 'transaction', id })` is `#/tx/<id>`. */
export function hrefOf(route: Exclude<ExplorerRoute, { readonly view: 'not-found' }>): string {
  switch (route.view) {
    case 'overview':
      return '#/'
    case 'rounds':
    case 'hierarchy':
    case 'memes':
    case 'contracts':
      return `#/${route.view}`
    case 'transaction':
      return `#/tx/${route.id}`
    case 'block':
      return `#/blocks/${route.hash}`
    case 'chain':
      return `#/chains/${route.publicKey}`
    case 'contract':
      return `#/contracts/${route.id}`
  }
}

/** Which top-level section of the navigation a route belongs to (marked as the current page there). */
export function sectionOf(route: ExplorerRoute): 'overview' | 'rounds' | 'hierarchy' | 'memes' | 'contracts' | undefined {
  switch (route.view) {
    case 'overview':
    case 'transaction':
    case 'block':
    case 'chain':
      return 'overview'
    case 'contract':
      return 'contracts'
    case 'not-found':
      return undefined
    default:
      return route.view
  }
}
