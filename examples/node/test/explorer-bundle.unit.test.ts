/** The explorer's bundle: its four files, built in memory, self-contained (nothing loaded from another origin). */
import { describe, expect, it } from 'vitest'
import { bundleExplorer, NODE_ONLY_MODULES } from '../explorer/bundle.js'

describe('bundleExplorer', () => {
  it('builds the page, the script, the stylesheet and the icon, referring to nothing outside /explorer/', async () => {
    const assets = await bundleExplorer()
    expect(assets.map((asset) => [asset.path, asset.contentType])).toEqual([
      ['index.html', 'text/html; charset=utf-8'],
      ['app.js', 'text/javascript; charset=utf-8'],
      ['app.css', 'text/css; charset=utf-8'],
      ['favicon.svg', 'image/svg+xml'],
    ])
    const text = Object.fromEntries(assets.map((asset) => [asset.path, new TextDecoder().decode(asset.body)]))
    expect(text['index.html']).toContain('<script type="module" src="app.js"></script>')
    expect(text['index.html']).toContain('href="app.css"')
    // Preact is inside the bundle, and the app's own code with it.
    expect(text['app.js']).toContain('/v1/events')
    expect(text['app.js']).not.toMatch(/from\s*["']preact/)
    for (const [path, body] of Object.entries(text)) {
      // No CDN, no web font: the only absolute URLs are XML namespaces.
      expect(body.match(/https?:\/\/[^\s"')]+/g)?.filter((url) => !url.startsWith('http://www.w3.org/')) ?? [], path).toEqual([])
    }
    expect(text['app.css']).toContain('prefers-color-scheme:dark')
  })

  it('imports none of the node-only modules it leaves out, though it holds the finality check that reaches their packages', async () => {
    const assets = await bundleExplorer()
    const script = new TextDecoder().decode(assets.find((asset) => asset.path === 'app.js')?.body)
    // The check is in: it reads the genesis and verifies certificates (the consensus and crypto packages).
    expect(script).toContain('/v1/genesis')
    expect(script).toContain('Verified in this browser')
    const specifiers = [...script.matchAll(/(?:\bimport\s*\(?|\bfrom|\brequire\s*\()\s*["']([^"']+)["']/g)].map((match) => match[1])
    const nodeOnly = NODE_ONLY_MODULES.map((name) =>
      name.endsWith('*') ? (specifier: string) => specifier.startsWith(name.slice(0, -1)) : (specifier: string) => specifier === name,
    )
    expect(specifiers.filter((specifier) => nodeOnly.some((matches) => matches(specifier as string)))).toEqual([])
    expect(script).not.toMatch(/["'](?:node:[a-z_/]+|classic-level|sodium-native)["']/)
  })
})
