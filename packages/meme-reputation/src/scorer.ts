/**
 * Scorers map a meme's goodness vector (each feature normalised to [0, 1], 1 = best) to a score in [0, 1], and
 * explain it feature by feature:
 * - `weightedLinearScorer`: `sum(w_j g_j) / sum(w_j)`; contributions are the terms, in score units, and add up to
 *   the score;
 * - `logisticScorer`: `1 / (1 + e^-(bias + sum(w_j g_j)))`; contributions are the terms of the log-odds;
 * - `customScorer`: any function; contributions are ablations, the score minus the score with that feature set
 *   to a new meme's goodness.
 * The docking penalty is applied on top by the scoring functions (score.ts), never by the scorer.
 */
import { assertFinite, assertObject, describeValue } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import { assertFeatureSchema, type FeatureSchema, goodnessOf } from './feature-schema.js'
import type { Meme } from './meme.js'

export type ScorerKind = 'weighted-linear' | 'logistic' | 'custom'

/** What a contribution is measured in: score units, log-odds, or score lost when the feature is reset. */
export type ContributionUnit = 'score' | 'log-odds' | 'ablation'

export interface Scorer {
  readonly kind: ScorerKind
  readonly schema: FeatureSchema
  readonly unit: ContributionUnit
  /** Weight of each feature in schema order (zeros for a custom scorer). */
  readonly weights: Float64Array
  /** The undocked score of a goodness vector; the vector is only valid during the call. */
  readonly evaluate: (goodness: Float64Array, meme: Meme) => number
  /** Per-feature contributions to the score, in `unit`. */
  readonly explain: (goodness: Float64Array, meme: Meme) => Float64Array
}

/** A user scoring function: goodness values in schema order (valid only during the call) and the meme itself. */
export type ScoreFunction = (goodness: Float64Array, meme: Meme) => number

function weightVector(schema: FeatureSchema, weights: unknown, nonNegative: boolean): Float64Array {
  assertObject(weights, 'weights')
  const out = new Float64Array(schema.features.length)
  for (const [name, w] of Object.entries(weights)) {
    const j = schema.index.get(name)
    if (j === undefined) {
      throw new MemeReputationError(MemeReputationErrorCode.UNKNOWN_FEATURE, `weights name unknown feature '${name}'`, {
        feature: name,
        known: schema.names,
      })
    }
    assertFinite(w, `weights.${name}`)
    if (nonNegative && w < 0) {
      throw new MemeReputationError(
        MemeReputationErrorCode.INVALID_INPUT,
        `weights.${name} must be >= 0: a weighted linear score expresses badness through the feature's direction`,
        { feature: name },
      )
    }
    out[j] = w
  }
  return out
}

/** `sum(w_j g_j) / sum(w_j)`; weights by feature name, non-negative, at least one positive; unnamed = 0. */
export function weightedLinearScorer(schema: FeatureSchema, weights: Readonly<Record<string, number>>): Scorer {
  assertFeatureSchema(schema)
  const raw = weightVector(schema, weights, true)
  const total = raw.reduce((a, b) => a + b, 0)
  if (!(total > 0) || !Number.isFinite(total)) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, 'weights must have a positive, finite sum')
  }
  const w = raw.map((x) => x / total)
  const n = w.length
  return Object.freeze({
    kind: 'weighted-linear',
    schema,
    unit: 'score',
    weights: w,
    evaluate: (g: Float64Array) => {
      let s = 0
      for (let j = 0; j < n; j++) s += (w[j] as number) * (g[j] as number)
      // Rounding can push a sum of weights that is 1 a hair above it.
      return Math.min(s, 1)
    },
    explain: (g: Float64Array) => w.map((wj, j) => wj * (g[j] as number)),
  })
}

export interface LogisticScorerOptions {
  /** Log-odds per unit of goodness, by feature name; any finite value; unnamed = 0. */
  readonly weights: Readonly<Record<string, number>>
  /** Log-odds of a meme whose goodness is 0 everywhere. */
  readonly bias: number
}

/** `1 / (1 + e^-(bias + sum(w_j g_j)))`: a smooth threshold, e.g. a learnt model's coefficients. */
export function logisticScorer(schema: FeatureSchema, options: LogisticScorerOptions): Scorer {
  assertFeatureSchema(schema)
  assertObject(options, 'options')
  const w = weightVector(schema, options.weights, false)
  const bias = options.bias
  assertFinite(bias, 'options.bias')
  const n = w.length
  return Object.freeze({
    kind: 'logistic',
    schema,
    unit: 'log-odds',
    weights: w,
    evaluate: (g: Float64Array) => {
      let z = bias
      for (let j = 0; j < n; j++) z += (w[j] as number) * (g[j] as number)
      return 1 / (1 + Math.exp(-z))
    },
    explain: (g: Float64Array) => w.map((wj, j) => wj * (g[j] as number)),
  })
}

/**
 * Wraps a user function. Its result is checked on every call: anything that is not a number in [0, 1] fails
 * with SCORE_OUT_OF_RANGE, since a NaN score would silently fall out of every bracket.
 */
export function customScorer(schema: FeatureSchema, score: ScoreFunction): Scorer {
  assertFeatureSchema(schema)
  if (typeof score !== 'function') {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `score must be a function, got ${describeValue(score)}`)
  }
  const n = schema.features.length
  const newGoodness = Float64Array.from(schema.features, (f) => goodnessOf(f, f.default))
  const evaluate = (g: Float64Array, meme: Meme): number => {
    const s: unknown = score(g, meme)
    if (typeof s !== 'number' || !(s >= 0 && s <= 1)) {
      throw new MemeReputationError(
        MemeReputationErrorCode.SCORE_OUT_OF_RANGE,
        `custom scorer returned ${describeValue(s)} for meme '${meme.id}'; scores must be numbers in [0, 1]`,
        { memeId: meme.id, score: s },
      )
    }
    return s
  }
  return Object.freeze({
    kind: 'custom',
    schema,
    unit: 'ablation',
    weights: new Float64Array(n),
    evaluate,
    explain: (g: Float64Array, meme: Meme) => {
      const base = evaluate(g, meme)
      const probe = g.slice()
      const out = new Float64Array(n)
      for (let j = 0; j < n; j++) {
        probe[j] = newGoodness[j] as number
        out[j] = base - evaluate(probe, meme)
        probe[j] = g[j] as number
      }
      return out
    },
  })
}

const checkedKinds: ReadonlySet<string> = new Set<ScorerKind>(['weighted-linear', 'logistic', 'custom'])

export function assertScorer(value: unknown): asserts value is Scorer {
  const s = value as Partial<Scorer> | null
  if (typeof s !== 'object' || s === null || !checkedKinds.has(s.kind as string) || typeof s.evaluate !== 'function') {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, 'scorer must come from weightedLinearScorer, logisticScorer or customScorer')
  }
  assertFeatureSchema(s.schema, 'scorer.schema')
}
