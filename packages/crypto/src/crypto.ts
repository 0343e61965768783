/**
 * The `Crypto` facade: Ed25519 identities, signatures and SHA-256 over one backend.
 *
 * Every entry point checks its inputs and applies the strict encoding rules once, then calls the backend; so all
 * backends give identical answers and the libsodium path costs little more than the raw library call.
 */
import type { BackendName, CryptoBackend, SignFunction } from './backend/backend.js'
import { type BackendPreference, loadBackend } from './backend/load.js'
import { checkStrictEncoding } from './backend/strict-ed25519.js'
import { assertBytes, equalBytes } from './bytes.js'
import { PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH } from './constants.js'
import { CryptoError, CryptoErrorCode } from './errors.js'

/** An Ed25519 key pair. The 32-byte public key is the owner's identity; the seed is the secret. */
export interface KeyPair {
  readonly publicKey: Uint8Array
  readonly seed: Uint8Array
}

/** One item of a batch verification. */
export interface SignedMessage {
  readonly publicKey: Uint8Array
  readonly message: Uint8Array
  readonly signature: Uint8Array
}

export interface Crypto {
  /** The backend actually in use. */
  readonly backend: BackendName
  /** A fresh key pair from the platform's CSPRNG. */
  generateKeyPair(): KeyPair
  /** The key pair of a 32-byte seed (deterministic). */
  keyPairFromSeed(seed: Uint8Array): KeyPair
  /** A 64-byte Ed25519 signature of `message`. */
  sign(message: Uint8Array, keyPair: KeyPair): Uint8Array
  /** True when `signature` is `publicKey`'s valid signature of `message` under the strict rules. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  /** Verifies many signatures in this thread; see `createVerifyPool` for worker threads. */
  verifyMany(items: readonly SignedMessage[]): boolean[]
  /** SHA-256 digest (32 bytes). */
  sha256(data: Uint8Array): Uint8Array
}

export interface LoadCryptoOptions {
  /** Which backend to use; `auto` (the default) picks the fastest available. */
  readonly backend?: BackendPreference
}

/** Loads a backend and wraps it; the usual way to get a `Crypto`. */
export async function loadCrypto(options: LoadCryptoOptions = {}): Promise<Crypto> {
  return createCrypto(await loadBackend(options.backend ?? 'auto'))
}

function randomSeed(): Uint8Array {
  const seed = new Uint8Array(SEED_LENGTH)
  globalThis.crypto.getRandomValues(seed)
  return seed
}

/** Wraps an already loaded backend (for example a custom one) in the checked facade. */
export function createCrypto(backend: CryptoBackend): Crypto {
  // Prepared signing keys, held as long as the caller holds the key pair.
  const signers = new WeakMap<KeyPair, SignFunction>()

  const keyPairFromSeed = (seed: Uint8Array): KeyPair => {
    assertBytes(seed, 'seed', SEED_LENGTH)
    const copy = Uint8Array.from(seed)
    return Object.freeze({ publicKey: backend.publicKeyFromSeed(copy), seed: copy })
  }

  const signerOf = (keyPair: KeyPair): SignFunction => {
    let signer = signers.get(keyPair)
    if (signer !== undefined) return signer
    if (typeof keyPair !== 'object' || keyPair === null) {
      throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'keyPair must be an object with publicKey and seed')
    }
    assertBytes(keyPair.seed, 'keyPair.seed', SEED_LENGTH)
    assertBytes(keyPair.publicKey, 'keyPair.publicKey', PUBLIC_KEY_LENGTH)
    // A pair whose public key does not belong to its seed would sign for one key while claiming another.
    if (!equalBytes(backend.publicKeyFromSeed(keyPair.seed), keyPair.publicKey)) {
      throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'keyPair.publicKey does not belong to keyPair.seed')
    }
    signer = backend.createSigner(keyPair.seed)
    signers.set(keyPair, signer)
    return signer
  }

  const verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean => {
    assertBytes(signature, 'signature', SIGNATURE_LENGTH)
    assertBytes(message, 'message')
    assertBytes(publicKey, 'publicKey', PUBLIC_KEY_LENGTH)
    return checkStrictEncoding(signature, publicKey) && backend.verify(signature, message, publicKey)
  }

  return Object.freeze({
    backend: backend.name,
    generateKeyPair: () => keyPairFromSeed(randomSeed()),
    keyPairFromSeed,
    sign: (message: Uint8Array, keyPair: KeyPair) => {
      assertBytes(message, 'message')
      return signerOf(keyPair)(message)
    },
    verify,
    verifyMany: (items: readonly SignedMessage[]) => {
      if (!Array.isArray(items)) throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'items must be an array')
      return items.map((item: SignedMessage) => verify(item.signature, item.message, item.publicKey))
    },
    sha256: (data: Uint8Array) => {
      assertBytes(data, 'data')
      return backend.sha256(data)
    },
  })
}
