/**
 * The explorer's static files as the node serves them: the browser app built by `bundleExplorer()` (explorer/
 * bundle.ts) on the first request that needs it, once per process, each file with an ETag (its content hash) so a
 * browser revalidates with `If-None-Match` and gets a 304 while the node runs the same build. A failed build is not
 * cached: the next request tries again (and gets the error meanwhile).
 */
import { createHash } from 'node:crypto'
import type { ExplorerAsset } from '../../explorer/bundle.js'

export type { ExplorerAsset }

/** Builds the app's files (default: `bundleExplorer`, loaded only when the explorer is first asked for). */
export type ExplorerBundler = () => Promise<readonly ExplorerAsset[]>

export interface ServedAsset extends ExplorerAsset {
  /** A strong validator: the quoted SHA-256 of the body (first 32 hex digits). */
  readonly etag: string
}

/** The build's files by path (relative to /explorer/). */
export type AssetSet = ReadonlyMap<string, ServedAsset>

/** The app's own bundler, imported lazily: a node that never serves the explorer never loads esbuild. */
export const defaultBundler: ExplorerBundler = async () => (await import('../../explorer/bundle.js')).bundleExplorer()

/** One build per bundler per process: the nodes of one process (the tests) share it as well. */
const builds = new WeakMap<ExplorerBundler, Promise<AssetSet>>()

export function explorerAssets(bundler: ExplorerBundler = defaultBundler): Promise<AssetSet> {
  const cached = builds.get(bundler)
  if (cached !== undefined) return cached
  const building = bundler().then((assets) => new Map(assets.map((asset) => [asset.path, { ...asset, etag: etagOf(asset.body) }] as const)))
  builds.set(bundler, building)
  // Forgotten on failure, so that a fixed file (or a transient error) is picked up by the next request.
  building.catch(() => builds.delete(bundler))
  return building
}

function etagOf(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`
}

/** Whether an `If-None-Match` header names this ETag (`*`, a list, weak forms compared weakly as RFC 9110 asks). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim()
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag
  })
}
