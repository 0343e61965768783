import { type BackendName, type Crypto, loadCrypto } from '../src/index.js'

export const BACKENDS: readonly BackendName[] = ['sodium', 'node', 'noble']

/** One `Crypto` per backend; every backend is installed in this repository, so none may be missing. */
export async function loadAllBackends(): Promise<Record<BackendName, Crypto>> {
  const entries = await Promise.all(BACKENDS.map(async (name) => [name, await loadCrypto({ backend: name })] as const))
  return Object.fromEntries(entries) as Record<BackendName, Crypto>
}

/**
 * Property runs are seeded so the suite is deterministic; set FC_SEED to explore other seeds. fast-check prints
 * the seed and path of any failure, which replays it exactly.
 */
export function propertyOptions(numRuns: number): { seed: number; numRuns: number } {
  return { seed: Number(process.env.FC_SEED ?? 20261124), numRuns }
}

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}
