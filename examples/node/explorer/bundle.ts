/**
 * Builds the explorer's browser app in memory for the node's HTTP server to serve under /explorer/: the Preact app
 * (src/main.tsx and what it imports, TSX compiled by esbuild, minified, for browsers), its hand-written stylesheet
 * and its page. Nothing is written to disk and nothing is fetched at run time: every byte comes from this folder or
 * from npm packages installed with the node, so the explorer works offline and ships no CDN link.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build, transform } from 'esbuild'

export interface ExplorerAsset {
  /** Relative to /explorer/: "index.html", "app.js", "app.css", "favicon.svg". */
  readonly path: string
  readonly contentType: string
  readonly body: Uint8Array
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * Modules the node's packages reach only through dynamic imports (native crypto backends, worker threads, LevelDB)
 * or in code the app never calls: left out of the bundle rather than built for a browser. The bundle test checks
 * that app.js imports none of them, so a new static import from a browser path fails there, not in the page.
 */
export const NODE_ONLY_MODULES = ['node:*', 'classic-level', 'sodium-native']

/** Browsers of the last few years: what esbuild lowers the app's syntax to. */
const BROWSER_TARGET = ['chrome109', 'firefox115', 'safari16', 'edge109']

async function bundleScript(): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [here('./src/main.tsx')],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    // The workspace packages' TypeScript sources, as the node's own tests and tsx run them (no build needed first).
    conditions: ['source'],
    external: NODE_ONLY_MODULES,
    // io-ts imports fp-ts's ES modules, the packages its CommonJS build: one copy, the one esbuild can tree-shake.
    // (esbuild resolves an alias from the working directory: this folder's, whatever the caller's is.)
    alias: { 'fp-ts/lib': 'fp-ts/es6' },
    absWorkingDir: here('.'),
    target: BROWSER_TARGET,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: here('./tsconfig.json'),
    legalComments: 'none',
    logLevel: 'silent',
    outfile: 'app.js',
  })
  const [output] = result.outputFiles
  if (output === undefined || result.outputFiles.length !== 1)
    throw new Error(`the explorer bundle gave ${result.outputFiles.length} files, expected app.js alone`)
  return output.contents
}

async function bundleStylesheet(): Promise<Uint8Array> {
  const source = await readFile(here('./src/app.css'), 'utf8')
  const { code } = await transform(source, { loader: 'css', minify: true, target: BROWSER_TARGET, logLevel: 'silent' })
  return new TextEncoder().encode(code)
}

/** The explorer's files, built afresh; the server builds them once per process and caches them. */
export async function bundleExplorer(): Promise<readonly ExplorerAsset[]> {
  const [script, stylesheet, page, icon] = await Promise.all([
    bundleScript(),
    bundleStylesheet(),
    readFile(here('./index.html')),
    readFile(here('./favicon.svg')),
  ])
  return [
    { path: 'index.html', contentType: 'text/html; charset=utf-8', body: new Uint8Array(page) },
    { path: 'app.js', contentType: 'text/javascript; charset=utf-8', body: script },
    { path: 'app.css', contentType: 'text/css; charset=utf-8', body: stylesheet },
    { path: 'favicon.svg', contentType: 'image/svg+xml', body: new Uint8Array(icon) },
  ]
}
