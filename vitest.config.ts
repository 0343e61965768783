import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultServerConditions, defineConfig } from 'vite'

// One vitest project per workspace package that has tests. Tests import workspace
// packages through their "source" export condition, so `vitest run` needs no build.
const rootDir = fileURLToPath(new URL('.', import.meta.url))
const workspaceDirs = ['packages', 'examples'].flatMap((group) =>
  existsSync(join(rootDir, group)) ? readdirSync(join(rootDir, group)).map((name) => join(rootDir, group, name)) : [],
)

export default defineConfig({
  ssr: {
    resolve: {
      conditions: ['source', ...defaultServerConditions],
    },
  },
  test: {
    projects: workspaceDirs
      .filter((dir) => existsSync(join(dir, 'test')))
      .map((dir) => ({
        extends: true,
        root: dir,
        test: {
          name: dir.split('/').at(-1) ?? dir,
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
        },
      })),
  },
})
