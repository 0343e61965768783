/** Shared set-up for the contract tests: one crypto backend, one QuickJS module, keys from fixed seeds. */
import { type Crypto, loadCrypto } from '@constellation/crypto'
import { createExecutor, type Executor, loadQuickJs } from '../src/index.js'

export const crypto: Crypto = await loadCrypto()
export const quickjs = await loadQuickJs()

export const keyPair = (n: number) => crypto.keyPairFromSeed(new Uint8Array(32).fill(n))

export function executor(limits: Parameters<typeof createExecutor>[0]['limits'] = {}): Executor {
  return createExecutor({ crypto, quickjs, limits })
}

/** A fixed clock for block timestamps: deterministic runs. */
export const fixedNow = () => 1_700_000_000_000
