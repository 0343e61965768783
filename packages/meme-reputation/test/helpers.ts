import { sha256 } from '@noble/hashes/sha2.js'
import { defineDockingPolicy, defineFeatureSchema, MemeReputationError, weightedLinearScorer } from '../src/index.js'

/**
 * Property runs are seeded so the suite is deterministic; set FC_SEED to explore other seeds. fast-check prints
 * the seed and path of any failure, which replays it exactly.
 */
export function propertyOptions(numRuns: number): { seed: number; numRuns: number } {
  return { seed: Number(process.env.FC_SEED ?? 20261124), numRuns }
}

const encoder = new TextEncoder()

/** A reproducible stand-in for a consensus result hash: SHA-256 of a label and a round number. */
export function roundHash(label: string, round: number): Uint8Array {
  return sha256(encoder.encode(`${label}/${round}`))
}

/** The code of the MemeReputationError `run` throws, or undefined if it does not throw. */
export function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return error instanceof MemeReputationError ? error.code : `not a MemeReputationError: ${String(error)}`
  }
  return undefined
}

/** One feature, `quality` in [0, 1], averaged over observations: a score equals the quality (until docked). */
export const qualitySchema = defineFeatureSchema({
  halfLifeRounds: 50,
  features: [{ name: 'quality', direction: 'higher-is-better', normalisation: { kind: 'clamp' }, default: 0.2, aggregate: 'mean', smoothing: 0.5 }],
})
export const qualityScorer = weightedLinearScorer(qualitySchema, { quality: 1 })
export const docking = defineDockingPolicy({ penalty: 0.9, recoveryHalfLife: 5 })

/** Chi-square statistic of observed counts against expected counts. */
export function chiSquare(observed: readonly number[], expected: readonly number[]): number {
  return observed.reduce((sum, o, i) => {
    const e = expected[i] as number
    return sum + ((o - e) * (o - e)) / e
  }, 0)
}
