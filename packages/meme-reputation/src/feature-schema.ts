/**
 * The feature schema: which numbers describe a meme, which way is better, how each raw value is mapped to a
 * "goodness" in [0, 1] before scoring, what a brand-new meme starts with, and how observations accumulate.
 *
 * A schema is plain data (it can be written to disk beside the memes); `defineFeatureSchema` checks it once and
 * freezes it, and the functions that take a schema accept only checked ones, so per-meme work never re-validates.
 */
import { assertArray, assertFinite, assertObject, assertPositive, assertRange, describeValue } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'

/** Whether a larger raw value is better (rounds served, uptime) or worse (latency, faults). */
export type FeatureDirection = 'higher-is-better' | 'lower-is-better'

/**
 * How a raw value becomes a number in [0, 1] (before the direction is applied):
 * - `min-max`: linear from `min` (0) to `max` (1), clipped outside;
 * - `log`: `log1p(v) / log1p(max)`, clipped: counts and sizes with long tails;
 * - `z-score`: `1 / (1 + e^(-1.702 z))` with `z = (v - mean) / std`, within 0.01 of the normal CDF;
 * - `clamp`: the value itself clipped to [min, max] (defaults [0, 1]): ratios such as uptime.
 */
export type Normalisation =
  | { readonly kind: 'min-max'; readonly min: number; readonly max: number }
  | { readonly kind: 'log'; readonly max: number }
  | { readonly kind: 'z-score'; readonly mean: number; readonly std: number }
  | { readonly kind: 'clamp'; readonly min?: number; readonly max?: number }

/**
 * How an observed value updates the feature:
 * - `sum`: added (counts: rounds served, faults);
 * - `mean`: exponentially weighted, `v += smoothing * (x - v)` (latency, uptime);
 * - `last`: replaced.
 * Several values of one feature in one round are folded in ascending numeric order, whatever order they arrived
 * in, so `last` keeps the round's largest value: a round's observations have no agreed order.
 */
export type FeatureAggregate = 'sum' | 'mean' | 'last'

export interface FeatureSpec {
  readonly name: string
  readonly direction: FeatureDirection
  readonly normalisation: Normalisation
  /** The raw value of a brand-new meme, and the value an idle meme decays back to. */
  readonly default: number
  readonly aggregate: FeatureAggregate
  /** Weight of a new observation for `mean` features, in (0, 1]; 0.25 when omitted. */
  readonly smoothing?: number
  /** False for features that must not fade with time (a configured capacity, say); true when omitted. */
  readonly decays?: boolean
}

export interface FeatureSchemaSpec {
  readonly features: readonly FeatureSpec[]
  /** Rounds after which an idle meme's distance from the defaults has halved: reputation cannot be banked forever. */
  readonly halfLifeRounds: number
}

/** A checked, frozen schema; only `defineFeatureSchema` makes one. */
export interface FeatureSchema extends FeatureSchemaSpec {
  readonly names: readonly string[]
  /** Index of each feature in a meme's feature vector. */
  readonly index: ReadonlyMap<string, number>
  /** The new-meme vector, as raw values. */
  readonly defaults: Float64Array
}

const DEFAULT_SMOOTHING = 0.25
const checkedSchemas = new WeakSet<object>()

function schemaError(message: string, detail: Record<string, unknown> = {}): MemeReputationError {
  return new MemeReputationError(MemeReputationErrorCode.INVALID_SCHEMA, message, detail)
}

function checkNormalisation(value: unknown, at: string): Normalisation {
  const code = MemeReputationErrorCode.INVALID_SCHEMA
  assertObject(value, at, code)
  switch (value.kind) {
    case 'min-max': {
      assertFinite(value.min, `${at}.min`, code)
      assertFinite(value.max, `${at}.max`, code)
      if (!(value.max > value.min)) throw schemaError(`${at}: max must be greater than min`, { at })
      return { kind: 'min-max', min: value.min, max: value.max }
    }
    case 'log': {
      assertPositive(value.max, `${at}.max`, code)
      return { kind: 'log', max: value.max }
    }
    case 'z-score': {
      assertFinite(value.mean, `${at}.mean`, code)
      assertPositive(value.std, `${at}.std`, code)
      return { kind: 'z-score', mean: value.mean, std: value.std }
    }
    case 'clamp': {
      const min = value.min ?? 0
      const max = value.max ?? 1
      assertRange(min, `${at}.min`, 0, 1, code)
      assertRange(max, `${at}.max`, 0, 1, code)
      if (!(max > min)) throw schemaError(`${at}: max must be greater than min`, { at })
      return { kind: 'clamp', min, max }
    }
    default:
      throw schemaError(`${at}.kind must be 'min-max', 'log', 'z-score' or 'clamp', got ${describeValue(value.kind)}`, { at })
  }
}

/** Checks a schema spec and returns the frozen schema every other function takes. */
export function defineFeatureSchema(spec: FeatureSchemaSpec): FeatureSchema {
  const code = MemeReputationErrorCode.INVALID_SCHEMA
  assertObject(spec, 'schema', code)
  assertArray(spec.features, 'schema.features', code)
  assertPositive(spec.halfLifeRounds, 'schema.halfLifeRounds', code)
  if (spec.features.length === 0) throw schemaError('schema.features must name at least one feature')
  if (spec.features.length > 1024) throw schemaError('schema.features may hold at most 1024 features')
  const index = new Map<string, number>()
  const features = spec.features.map((raw: unknown, i): FeatureSpec => {
    const at = `schema.features[${i}]`
    assertObject(raw, at, code)
    const { name, direction, aggregate } = raw
    if (typeof name !== 'string' || name.length === 0) throw schemaError(`${at}.name must be a non-empty string`, { at })
    if (index.has(name)) throw schemaError(`${at}: duplicate feature name '${name}'`, { at, name })
    index.set(name, i)
    if (direction !== 'higher-is-better' && direction !== 'lower-is-better') {
      throw schemaError(`${at}.direction must be 'higher-is-better' or 'lower-is-better'`, { at, name })
    }
    if (aggregate !== 'sum' && aggregate !== 'mean' && aggregate !== 'last') {
      throw schemaError(`${at}.aggregate must be 'sum', 'mean' or 'last'`, { at, name })
    }
    assertFinite(raw.default, `${at}.default`, code)
    const smoothing = raw.smoothing ?? DEFAULT_SMOOTHING
    assertRange(smoothing, `${at}.smoothing`, Number.MIN_VALUE, 1, code)
    if (raw.decays !== undefined && typeof raw.decays !== 'boolean') throw schemaError(`${at}.decays must be a boolean`, { at })
    return Object.freeze({
      name,
      direction,
      normalisation: Object.freeze(checkNormalisation(raw.normalisation, `${at}.normalisation`)),
      default: raw.default,
      aggregate,
      smoothing,
      decays: raw.decays ?? true,
    })
  })
  const schema: FeatureSchema = Object.freeze({
    features: Object.freeze(features),
    halfLifeRounds: spec.halfLifeRounds,
    names: Object.freeze(features.map((f) => f.name)),
    index,
    defaults: Float64Array.from(features, (f) => f.default),
  })
  checkedSchemas.add(schema)
  return schema
}

export function assertFeatureSchema(value: unknown, name = 'schema'): asserts value is FeatureSchema {
  if (typeof value !== 'object' || value === null || !checkedSchemas.has(value)) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_SCHEMA, `${name} must be a schema made by defineFeatureSchema, got ${describeValue(value)}`, {
      name,
    })
  }
}

/** The position of a named feature in the vector, or a typed error naming the unknown feature. */
export function featureIndex(schema: FeatureSchema, name: string): number {
  assertFeatureSchema(schema)
  const i = schema.index.get(name)
  if (i === undefined) {
    throw new MemeReputationError(MemeReputationErrorCode.UNKNOWN_FEATURE, `unknown feature '${name}'`, {
      feature: name,
      known: schema.names,
    })
  }
  return i
}

const clip01 = (x: number): number => (x < 0 ? 0 : Math.min(x, 1))

/**
 * Goodness of one raw value in [0, 1]: the normalisation, then flipped for lower-is-better features.
 * NaN never comes out: raw values are finite by construction (observations are checked on the way in).
 */
export function goodnessOf(feature: FeatureSpec, raw: number): number {
  const n = feature.normalisation
  let x: number
  switch (n.kind) {
    case 'min-max':
      x = clip01((raw - n.min) / (n.max - n.min))
      break
    case 'log':
      x = raw <= 0 ? 0 : clip01(Math.log1p(raw) / Math.log1p(n.max))
      break
    case 'z-score':
      x = 1 / (1 + Math.exp((-1.702 * (raw - n.mean)) / n.std))
      break
    case 'clamp': {
      const min = n.min ?? 0
      const max = n.max ?? 1
      x = raw < min ? min : Math.min(raw, max)
      break
    }
  }
  return feature.direction === 'higher-is-better' ? x : 1 - x
}
