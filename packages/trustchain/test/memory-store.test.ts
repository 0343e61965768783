import { createMemoryBlockStore } from '../src/index.js'
import { testCrypto } from './helpers.js'
import { blockStoreConformance } from './store-conformance.js'

blockStoreConformance(
  'memory',
  () => ({
    open: async () => createMemoryBlockStore({ crypto: await testCrypto() }),
    cleanup: async () => {},
  }),
  { durable: false },
)
