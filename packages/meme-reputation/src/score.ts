/**
 * Scoring memes at a round: read the raw features with the idle decay applied, normalise them to goodness,
 * score them with the scorer, then apply the docking penalty. `scoreMemes` is the bulk path (a Float64Array,
 * one decay factor per distinct idle time); `explainScore` says where one meme's score comes from.
 */
import { assertArray, assertRound } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import { type FeatureSchema, goodnessOf } from './feature-schema.js'
import { assertMeme, decayFactor, decayTowards, type Meme, readFeaturesAt } from './meme.js'
import { assertScorer, type ContributionUnit, type Scorer } from './scorer.js'

export interface FeatureContribution {
  readonly feature: string
  /** Raw value at the round, after idle decay. */
  readonly value: number
  /** The value normalised to [0, 1], 1 = best. */
  readonly goodness: number
  /** Weight of the feature in the scorer (0 for custom scorers). */
  readonly weight: number
  /** Contribution in the scorer's unit. */
  readonly contribution: number
}

export interface MemeScore {
  readonly memeId: string
  readonly round: number
  /** The score used by the election: `undocked * (1 - penalty)`. */
  readonly score: number
  readonly undocked: number
  readonly penalty: number
  readonly unit: ContributionUnit
  readonly contributions: readonly FeatureContribution[]
}

/** The score in [0, 1] of one meme at `round`. */
export function scoreMeme(scorer: Scorer, meme: Meme, round: number): number {
  assertScorer(scorer)
  assertRound(round, 'round')
  assertMeme(scorer.schema, meme, round)
  return explainScore(scorer, meme, round).score
}

/** The score of one meme with its per-feature explanation. */
export function explainScore(scorer: Scorer, meme: Meme, round: number): MemeScore {
  assertScorer(scorer)
  assertRound(round, 'round')
  const { schema } = scorer
  assertMeme(schema, meme, round)
  const values = new Float64Array(schema.features.length)
  readFeaturesAt(schema, meme, decayFactor(schema, round - meme.updatedRound), values)
  // values has one entry per feature.
  const goodness = new Float64Array(values.length)
  schema.features.forEach((feature, j) => {
    goodness[j] = goodnessOf(feature, values[j] as number)
  })
  const undocked = scorer.evaluate(goodness, meme)
  const contributions = scorer.explain(goodness, meme)
  return {
    memeId: meme.id,
    round,
    score: undocked * (1 - meme.penalty),
    undocked,
    penalty: meme.penalty,
    unit: scorer.unit,
    contributions: schema.features.map((f, j) => ({
      feature: f.name,
      value: values[j] as number,
      goodness: goodness[j] as number,
      weight: scorer.weights[j] as number,
      contribution: contributions[j] as number,
    })),
  }
}

/**
 * Normalisation parameters laid out in typed arrays, so the bulk loop branches on small integers instead of
 * reading each feature's spec object a million times. Must compute exactly what `goodnessOf` computes.
 */
interface GoodnessPlan {
  readonly kind: Uint8Array // 0 min-max, 1 log, 2 z-score, 3 clamp
  readonly a: Float64Array
  readonly b: Float64Array
  readonly flip: Uint8Array
  readonly decays: Uint8Array
}

function planOf(schema: FeatureSchema): GoodnessPlan {
  const n = schema.features.length
  const plan = { kind: new Uint8Array(n), a: new Float64Array(n), b: new Float64Array(n), flip: new Uint8Array(n), decays: new Uint8Array(n) }
  schema.features.forEach((f, j) => {
    const norm = f.normalisation
    plan.flip[j] = f.direction === 'lower-is-better' ? 1 : 0
    plan.decays[j] = f.decays === false ? 0 : 1
    switch (norm.kind) {
      case 'min-max':
        plan.kind[j] = 0
        plan.a[j] = norm.min
        plan.b[j] = norm.max
        break
      case 'log':
        plan.kind[j] = 1
        plan.b[j] = Math.log1p(norm.max)
        break
      case 'z-score':
        plan.kind[j] = 2
        plan.a[j] = norm.mean
        plan.b[j] = norm.std
        break
      case 'clamp':
        plan.kind[j] = 3
        plan.a[j] = norm.min ?? 0
        plan.b[j] = norm.max ?? 1
        break
    }
  })
  return plan
}

/**
 * Scores of many memes at `round`, in input order. Each meme is checked against the schema (vector length,
 * integer rounds with `firstSeenRound <= updatedRound <= round`, finite features, penalty in [0, 1]) but ids
 * and histories are not re-validated here: they do not change a score, and ids were checked when made.
 */
export function scoreMemes(scorer: Scorer, memes: readonly Meme[], round: number): Float64Array {
  assertScorer(scorer)
  assertArray(memes, 'memes')
  assertRound(round, 'round')
  const { schema } = scorer
  const width = schema.features.length
  const { kind, a, b, flip, decays } = planOf(schema)
  const defaults = schema.defaults
  const out = new Float64Array(memes.length)
  const goodness = new Float64Array(width)
  // Most memes share a handful of idle times; 2^x is computed once for each.
  const factors: number[] = []
  for (let i = 0; i < memes.length; i++) {
    const meme = memes[i] as Meme
    const vector = meme?.features
    const idle = round - meme?.updatedRound
    const first = meme?.firstSeenRound
    // The checks an election needs, inlined: a vector of the schema's width, integer rounds in order (the
    // newcomer test reads firstSeenRound). assertMeme says which rule broke, and also checks the history.
    if (
      !(vector instanceof Float64Array) ||
      vector.length !== width ||
      !Number.isSafeInteger(idle) ||
      !(idle >= 0) ||
      !Number.isSafeInteger(first) ||
      !(first >= 0 && first <= meme.updatedRound)
    ) {
      assertMeme(schema, meme, round, `memes[${i}]`)
    }
    let factor = idle < 4096 ? factors[idle] : undefined
    if (factor === undefined) {
      factor = decayFactor(schema, idle)
      if (idle < 4096) factors[idle] = factor
    }
    for (let j = 0; j < width; j++) {
      const v = vector[j] as number
      const d = defaults[j] as number
      // v - v is 0 only for finite v: a NaN or infinite feature (a hand-built meme) is refused by assertMeme.
      if (v - v !== 0) assertMeme(schema, meme, round, `memes[${i}]`)
      const raw = factor === 1 || decays[j] === 0 ? v : decayTowards(v, d, factor)
      let x: number
      switch (kind[j]) {
        case 0: {
          const lo = a[j] as number
          x = (raw - lo) / ((b[j] as number) - lo)
          x = x < 0 ? 0 : Math.min(x, 1)
          break
        }
        case 1:
          x = raw <= 0 ? 0 : Math.log1p(raw) / (b[j] as number)
          x = Math.min(x, 1)
          break
        case 2:
          x = 1 / (1 + Math.exp((-1.702 * (raw - (a[j] as number))) / (b[j] as number)))
          break
        default: {
          const lo = a[j] as number
          const hi = b[j] as number
          x = raw < lo ? lo : Math.min(raw, hi)
        }
      }
      goodness[j] = flip[j] === 1 ? 1 - x : x
    }
    const penalty = meme.penalty
    if (!(penalty >= 0 && penalty <= 1)) {
      throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `memes[${i}].penalty must be in [0, 1]`, {
        memeId: meme.id,
        penalty,
      })
    }
    out[i] = scorer.evaluate(goodness, meme) * (1 - penalty)
  }
  return out
}
