/**
 * Observations: what was seen of a meme in one round (a consensus round served or botched, a checkpoint size, a
 * latency, an uptime ratio, an SLA outcome...). Folding an observation first decays the meme to the round, then
 * aggregates each observed value by its feature's rule, then heals a docking penalty once if the round had a
 * good outcome.
 *
 * `updateMemes` is the election's second step: the round's observations and proven faults update the memes of
 * the participants that were observed (the one-hop neighbours); nobody else is touched, since reading a meme at a
 * later round applies the idle decay lazily.
 */
import { assertArray, assertFinite, assertMemeId, assertObject, assertRound } from './check.js'
import { assertDockingPolicy, type DockingPolicy, dockMeme, type ProvenFault } from './docking.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import { assertFeatureSchema, type FeatureSchema } from './feature-schema.js'
import { assertMeme, createMeme, decayFactor, type Meme, readFeaturesAt } from './meme.js'

/** Good outcomes heal docking penalties; bad and neutral ones only move the features. */
export type ObservationOutcome = 'good' | 'bad' | 'neutral'

export interface Observation {
  readonly memeId: string
  /** Observed raw values by feature name; features not named are left as they are. */
  readonly values?: Readonly<Record<string, number>>
  readonly outcome?: ObservationOutcome
}

function checkObservation(schema: FeatureSchema, observation: unknown, at: string): asserts observation is Observation {
  assertObject(observation, at)
  assertMemeId(observation.memeId, `${at}.memeId`)
  const { values, outcome } = observation
  if (outcome !== undefined && outcome !== 'good' && outcome !== 'bad' && outcome !== 'neutral') {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `${at}.outcome must be 'good', 'bad' or 'neutral'`, { at })
  }
  if (values === undefined) return
  assertObject(values, `${at}.values`)
  for (const [name, value] of Object.entries(values)) {
    if (!schema.index.has(name)) {
      throw new MemeReputationError(MemeReputationErrorCode.UNKNOWN_FEATURE, `${at}.values names unknown feature '${name}'`, {
        at,
        feature: name,
        known: schema.names,
      })
    }
    assertFinite(value, `${at}.values.${name}`)
  }
}

/** `v` moved by `s` towards `x`; the convex form is used only where `x - v` overflows, and is finite there. */
function ewma(v: number, x: number, s: number): number {
  const delta = x - v
  return delta - delta === 0 ? v + s * delta : v * (1 - s) + x * s
}

/** A value observed for one feature, with where it came from (for error messages). */
interface ObservedValue {
  readonly x: number
  readonly at: string
}

/** Ascending numeric order, -0 before 0, so that equal-looking values fold alike on every machine. */
function byValue(a: ObservedValue, b: ObservedValue): number {
  return a.x - b.x || (Object.is(b.x, -0) ? 1 : 0) - (Object.is(a.x, -0) ? 1 : 0)
}

/**
 * The meme after all of one round's observations of it. Nodes receive observations by gossip in no agreed
 * order, so the result must not depend on the order of `observations`: each feature's values of the round are
 * folded in ascending numeric order (which fixes the rounding of `sum` and the result of `mean`), and `last`
 * keeps the round's largest value (with no agreed order, "last" means the latest round). Outcomes and
 * counters are order-free.
 */
function foldRound(
  schema: FeatureSchema,
  docking: DockingPolicy,
  meme: Meme,
  observations: readonly { readonly observation: Observation; readonly at: string }[],
  round: number,
): Meme {
  const width = schema.features.length
  const features = new Float64Array(width)
  readFeaturesAt(schema, meme, decayFactor(schema, round - meme.updatedRound), features)
  const observed: ObservedValue[][] = Array.from({ length: width }, () => [])
  let good = 0
  for (const { observation, at } of observations) {
    for (const [name, x] of Object.entries(observation.values ?? {})) {
      const slot = observed[schema.index.get(name) ?? -1]
      // checkObservation refused names the schema does not have, and the schema maps each name below `width`.
      if (slot === undefined) throw new Error(`foldRound: feature '${name}' is not in the schema, yet was not refused`)
      slot.push({ x, at })
    }
    if (observation.outcome === 'good') good++
  }
  for (let j = 0; j < width; j++) {
    const values = observed[j]
    const spec = schema.features[j]
    // Both have one entry per feature, and j < width.
    if (values === undefined || spec === undefined) throw new Error(`foldRound: no feature ${j} among ${width}`)
    if (values.length === 0) continue
    if (values.length > 1) values.sort(byValue)
    let v = features[j] as number
    for (const { x, at } of values) {
      const next = spec.aggregate === 'sum' ? v + x : spec.aggregate === 'mean' ? ewma(v, x, spec.smoothing ?? 0.25) : x
      // Finite inputs can still sum past the double range; an infinite feature would make the meme's score NaN
      // and its state unsavable, so the observation is refused (the caller can drop it) and the meme is unchanged.
      if (!Number.isFinite(next)) {
        throw new MemeReputationError(
          MemeReputationErrorCode.INVALID_INPUT,
          `${at}.values.${spec.name} would make feature '${spec.name}' of meme '${meme.id}' overflow (${v} aggregated with ${x})`,
          { at, memeId: meme.id, feature: spec.name, value: x, current: v },
        )
      }
      v = next
    }
    features[j] = v
  }
  return {
    id: meme.id,
    features,
    firstSeenRound: meme.firstSeenRound,
    updatedRound: round,
    // Healing is per round, not per observation, or one round flooded with good reports would undo a fault.
    // A meme already updated at this round (an earlier batch, or observeMeme called again) had its chance.
    penalty: good > 0 && meme.updatedRound < round ? meme.penalty * docking.healFactor : meme.penalty,
    history: {
      observations: meme.history.observations + observations.length,
      goodObservations: meme.history.goodObservations + good,
      provenFaults: meme.history.provenFaults,
    },
  }
}

/**
 * The meme after one observation at `round` (which must not precede its last update). A good outcome heals only
 * if the meme was not already updated at `round`: a round heals at most once, however its observations are fed.
 */
export function observeMeme(schema: FeatureSchema, docking: DockingPolicy, meme: Meme, observation: Observation, round: number): Meme {
  assertFeatureSchema(schema)
  assertDockingPolicy(docking)
  assertRound(round, 'round')
  assertMeme(schema, meme, round)
  checkObservation(schema, observation, 'observation')
  if (observation.memeId !== meme.id) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `observation is for '${observation.memeId}', not '${meme.id}'`)
  }
  return foldRound(schema, docking, meme, [{ observation, at: 'observation' }], round)
}

export interface MemeUpdate {
  readonly schema: FeatureSchema
  readonly docking: DockingPolicy
  /** The memes as they stood after the previous round; the array is not modified. */
  readonly memes: readonly Meme[]
  readonly round: number
  /**
   * The round's observations, in any order: the result does not depend on it (each meme's observations of the
   * round are folded together, see `foldRound`). Unknown ids are admitted as new memes.
   */
  readonly observations?: readonly Observation[]
  /** Proven faults, applied after the observations so that a same-round good outcome cannot soften them. */
  readonly faults?: readonly ProvenFault[]
  /**
   * Optional position of every meme's id in `memes`, kept by the caller across rounds (admitted memes are
   * appended, so positions never move). With it only the observed memes are looked at; without it the pool is
   * scanned once. An entry that points at a meme with another id fails with INVALID_INPUT. With an index,
   * duplicate ids in `memes` are the index's responsibility (it can hold each id once).
   */
  readonly index?: ReadonlyMap<string, number>
}

export interface MemeUpdateResult {
  /** The memes in input order, then admitted memes in order of first mention. */
  readonly memes: readonly Meme[]
  readonly admitted: readonly string[]
  /** Ids of the memes that changed this round (observed, docked or admitted). */
  readonly updated: readonly string[]
}

/** One meme's events of the round. */
interface MemeEvents {
  observations: { observation: Observation; at: string }[]
  faults: number
}

/** Folds a round's observations and proven faults into the memes they concern. */
export function updateMemes(update: MemeUpdate): MemeUpdateResult {
  assertObject(update, 'update')
  const { schema, docking, memes, round } = update
  assertFeatureSchema(schema)
  assertDockingPolicy(docking)
  assertArray(memes, 'memes')
  assertRound(round, 'round')
  const observations = update.observations ?? []
  const faults = update.faults ?? []
  assertArray(observations, 'observations')
  assertArray(faults, 'faults')

  // Group the round's events by meme, so the pool is looked at once (or, with an index, only where observed).
  const events = new Map<string, MemeEvents>()
  const touch = (id: string) => {
    let entry = events.get(id)
    if (entry === undefined) {
      entry = { observations: [], faults: 0 }
      events.set(id, entry)
    }
    return entry
  }
  observations.forEach((observation, i) => {
    const at = `observations[${i}]`
    checkObservation(schema, observation, at)
    touch(observation.memeId).observations.push({ observation, at })
  })
  faults.forEach((fault: unknown, i) => {
    assertObject(fault, `faults[${i}]`)
    assertMemeId(fault.memeId, `faults[${i}].memeId`)
    if (typeof fault.kind !== 'string') {
      throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `faults[${i}].kind must be a string`)
    }
    touch(fault.memeId).faults++
  })

  const apply = (start: Meme, entry: MemeEvents): Meme => {
    let meme = start
    if (entry.observations.length > 0) meme = foldRound(schema, docking, meme, entry.observations, round)
    for (let f = 0; f < entry.faults; f++) meme = dockMeme(docking, meme)
    return meme
  }

  const seen = new Set<string>()
  let out: Meme[]
  if (update.index !== undefined) {
    const index = update.index
    if (!(index instanceof Map)) throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, 'index must be a Map of id to position')
    out = memes.slice()
    for (const [id, entry] of events) {
      const i = index.get(id)
      if (i === undefined) continue
      const meme = memes[i]
      if (meme?.id !== id) {
        throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `index says '${id}' is at ${i}, but memes[${i}] is '${String(meme?.id)}'`, {
          memeId: id,
          position: i,
        })
      }
      assertMeme(schema, meme, round, `memes[${i}]`)
      seen.add(id)
      out[i] = apply(meme, entry)
    }
  } else {
    // No index: one pass over the pool, which also catches a duplicate of an observed id.
    out = new Array<Meme>(memes.length)
    for (let i = 0; i < memes.length; i++) {
      const meme = memes[i] as Meme
      const entry = events.get(meme.id)
      if (entry === undefined) {
        out[i] = meme
        continue
      }
      assertMeme(schema, meme, round, `memes[${i}]`)
      if (seen.has(meme.id)) {
        throw new MemeReputationError(MemeReputationErrorCode.DUPLICATE_MEME, `meme '${meme.id}' appears twice`, { memeId: meme.id })
      }
      seen.add(meme.id)
      out[i] = apply(meme, entry)
    }
  }
  const admitted: string[] = []
  for (const [id, entry] of events) {
    if (seen.has(id)) continue
    admitted.push(id)
    out.push(apply(createMeme(schema, id, round), entry))
  }
  return { memes: out, admitted, updated: [...events.keys()] }
}
