/**
 * Backend selection. `auto` takes the fastest backend this runtime can load: libsodium, then node:crypto, then
 * noble. Native and Node-only modules are imported lazily, so the package also loads in browsers.
 */
import { CryptoError, CryptoErrorCode } from '../errors.js'
import type { BackendName, CryptoBackend } from './backend.js'
import { nobleBackend } from './noble.js'
import { createNodeBackend } from './node.js'
import { createSodiumBackend, type SodiumNative } from './sodium.js'

export type BackendPreference = BackendName | 'auto'

/** Fastest first. */
export const BACKEND_NAMES: readonly BackendName[] = ['sodium', 'node', 'noble']

// Held in a variable so that bundlers for the browser do not try to resolve the optional native module.
const SODIUM_MODULE = 'sodium-native'

async function importSodium(): Promise<SodiumNative> {
  const mod = (await import(/* @vite-ignore */ SODIUM_MODULE)) as { default?: SodiumNative } & SodiumNative
  const sodium = mod.default ?? mod
  if (typeof sodium.crypto_sign_verify_detached !== 'function') throw new Error('not sodium-native')
  return sodium
}

async function tryLoad(name: BackendName): Promise<CryptoBackend> {
  switch (name) {
    case 'sodium':
      return createSodiumBackend(await importSodium())
    case 'node':
      return createNodeBackend(await import('node:crypto'))
    case 'noble':
      return nobleBackend
  }
}

/** Loads one backend by name, or the fastest available with `auto`. */
export async function loadBackend(preference: BackendPreference = 'auto'): Promise<CryptoBackend> {
  if (preference === 'auto') {
    for (const name of BACKEND_NAMES) {
      try {
        return await tryLoad(name)
      } catch {
        // Not available here: fall through to the next fastest.
      }
    }
    return nobleBackend
  }
  if (!BACKEND_NAMES.includes(preference)) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, `unknown backend ${JSON.stringify(preference)}; expected one of auto, ${BACKEND_NAMES.join(', ')}`)
  }
  try {
    return await tryLoad(preference)
  } catch (cause) {
    throw new CryptoError(CryptoErrorCode.BACKEND_UNAVAILABLE, `the ${preference} backend cannot be loaded in this runtime`, { backend: preference }, { cause })
  }
}

/** The backends this runtime can load, fastest first. */
export async function availableBackends(): Promise<BackendName[]> {
  const names: BackendName[] = []
  for (const name of BACKEND_NAMES) {
    try {
      await tryLoad(name)
      names.push(name)
    } catch {
      // unavailable
    }
  }
  return names
}
