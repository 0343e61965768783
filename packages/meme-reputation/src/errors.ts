/**
 * Typed errors of @constellation/meme-reputation.
 *
 * Every failure the package reports is a `MemeReputationError` whose `code` says what went wrong, so callers can
 * branch on the code instead of parsing messages; `detail` carries the data needed to act on it.
 */
import { CodedError } from '@constellation/interface'

export const MemeReputationErrorCode = {
  /** An argument has the wrong type, length or range. */
  INVALID_INPUT: 'MEME_INVALID_INPUT',
  /** A feature schema is malformed (duplicate names, bad normalisation bounds, bad default...). */
  INVALID_SCHEMA: 'MEME_INVALID_SCHEMA',
  /** An observation or weight names a feature the schema does not have. */
  UNKNOWN_FEATURE: 'MEME_UNKNOWN_FEATURE',
  /** A meme was built against another schema (feature vector of the wrong length). */
  SCHEMA_MISMATCH: 'MEME_SCHEMA_MISMATCH',
  /** A user-supplied scorer returned something that is not a number in [0, 1]. */
  SCORE_OUT_OF_RANGE: 'MEME_SCORE_OUT_OF_RANGE',
  /** Two memes in one pool share an id. */
  DUPLICATE_MEME: 'MEME_DUPLICATE_MEME',
  /** An update or score was asked for a round before the meme's last update (time never runs backwards). */
  ROUND_OUT_OF_ORDER: 'MEME_ROUND_OUT_OF_ORDER',
  /** Election parameters are inconsistent (shares that do not sum to 1, zero seats...). */
  INVALID_ELECTION_CONFIG: 'MEME_INVALID_ELECTION_CONFIG',
  /** Prepared sort keys do not belong to this election (other previous hash or other ids). */
  SORT_KEYS_MISMATCH: 'MEME_SORT_KEYS_MISMATCH',
  /** Stored state does not decode: wrong shape, non-finite numbers, or another schema's features. */
  INVALID_STATE: 'MEME_INVALID_STATE',
} as const

export type MemeReputationErrorCode = (typeof MemeReputationErrorCode)[keyof typeof MemeReputationErrorCode]

export class MemeReputationError extends CodedError<MemeReputationErrorCode> {
  override readonly name = 'MemeReputationError'
}

export function isMemeReputationError(error: unknown, code?: MemeReputationErrorCode): error is MemeReputationError {
  return error instanceof MemeReputationError && (code === undefined || error.code === code)
}
