/**
 * Typed errors of @constellation/crypto.
 *
 * Every failure the package reports is a `CryptoError` whose `code` says what went wrong, so that callers
 * can branch on the code instead of parsing messages; `detail` carries the data needed to act on it.
 */
import { CodedError } from '@constellation/interface'

export const CryptoErrorCode = {
  /** An argument has the wrong type, length or range. */
  INVALID_INPUT: 'CRYPTO_INVALID_INPUT',
  /** The requested backend cannot be loaded in this runtime. */
  BACKEND_UNAVAILABLE: 'CRYPTO_BACKEND_UNAVAILABLE',
  /** A value cannot be represented in canonical CBOR (undefined, a class instance, a non-finite number...). */
  ENCODING_UNSUPPORTED_VALUE: 'CRYPTO_ENCODING_UNSUPPORTED_VALUE',
  /** Encoded input, or encoded output, is larger than the configured limit. */
  ENCODING_TOO_LARGE: 'CRYPTO_ENCODING_TOO_LARGE',
  /** Nested arrays and maps go deeper than the configured limit. */
  ENCODING_TOO_DEEP: 'CRYPTO_ENCODING_TOO_DEEP',
  /** The bytes are not well-formed CBOR, or use a feature this encoding forbids (tags, undefined...). */
  ENCODING_MALFORMED: 'CRYPTO_ENCODING_MALFORMED',
  /** Well-formed CBOR that is not in deterministic (RFC 8949 §4.2) form. */
  ENCODING_NON_CANONICAL: 'CRYPTO_ENCODING_NON_CANONICAL',
  /** Bytes follow the first complete data item. */
  ENCODING_TRAILING_BYTES: 'CRYPTO_ENCODING_TRAILING_BYTES',
  /** No key file at the given path. */
  KEYSTORE_NOT_FOUND: 'CRYPTO_KEYSTORE_NOT_FOUND',
  /** A key file already exists where a new one was to be written. */
  KEYSTORE_EXISTS: 'CRYPTO_KEYSTORE_EXISTS',
  /** The key file cannot be parsed or is internally inconsistent. */
  KEYSTORE_CORRUPT: 'CRYPTO_KEYSTORE_CORRUPT',
  /** The passphrase does not open the key file (or the encrypted part was altered). */
  KEYSTORE_WRONG_PASSPHRASE: 'CRYPTO_KEYSTORE_WRONG_PASSPHRASE',
  /** The key file is encrypted and no passphrase was given. */
  KEYSTORE_PASSPHRASE_REQUIRED: 'CRYPTO_KEYSTORE_PASSPHRASE_REQUIRED',
  /** The key file can be read by users other than its owner. */
  KEYSTORE_INSECURE_PERMISSIONS: 'CRYPTO_KEYSTORE_INSECURE_PERMISSIONS',
  /** The verification pool was closed before or while the work ran. */
  POOL_CLOSED: 'CRYPTO_POOL_CLOSED',
  /** A worker thread of the verification pool failed. */
  WORKER_FAILED: 'CRYPTO_WORKER_FAILED',
} as const

export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode]

export class CryptoError extends CodedError<CryptoErrorCode> {
  override readonly name = 'CryptoError'
}

export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code)
}
