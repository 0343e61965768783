/**
 * A meme: the reputation record of one participant (a node, an API server, a worker, a seller). It is an id, a
 * feature vector of raw values as of the round it was last updated, and a short history (when it was first
 * seen, how it was observed, whether it was docked for a proven fault).
 *
 * Memes are immutable values: every update returns a new meme, so the state of a round can be kept, compared,
 * hashed or written to disk while the next one is computed.
 */
import { assertMemeId, assertObject, assertRound } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import { assertFeatureSchema, type FeatureSchema } from './feature-schema.js'

export interface MemeHistory {
  /** Observations folded into the meme since it was first seen. */
  readonly observations: number
  /** Observations whose outcome was good (a round with any heals part of a docking penalty, once). */
  readonly goodObservations: number
  /** Proven faults the meme was docked for. */
  readonly provenFaults: number
}

export interface Meme {
  readonly id: string
  /** Raw feature values in schema order, as of `updatedRound` (decay to a later round is applied when reading). */
  readonly features: Float64Array
  readonly firstSeenRound: number
  readonly updatedRound: number
  /**
   * Docking penalty in [0, 1]: the score is multiplied by `1 - penalty`. Repeated faults compound towards 1 and
   * reach it exactly in floating point, so 1 (a score of 0) is a legal state, not an error: one faulty participant
   * must never be able to stop elections or saving.
   */
  readonly penalty: number
  readonly history: MemeHistory
}

const EMPTY_HISTORY: MemeHistory = Object.freeze({ observations: 0, goodObservations: 0, provenFaults: 0 })

/** A brand-new meme: the schema's default features, first seen (and last updated) at `round`. */
export function createMeme(schema: FeatureSchema, id: string, round: number): Meme {
  assertFeatureSchema(schema)
  assertMemeId(id)
  assertRound(round, 'round')
  return { id, features: schema.defaults.slice(), firstSeenRound: round, updatedRound: round, penalty: 0, history: EMPTY_HISTORY }
}

/** Rounds since the meme was first seen; a meme younger than the election's newcomer age is a newcomer. */
export function memeAge(meme: Meme, round: number): number {
  return round - meme.firstSeenRound
}

/**
 * Checks that a meme was built against this schema and can be read at `round`: finite features, penalty in
 * [0, 1], rounds that satisfy `firstSeenRound <= updatedRound <= round`, and a well-formed history (the rules
 * the stored-state codec applies).
 */
export function assertMeme(schema: FeatureSchema, meme: unknown, round: number, name = 'meme'): asserts meme is Meme {
  if (typeof meme !== 'object' || meme === null) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `${name} must be a meme`, { name })
  }
  const m = meme as Partial<Meme>
  assertMemeId(m.id, `${name}.id`)
  if (!(m.features instanceof Float64Array) || m.features.length !== schema.features.length) {
    throw new MemeReputationError(
      MemeReputationErrorCode.SCHEMA_MISMATCH,
      `${name}.features must be a Float64Array of ${schema.features.length} values (one per schema feature)`,
      { name, memeId: m.id, expected: schema.features.length },
    )
  }
  for (let j = 0; j < m.features.length; j++) {
    // A non-finite feature scores as NaN and cannot be stored: refuse it here rather than halt an election later.
    if (!Number.isFinite(m.features[j])) {
      throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `${name}.features[${j}] (${schema.names[j]}) must be finite`, {
        name,
        memeId: m.id,
        feature: schema.names[j],
        value: m.features[j],
      })
    }
  }
  if (typeof m.penalty !== 'number' || !(m.penalty >= 0 && m.penalty <= 1)) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `${name}.penalty must be in [0, 1]`, {
      name,
      memeId: m.id,
      penalty: m.penalty,
    })
  }
  // Rounds as the stored-state codec requires them: a meme with no (or a later) firstSeenRound would otherwise
  // count as established, and one with fractional rounds would decay by a factor no stored meme can have.
  assertRound(m.updatedRound, `${name}.updatedRound`)
  assertRound(m.firstSeenRound, `${name}.firstSeenRound`)
  if (m.firstSeenRound > m.updatedRound) {
    throw new MemeReputationError(
      MemeReputationErrorCode.INVALID_INPUT,
      `${name} '${m.id}' was first seen at round ${m.firstSeenRound}, after its last update at ${m.updatedRound}`,
      { name, memeId: m.id, firstSeenRound: m.firstSeenRound, updatedRound: m.updatedRound },
    )
  }
  assertHistory(m.history, `${name}.history`)
  if (m.updatedRound > round) {
    throw new MemeReputationError(
      MemeReputationErrorCode.ROUND_OUT_OF_ORDER,
      `${name} '${m.id}' was updated at round ${String(m.updatedRound)}, after round ${round}`,
      { name, memeId: m.id, updatedRound: m.updatedRound, round },
    )
  }
}

function assertHistory(history: unknown, name: string): asserts history is MemeHistory {
  assertObject(history, name)
  assertRound(history.observations, `${name}.observations`)
  assertRound(history.goodObservations, `${name}.goodObservations`)
  assertRound(history.provenFaults, `${name}.provenFaults`)
  if (history.goodObservations > history.observations) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `${name}.goodObservations exceeds ${name}.observations`, { name })
  }
}

/** Factor by which an idle meme's distance from the defaults shrinks over `rounds` rounds. */
export function decayFactor(schema: FeatureSchema, rounds: number): number {
  return rounds === 0 ? 1 : 2 ** (-rounds / schema.halfLifeRounds)
}

/**
 * A raw value `v` moved towards its default `d` by `factor` in [0, 1]: `d + (v - d) * factor`. For finite `v`
 * and `d` near opposite ends of the double range `v - d` overflows (and times an underflowed factor of 0 would
 * give NaN); the convex combination, used only then, stays finite. Results stay between `d` and `v`.
 */
export function decayTowards(v: number, d: number, factor: number): number {
  const delta = v - d
  return delta - delta === 0 ? d + delta * factor : v * factor + d * (1 - factor)
}

/**
 * Writes the meme's raw features as they stand at `round` into `out`: each decaying feature moves towards its
 * default by `decayFactor`. Internal fast path: callers have checked the meme against the schema.
 */
export function readFeaturesAt(schema: FeatureSchema, meme: Meme, factor: number, out: Float64Array): void {
  const { features } = schema
  const values = meme.features
  const defaults = schema.defaults
  for (let j = 0; j < values.length; j++) {
    const v = values[j] as number
    const d = defaults[j] as number
    out[j] = factor === 1 || !(features[j] as { decays?: boolean }).decays ? v : decayTowards(v, d, factor)
  }
}

/** The meme's raw features as they stand at `round`, after the decay of the rounds it was idle. */
export function featuresAt(schema: FeatureSchema, meme: Meme, round: number): Float64Array {
  assertFeatureSchema(schema)
  assertRound(round, 'round')
  assertMeme(schema, meme, round)
  const out = new Float64Array(schema.features.length)
  readFeaturesAt(schema, meme, decayFactor(schema, round - meme.updatedRound), out)
  return out
}
