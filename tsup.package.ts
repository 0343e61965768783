/** The one tsup build every workspace package uses: ESM for Node 20, bundled declarations, source maps. */
import { defineConfig, type Options } from 'tsup'

export function packageBuild(options: Pick<Options, 'external'> = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
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
