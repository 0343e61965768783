/**
 * Input checks shared by the public entry points: each one fails with a `MemeReputationError` that names the
 * argument and the rule it broke, so a caller never has to guess which of its values was wrong.
 */
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'

export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
  if (typeof value === 'number') return String(value)
  return typeof value
}

function invalid(name: string, rule: string, value: unknown, code: MemeReputationErrorCode): MemeReputationError {
  return new MemeReputationError(code, `${name} must be ${rule}, got ${describeValue(value)}`, { name, value })
}

export function assertFinite(value: unknown, name: string, code: MemeReputationErrorCode = MemeReputationErrorCode.INVALID_INPUT): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'a finite number', value, code)
}

export function assertRange(
  value: unknown,
  name: string,
  min: number,
  max: number,
  code: MemeReputationErrorCode = MemeReputationErrorCode.INVALID_INPUT,
): asserts value is number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw invalid(name, `a number in [${min}, ${max}]`, value, code)
  }
}

export function assertPositive(value: unknown, name: string, code: MemeReputationErrorCode = MemeReputationErrorCode.INVALID_INPUT): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw invalid(name, 'a finite number > 0', value, code)
  }
}

/** Rounds are non-negative safe integers: they index consensus rounds or probe rounds. */
export function assertRound(value: unknown, name: string, code: MemeReputationErrorCode = MemeReputationErrorCode.INVALID_INPUT): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(name, 'a non-negative safe integer', value, code)
  }
}

export function assertInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
  code: MemeReputationErrorCode = MemeReputationErrorCode.INVALID_INPUT,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(name, `an integer in [${min}, ${max}]`, value, code)
  }
}

export function assertObject(
  value: unknown,
  name: string,
  code: MemeReputationErrorCode = MemeReputationErrorCode.INVALID_INPUT,
): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(name, 'an object', value, code)
}

export function assertArray(
  value: unknown,
  name: string,
  code: MemeReputationErrorCode = MemeReputationErrorCode.INVALID_INPUT,
): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(name, 'an array', value, code)
}

/** The longest meme id accepted, in UTF-16 code units: ids are names or keys, never payloads. */
export const MAX_MEME_ID_LENGTH = 256

const LONE_SURROGATE = /\p{Cs}/u

export function assertMemeId(value: unknown, name = 'meme id'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_MEME_ID_LENGTH) {
    throw invalid(name, `a non-empty string of at most ${MAX_MEME_ID_LENGTH} characters`, value, MemeReputationErrorCode.INVALID_INPUT)
  }
  // A lone surrogate has no UTF-8 encoding, so two different ids would hash alike.
  if (LONE_SURROGATE.test(value)) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `${name} must be well-formed Unicode`, { name, value })
  }
}

export function assertHash(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== 32) {
    throw new MemeReputationError(
      MemeReputationErrorCode.INVALID_INPUT,
      `${name} must be a 32-byte Uint8Array (a SHA-256 hash), got ${value instanceof Uint8Array ? `${value.length} bytes` : describeValue(value)}`,
      { name },
    )
  }
}
