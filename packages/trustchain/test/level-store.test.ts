import { openLevelBlockStore } from '../src/index.js'
import { tempDir, testCrypto } from './helpers.js'
import { blockStoreConformance } from './store-conformance.js'

for (const [label, cacheSize] of [
  ['LevelDB', undefined],
  ['LevelDB with a 2-entry cache (evictions everywhere)', 2],
] as const)
  blockStoreConformance(
    label,
    () => {
      const dir = tempDir('level')
      let n = 0
      // Each open gets its own database unless it is a reopen of the current one.
      let location = `${dir.path}/db0`
      return {
        open: async () => {
          location = `${dir.path}/db${n++}`
          return openLevelBlockStore({ crypto: await testCrypto(), location, ...(cacheSize === undefined ? {} : { cacheSize }) })
        },
        reopen: async (store) => {
          await store.close()
          return openLevelBlockStore({ crypto: await testCrypto(), location, ...(cacheSize === undefined ? {} : { cacheSize }) })
        },
        cleanup: async () => dir.remove(),
      }
    },
    { durable: true },
  )
