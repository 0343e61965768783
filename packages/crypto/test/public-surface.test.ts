import { describePublicSurface } from '../../../scripts/public-surface.mjs'
import * as root from '../src/index.js'

// The package's public surface (README, "Interface"): a name added to or dropped from the index fails here until
// this list — and the README — say so. Runtime names only; the types follow the same README entries.
const expected = [
  'CryptoError',
  'CryptoErrorCode',
  'DEFAULT_MAX_BYTES',
  'DEFAULT_MAX_DEPTH',
  'DEFAULT_SCRYPT_PARAMS',
  'HASH_LENGTH',
  'PUBLIC_KEY_LENGTH',
  'SEED_LENGTH',
  'SIGNATURE_LENGTH',
  'assertBytes',
  'availableBackends',
  'compareBytes',
  'concatBytes',
  'countingCrypto',
  'createCrypto',
  'createKeyFile',
  'createVerifyPool',
  'decodeCanonical',
  'encodeCanonical',
  'equalBytes',
  'fromBase58',
  'fromBase64Url',
  'fromHex',
  'isCryptoError',
  'loadBackend',
  'loadCrypto',
  'loadKeyFile',
  'nobleBackend',
  'openKeyFile',
  'sealKeyPair',
  'toBase58',
  'toBase64Url',
  'toHex',
] as const

describePublicSurface(new URL('..', import.meta.url), { '.': root }, { '.': expected })
