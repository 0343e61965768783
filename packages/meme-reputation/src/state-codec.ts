/**
 * The stored state: memes written between rounds (to disk, a database, a message) and read back safely. The io-ts
 * codec is the single definition of the stored shape; `decodeMemeState` adds the checks that need the schema
 * (the feature names must be the schema's, each vector as long as the schema) and fails with INVALID_STATE and
 * the io-ts path of every problem. Everything stored is JSON-safe: Float64Arrays become arrays of finite numbers.
 * Unknown keys are dropped (io-ts `strict`), so a newer writer's extra fields do not break an older reader.
 */
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { MAX_MEME_ID_LENGTH } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import { assertFeatureSchema, type FeatureSchema } from './feature-schema.js'
import type { Meme } from './meme.js'

const LONE_SURROGATE = /\p{Cs}/u

const FiniteNumber = new t.Type<number, number, unknown>(
  'FiniteNumber',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) => (typeof u === 'number' && Number.isFinite(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)

const Round = new t.Type<number, number, unknown>(
  'Round',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
)

// [0, 1], as assertMeme: compounding faults reach exactly 1, and such a meme must still be saved.
const Penalty = new t.Type<number, number, unknown>(
  'Penalty',
  (u): u is number => typeof u === 'number' && u >= 0 && u <= 1,
  (u, c) => (typeof u === 'number' && u >= 0 && u <= 1 ? t.success(u) : t.failure(u, c)),
  t.identity,
)

const MemeId = new t.Type<string, string, unknown>(
  'MemeId',
  (u): u is string => typeof u === 'string' && u.length > 0 && u.length <= MAX_MEME_ID_LENGTH && !LONE_SURROGATE.test(u),
  (u, c) => (typeof u === 'string' && u.length > 0 && u.length <= MAX_MEME_ID_LENGTH && !LONE_SURROGATE.test(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)

/** One stored meme. */
export const MemeRecordCodec = t.strict({
  id: MemeId,
  features: t.array(FiniteNumber),
  firstSeenRound: Round,
  updatedRound: Round,
  penalty: Penalty,
  observations: Round,
  goodObservations: Round,
  provenFaults: Round,
})
export type MemeRecord = t.TypeOf<typeof MemeRecordCodec>

/** A stored pool: the round it stands at, the schema's feature names (to catch a schema change), the memes. */
export const MemeStateCodec = t.strict({
  version: t.literal(1),
  round: Round,
  features: t.array(t.string),
  memes: t.array(MemeRecordCodec),
})
export type MemeState = t.TypeOf<typeof MemeStateCodec>

export function encodeMemeState(schema: FeatureSchema, memes: readonly Meme[], round: number): MemeState {
  assertFeatureSchema(schema)
  const state: MemeState = {
    version: 1,
    round,
    features: [...schema.names],
    memes: memes.map((m) => ({
      id: m.id,
      // JSON writes -0 as 0; normalising here makes encode(decode(x)) a fixed point (the two score alike).
      features: Array.from(m.features, (v) => (v === 0 ? 0 : v)),
      firstSeenRound: m.firstSeenRound,
      updatedRound: m.updatedRound,
      penalty: m.penalty,
      observations: m.history.observations,
      goodObservations: m.history.goodObservations,
      provenFaults: m.history.provenFaults,
    })),
  }
  // Encoding must never write what decoding would refuse.
  decodeMemeState(schema, state)
  return state
}

function stateError(message: string, detail: Record<string, unknown> = {}): MemeReputationError {
  return new MemeReputationError(MemeReputationErrorCode.INVALID_STATE, message, detail)
}

/** Decodes untrusted stored state (e.g. `JSON.parse` output) into memes for `schema`. */
export function decodeMemeState(schema: FeatureSchema, input: unknown): { readonly round: number; readonly memes: Meme[] } {
  assertFeatureSchema(schema)
  const result = MemeStateCodec.decode(input)
  if (isLeft(result)) {
    const problems = result.left.slice(0, 5).map((e) => {
      const path = e.context
        .map((c) => c.key)
        .filter((k) => k !== '')
        .join('.')
      return `${path || '(root)'}: expected ${e.context.at(-1)?.type.name ?? 'value'}`
    })
    throw stateError(`stored meme state does not decode: ${problems.join('; ')}`, { problems })
  }
  const state = result.right
  if (state.features.length !== schema.names.length || state.features.some((name, j) => name !== schema.names[j])) {
    throw stateError('stored meme state was written for another feature schema', { stored: state.features, schema: schema.names })
  }
  const seen = new Set<string>()
  const memes = state.memes.map((r, i): Meme => {
    if (r.features.length !== schema.names.length) {
      throw stateError(`memes.${i}.features has ${r.features.length} values, the schema ${schema.names.length}`, { index: i })
    }
    if (seen.has(r.id)) throw stateError(`memes.${i}: meme '${r.id}' appears twice`, { index: i, memeId: r.id })
    seen.add(r.id)
    if (r.firstSeenRound > r.updatedRound || r.updatedRound > state.round) {
      throw stateError(`memes.${i}: rounds must satisfy firstSeenRound <= updatedRound <= round`, { index: i })
    }
    if (r.goodObservations > r.observations) {
      throw stateError(`memes.${i}: goodObservations exceeds observations`, { index: i })
    }
    return {
      id: r.id,
      features: Float64Array.from(r.features),
      firstSeenRound: r.firstSeenRound,
      updatedRound: r.updatedRound,
      penalty: r.penalty,
      history: { observations: r.observations, goodObservations: r.goodObservations, provenFaults: r.provenFaults },
    }
  })
  return { round: state.round, memes }
}
