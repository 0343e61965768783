import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'neutral',
  // The workspace tsconfig is composite (for tsc -b); declaration bundling needs a plain program.
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  external: [/^node:/],
})
