// Pins a package's public surface, entry by entry (each package README's "Interface" section): the exact runtime
// names of each entry, one home per name, and package.json's exports map pointing each entry at the source file the
// test imported. A name added to or dropped from an entry fails the package's test until its list — and its README —
// say so. Types cannot be seen at run time; they follow the same entries.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

export function describePublicSurface(packageDir, entries, expected) {
  describe('the public surface', () => {
    for (const [entry, names] of Object.entries(expected)) {
      it(`${entry} exports exactly its listed names`, () => {
        expect(Object.keys(entries[entry]).sort()).toEqual([...names].sort())
      })
    }

    it('gives every name one home: no name is exported by two entries', () => {
      const homes = new Map()
      for (const [entry, module] of Object.entries(entries)) {
        for (const name of Object.keys(module)) homes.set(name, [...(homes.get(name) ?? []), entry])
      }
      expect([...homes].filter(([, at]) => at.length > 1)).toEqual([])
    })

    it('package.json exports exactly these entries, each from its source file', () => {
      const manifest = JSON.parse(readFileSync(new URL('package.json', packageDir), 'utf8'))
      const subpaths = Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json')
      expect(subpaths.sort()).toEqual(Object.keys(expected).sort())
      for (const subpath of subpaths) {
        const name = subpath === '.' ? 'index' : subpath.slice(2)
        expect(manifest.exports[subpath]).toEqual({ types: `./dist/${name}.d.ts`, source: `./src/${name}.ts`, import: `./dist/${name}.js` })
      }
    })
  })
}
