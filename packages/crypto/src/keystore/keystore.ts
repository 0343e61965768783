/**
 * The node keystore: one key file on disk, readable by its owner only, optionally sealed with a passphrase
 * (scrypt derives a key; ChaCha20-Poly1305 encrypts the seed, authenticating the public key and KDF parameters).
 *
 * Files are written to a temporary name, flushed, and then linked into place, so a crash never leaves a
 * half-written key file and an existing key is never replaced unless the caller asks for it.
 */
import { assertBytes, equalBytes, toHex } from '../bytes.js'
import { PUBLIC_KEY_LENGTH, SEED_LENGTH } from '../constants.js'
import type { Crypto, KeyPair } from '../crypto.js'
import { CryptoError, CryptoErrorCode } from '../errors.js'
import {
  checkScryptParams,
  decodeKeyFile,
  encodeKeyFile,
  type KeyFile,
  KEY_FILE_TYPE,
  KEY_FILE_VERSION,
  MAX_KEY_FILE_BYTES,
  NONCE_LENGTH,
  SALT_LENGTH,
  type ScryptParams,
  TAG_LENGTH,
} from './key-file-codec.js'

/** Interactive-login strength: ~128 MiB and a few hundred milliseconds per unlock. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 })

export interface SealOptions {
  /** Encrypts the seed when given (any non-empty string). */
  readonly passphrase?: string
  /** scrypt cost (default `DEFAULT_SCRYPT_PARAMS`); lower only for tests. */
  readonly kdf?: ScryptParams
}

export interface CreateKeyFileOptions extends SealOptions {
  readonly crypto: Crypto
  /** Store this key pair instead of generating a new one. */
  readonly keyPair?: KeyPair
  /** Replace an existing file (default false: fail with `KEYSTORE_EXISTS`). */
  readonly overwrite?: boolean
}

export interface LoadKeyFileOptions {
  readonly crypto: Crypto
  readonly passphrase?: string
  /** Accept a file that group or others can read (default false, as ssh does). */
  readonly allowInsecurePermissions?: boolean
}

type NodeCrypto = typeof import('node:crypto')

function checkPassphrase(passphrase: unknown): asserts passphrase is string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'passphrase must be a non-empty string')
  }
}

function associatedData(publicKey: Uint8Array, kdf: ScryptParams & { salt: Uint8Array }): Buffer {
  // Binds the public key and KDF parameters to the ciphertext: editing either makes decryption fail.
  return Buffer.from(`${KEY_FILE_TYPE}|${KEY_FILE_VERSION}|${toHex(publicKey)}|${kdf.N}|${kdf.r}|${kdf.p}|${toHex(kdf.salt)}`)
}

async function deriveKey(nodeCrypto: NodeCrypto, passphrase: string, salt: Uint8Array, kdf: ScryptParams) {
  return new Promise<Buffer>((resolve, reject) => {
    const maxmem = 128 * kdf.N * kdf.r * kdf.p + 128 * kdf.r * kdf.p + (1 << 20) // scrypt's own need plus slack
    nodeCrypto.scrypt(passphrase.normalize('NFKC'), salt, 32, { ...kdf, maxmem }, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

/** Produces the key file text for a key pair (encrypted when a passphrase is given). */
export async function sealKeyPair(keyPair: KeyPair, options: SealOptions = {}): Promise<string> {
  assertBytes(keyPair?.seed, 'keyPair.seed', SEED_LENGTH)
  assertBytes(keyPair.publicKey, 'keyPair.publicKey', PUBLIC_KEY_LENGTH)
  if (options.passphrase === undefined) {
    return encodeKeyFile({ publicKey: keyPair.publicKey, encryption: 'none', seed: keyPair.seed })
  }
  checkPassphrase(options.passphrase)
  const params = options.kdf ?? DEFAULT_SCRYPT_PARAMS
  checkScryptParams(params, (message) => new CryptoError(CryptoErrorCode.INVALID_INPUT, message))
  const nodeCrypto = await import('node:crypto')
  const kdf = { N: params.N, r: params.r, p: params.p, salt: new Uint8Array(nodeCrypto.randomBytes(SALT_LENGTH)) }
  const nonce = new Uint8Array(nodeCrypto.randomBytes(NONCE_LENGTH))
  const key = await deriveKey(nodeCrypto, options.passphrase, kdf.salt, kdf)
  const cipher = nodeCrypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH })
  cipher.setAAD(associatedData(keyPair.publicKey, kdf), { plaintextLength: keyPair.seed.length })
  const ciphertext = Buffer.concat([cipher.update(keyPair.seed), cipher.final(), cipher.getAuthTag()])
  key.fill(0)
  return encodeKeyFile({
    publicKey: keyPair.publicKey,
    encryption: 'scrypt+chacha20-poly1305',
    kdf,
    nonce,
    ciphertext: new Uint8Array(ciphertext),
  })
}

/** Opens key file text; checks that the seed really belongs to the recorded public key. */
export async function openKeyFile(text: string, options: { readonly crypto: Crypto; readonly passphrase?: string }): Promise<KeyPair> {
  const file: KeyFile = decodeKeyFile(text)
  let seed: Uint8Array
  if (file.encryption === 'none') {
    seed = file.seed
  } else {
    if (options.passphrase === undefined) {
      throw new CryptoError(CryptoErrorCode.KEYSTORE_PASSPHRASE_REQUIRED, 'the key file is encrypted: give a passphrase')
    }
    checkPassphrase(options.passphrase)
    const nodeCrypto = await import('node:crypto')
    const key = await deriveKey(nodeCrypto, options.passphrase, file.kdf.salt, file.kdf)
    const decipher = nodeCrypto.createDecipheriv('chacha20-poly1305', key, file.nonce, { authTagLength: TAG_LENGTH })
    const body = file.ciphertext.subarray(0, file.ciphertext.length - TAG_LENGTH)
    decipher.setAuthTag(file.ciphertext.subarray(file.ciphertext.length - TAG_LENGTH))
    decipher.setAAD(associatedData(file.publicKey, file.kdf), { plaintextLength: body.length })
    try {
      seed = new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]))
    } catch {
      throw new CryptoError(CryptoErrorCode.KEYSTORE_WRONG_PASSPHRASE, 'the passphrase does not open this key file (or its encrypted part was altered)')
    } finally {
      key.fill(0)
    }
  }
  const keyPair = options.crypto.keyPairFromSeed(seed)
  if (!equalBytes(keyPair.publicKey, file.publicKey)) {
    throw new CryptoError(CryptoErrorCode.KEYSTORE_CORRUPT, 'key file is corrupt: the seed does not match the public key')
  }
  return keyPair
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined
}

/** Writes a new key file (owner-only, atomically) and returns its key pair. */
export async function createKeyFile(path: string, options: CreateKeyFileOptions): Promise<KeyPair> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'path must be a non-empty string')
  }
  const keyPair = options.keyPair ?? options.crypto.generateKeyPair()
  if (options.keyPair !== undefined) {
    assertBytes(keyPair?.seed, 'keyPair.seed', SEED_LENGTH)
    // Never store a pair that would load as a different identity.
    if (!equalBytes(options.crypto.keyPairFromSeed(keyPair.seed).publicKey, keyPair.publicKey)) {
      throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'keyPair.publicKey does not belong to keyPair.seed')
    }
  }
  const sealOptions: SealOptions = {
    ...(options.passphrase !== undefined && { passphrase: options.passphrase }),
    ...(options.kdf !== undefined && { kdf: options.kdf }),
  }
  const text = await sealKeyPair(keyPair, sealOptions)
  const fs = await import('node:fs/promises')
  const { dirname } = await import('node:path')
  const { randomBytes } = await import('node:crypto')
  const dir = dirname(path)
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await fs.open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    if (options.overwrite === true) {
      await fs.rename(temporary, path)
    } else {
      // link() fails if the target exists, so an existing key can never be clobbered by a race.
      await fs.link(temporary, path)
    }
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') {
      throw new CryptoError(CryptoErrorCode.KEYSTORE_EXISTS, `a key file already exists at ${path}`, { path })
    }
    throw error
  } finally {
    await fs.rm(temporary, { force: true })
  }
  // Make the new directory entry durable too.
  const dirHandle = await fs.open(dir, 'r')
  try {
    await dirHandle.sync()
  } catch {
    // Some filesystems do not support fsync on directories; the file itself is already flushed.
  } finally {
    await dirHandle.close()
  }
  return keyPair
}

/** Reads a key file; refuses files that others can read, unless told otherwise. */
export async function loadKeyFile(path: string, options: LoadKeyFileOptions): Promise<KeyPair> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'path must be a non-empty string')
  }
  const fs = await import('node:fs/promises')
  let handle: Awaited<ReturnType<typeof fs.open>>
  try {
    handle = await fs.open(path, 'r')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new CryptoError(CryptoErrorCode.KEYSTORE_NOT_FOUND, `no key file at ${path}`, { path })
    }
    throw error
  }
  let text: string
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw new CryptoError(CryptoErrorCode.KEYSTORE_CORRUPT, `${path} is not a regular file`)
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0 && options.allowInsecurePermissions !== true) {
      throw new CryptoError(
        CryptoErrorCode.KEYSTORE_INSECURE_PERMISSIONS,
        `key file ${path} is accessible by other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it`,
        { path, mode: stat.mode & 0o777 },
      )
    }
    if (stat.size > MAX_KEY_FILE_BYTES) {
      throw new CryptoError(CryptoErrorCode.KEYSTORE_CORRUPT, `key file is corrupt: larger than ${MAX_KEY_FILE_BYTES} bytes`)
    }
    text = await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
  return openKeyFile(text, {
    crypto: options.crypto,
    ...(options.passphrase !== undefined && { passphrase: options.passphrase }),
  })
}
