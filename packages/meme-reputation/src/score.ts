/**
 * Scoring memes at a round: read the raw features with the idle decay applied, normalise them to goodness,
 * score them with the scorer, then apply the docking penalty. `scoreMemes` is the bulk path (a Float64Array,
 * one decay factor per distinct idle time); `explainScore` says where one meme's score comes from.
 */
import { assertArray, assertRound } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import { goodnessOf } from './feature-schema.js'
import { assertMeme, decayFactor, type Meme, readFeaturesAt } from './meme.js'
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
  const goodness = values.map((v, j) => goodnessOf(schema.features[j]!, v))
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
 * Scores of many memes at `round`, in input order. Each meme is checked against the schema (vector length,
 * last update not after `round`) but ids are not re-validated here: they were checked when the memes were made.
 */
export function scoreMemes(scorer: Scorer, memes: readonly Meme[], round: number): Float64Array {
  assertScorer(scorer)
  assertArray(memes, 'memes')
  assertRound(round, 'round')
  const { schema } = scorer
  const features = schema.features
  const width = features.length
  const out = new Float64Array(memes.length)
  const values = new Float64Array(width)
  const goodness = new Float64Array(width)
  // Most memes share a handful of idle times; 2^x is computed once for each.
  const factors = new Map<number, number>()
  for (let i = 0; i < memes.length; i++) {
    const meme = memes[i] as Meme
    const vector = meme?.features
    if (!(vector instanceof Float64Array) || vector.length !== width) assertMeme(schema, meme, round, `memes[${i}]`)
    const idle = round - meme.updatedRound
    if (!(idle >= 0)) assertMeme(schema, meme, round, `memes[${i}]`)
    let factor = factors.get(idle)
    if (factor === undefined) {
      factor = decayFactor(schema, idle)
      factors.set(idle, factor)
    }
    readFeaturesAt(schema, meme, factor, values)
    for (let j = 0; j < width; j++) goodness[j] = goodnessOf(features[j]!, values[j] as number)
    const penalty = meme.penalty
    if (!(penalty >= 0 && penalty < 1)) {
      throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `memes[${i}].penalty must be in [0, 1)`, {
        memeId: meme.id,
        penalty,
      })
    }
    out[i] = scorer.evaluate(goodness, meme) * (1 - penalty)
  }
  return out
}
