/**
 * The explorer's shell: a banner with the site's name, the labelled navigation and the live indicator, and the
 * main region showing the view the location hash names (model/route.ts). A change of view moves focus to the new
 * page's heading, so keyboard and screen-reader users land where the content is.
 */
import { useEffect, useState } from 'preact/hooks'
import type { LiveState, LiveStream } from './browser/live-stream.js'
import { LiveContext, useLiveEvents } from './browser/use-view.js'
import { shortHex } from './model/format.js'
import { type ExplorerRoute, hrefOf, parseRoute, sectionOf } from './model/route.js'
import { BlockPage } from './views/block.js'
import { ChainPage } from './views/chain.js'
import { PageHeading } from './views/common.js'
import { ContractPage, ContractsPage } from './views/contracts.js'
import { HierarchyPage } from './views/hierarchy.js'
import { MemesPage } from './views/memes.js'
import { OverviewPage } from './views/overview.js'
import { RoundsPage } from './views/rounds.js'
import { TransactionPage } from './views/transaction.js'

const SECTIONS = [
  { section: 'overview', label: 'Overview', href: hrefOf({ view: 'overview' }) },
  { section: 'rounds', label: 'Rounds', href: hrefOf({ view: 'rounds' }) },
  { section: 'hierarchy', label: 'Hierarchy', href: hrefOf({ view: 'hierarchy' }) },
  { section: 'memes', label: 'Memes', href: hrefOf({ view: 'memes' }) },
  { section: 'contracts', label: 'Contracts', href: hrefOf({ view: 'contracts' }) },
] as const

const LIVE_TEXT: Readonly<Record<LiveState, string>> = { connecting: 'connecting', live: 'live', reconnecting: 'reconnecting' }

function LiveIndicator({ live }: { readonly live: LiveStream }) {
  const [state, setState] = useState<LiveState>(live.state)
  useEffect(() => live.onState(setState), [live])
  // The node says when its consensus stalls (no certified round for a while): the stream is live, the network is not.
  const [stalledSince, setStalledSince] = useState<number | undefined>(undefined)
  useLiveEvents((event) => {
    if (event.kind === 'hello') setStalledSince(event.stalledSince)
    else if (event.kind === 'consensus') setStalledSince(event.stalled ? event.stalledSince : undefined)
    else if (event.kind === 'round') setStalledSince(undefined)
  })
  const stalled = state === 'live' && stalledSince !== undefined
  return (
    <p
      class={`live live--${stalled ? 'stalled' : state}`}
      title={stalled ? 'The node has seen no certified round since then' : "Live updates from the node's event stream"}
    >
      <span class="visually-hidden">Live updates: </span>
      <span role="status" aria-live="polite" data-testid="live-status">
        {stalled ? `stalled since ${new Date(stalledSince).toLocaleTimeString()}` : LIVE_TEXT[state]}
      </span>
    </p>
  )
}

function NodeName() {
  const [nodeId, setNodeId] = useState<string | undefined>(undefined)
  useLiveEvents((event) => {
    if (event.kind === 'hello') setNodeId(event.nodeId)
  })
  return nodeId === undefined ? null : (
    <span class="site__node">
      node{' '}
      <a href={hrefOf({ view: 'chain', publicKey: nodeId })} title={nodeId}>
        {shortHex(nodeId)}
      </a>
    </span>
  )
}

function View({ route }: { readonly route: ExplorerRoute }) {
  switch (route.view) {
    case 'overview':
      return <OverviewPage />
    case 'rounds':
      return <RoundsPage />
    case 'hierarchy':
      return <HierarchyPage />
    case 'memes':
      return <MemesPage />
    case 'contracts':
      return <ContractsPage />
    case 'contract':
      return <ContractPage id={route.id} />
    case 'transaction':
      return <TransactionPage id={route.id} />
    case 'block':
      return <BlockPage hash={route.hash} />
    case 'chain':
      return <ChainPage publicKey={route.publicKey} />
    case 'not-found':
      return (
        <>
          <PageHeading title="Not found">Nothing here</PageHeading>
          <p>
            The explorer has no page at <code>{route.hash}</code>. <a href={hrefOf({ view: 'overview' })}>Back to the overview</a>.
          </p>
        </>
      )
  }
}

export function App({ live }: { readonly live: LiveStream }) {
  const [route, setRoute] = useState<ExplorerRoute>(() => parseRoute(location.hash))
  useEffect(() => {
    const onHashChange = () => {
      setRoute(parseRoute(location.hash))
      // After the new view rendered: its heading takes focus (it has tabindex -1).
      requestAnimationFrame(() => document.getElementById('page-heading')?.focus())
    }
    addEventListener('hashchange', onHashChange)
    return () => removeEventListener('hashchange', onHashChange)
  }, [])
  const current = sectionOf(route)
  const routeKey = JSON.stringify(route)
  return (
    <LiveContext.Provider value={live}>
      {/* biome-ignore lint/a11y/useValidAnchor: a skip link is a link to the heading; the handler only keeps the route's hash */}
      <a
        class="skip-link"
        href="#page-heading"
        onClick={(event) => {
          // Not a route: move focus to the page's heading without touching the hash.
          event.preventDefault()
          document.getElementById('page-heading')?.focus()
        }}
      >
        Skip to content
      </a>
      <header class="site">
        <p class="site__name">
          <a href={hrefOf({ view: 'overview' })}>Constellation explorer</a>
          <NodeName />
        </p>
        <nav aria-label="Explorer views" class="site__nav">
          <ul>
            {SECTIONS.map((item) => (
              <li key={item.section}>
                <a href={item.href} aria-current={item.section === current ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <LiveIndicator live={live} />
      </header>
      <main id="main">
        <View key={routeKey} route={route} />
      </main>
      <footer class="site__footer">
        <p>Read from this node's JSON API under /v1; live through /v1/events.</p>
      </footer>
    </LiveContext.Provider>
  )
}
