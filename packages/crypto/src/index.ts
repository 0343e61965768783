/**
 * @constellation/crypto — identities, signatures, hashes and canonical encoding for Constellation.
 *
 * Data flow: `loadCrypto()` picks a backend (libsodium, node:crypto or noble) and returns a checked `Crypto`
 * facade; protocol code encodes values with `encodeCanonical`, hashes with `crypto.sha256` and signs the hash;
 * bulk verification goes through `createVerifyPool`; a node's own key lives in a key file (`createKeyFile`);
 * `countingCrypto` wraps a `Crypto` to count the signatures it makes and checks.
 */
export { CryptoError, CryptoErrorCode, isCryptoError } from './errors.js'
export { HASH_LENGTH, PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH } from './constants.js'
export {
  assertBytes,
  compareBytes,
  concatBytes,
  equalBytes,
  fromBase58,
  fromBase64Url,
  fromHex,
  toBase58,
  toBase64Url,
  toHex,
} from './bytes.js'
export type { BackendName, CryptoBackend, SignFunction } from './backend/backend.js'
export { availableBackends, type BackendPreference, loadBackend } from './backend/load.js'
export { nobleBackend } from './backend/noble.js'
export { createCrypto, type Crypto, type KeyPair, loadCrypto, type LoadCryptoOptions, type SignedMessage } from './crypto.js'
export { type CountingCrypto, countingCrypto, type CryptoCounts } from './counting-crypto.js'
export {
  type CborLimits,
  type CborValue,
  decodeCanonical,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  encodeCanonical,
} from './encoding/canonical-cbor.js'
export {
  createVerifyPool,
  type VerifyBatchOptions,
  type VerifyPool,
  type VerifyPoolOptions,
  type WorkerBackendName,
} from './batch/verify-pool.js'
export type { ScryptParams } from './keystore/key-file-codec.js'
export {
  createKeyFile,
  type CreateKeyFileOptions,
  DEFAULT_SCRYPT_PARAMS,
  loadKeyFile,
  type LoadKeyFileOptions,
  openKeyFile,
  sealKeyPair,
  type SealOptions,
} from './keystore/keystore.js'
