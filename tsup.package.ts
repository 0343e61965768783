/** The one tsup build every workspace package uses: ESM for Node 20, bundled declarations, source maps. */
import { defineConfig, type Options } from 'tsup'

export function packageBuild(options: Pick<Options, 'external'> & { readonly entry?: string[] } = {}) {
  return defineConfig({
    // One entry per `exports` subpath: src/<name>.ts builds dist/<name>.js and dist/<name>.d.ts.
    entry: options.entry ?? ['src/index.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'neutral',
    // The workspace tsconfig is composite (for tsc -b); declaration bundling needs a plain program.
    dts: { compilerOptions: { composite: false } },
    sourcemap: true,
    clean: true,
    // Node built-ins are imported as they are, never bundled.
    external: [/^node:/, ...(options.external ?? [])],
  })
}
