/**
 * The key file format: a small JSON document, so an operator can see which identity a file holds.
 *
 *   { "type": "constellation/ed25519-key", "version": 1, "publicKey": hex, "encryption": "none", "seed": hex }
 *   { ..., "encryption": "scrypt+chacha20-poly1305", "kdf": { "N", "r", "p", "salt" }, "nonce": hex,
 *     "ciphertext": hex (seed + 16-byte tag) }
 *
 * The decoder accepts exactly these shapes (no extra fields, bounded sizes and KDF parameters, so a crafted file
 * cannot make the loader allocate gigabytes); anything else is `KEYSTORE_CORRUPT`.
 */
import { fromHex, toHex } from '../bytes.js'
import { PUBLIC_KEY_LENGTH, SEED_LENGTH } from '../constants.js'
import { CryptoError, CryptoErrorCode } from '../errors.js'

export const KEY_FILE_TYPE = 'constellation/ed25519-key'
export const KEY_FILE_VERSION = 1
/** Key files are a few hundred bytes; anything much larger is not one. */
export const MAX_KEY_FILE_BYTES = 16 * 1024

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number
  readonly r: number
  readonly p: number
}

export interface PlainKeyFile {
  readonly publicKey: Uint8Array
  readonly encryption: 'none'
  readonly seed: Uint8Array
}

export interface EncryptedKeyFile {
  readonly publicKey: Uint8Array
  readonly encryption: 'scrypt+chacha20-poly1305'
  readonly kdf: ScryptParams & { readonly salt: Uint8Array }
  readonly nonce: Uint8Array
  readonly ciphertext: Uint8Array
}

export type KeyFile = PlainKeyFile | EncryptedKeyFile

export const SALT_LENGTH = 16
export const NONCE_LENGTH = 12
export const TAG_LENGTH = 16

/** Bounds on KDF parameters read from a file: generous for real use, small enough that loading cannot be abused. */
export const SCRYPT_LIMITS = { maxLogN: 20, maxR: 32, maxP: 16 } as const

function corrupt(message: string): CryptoError {
  return new CryptoError(CryptoErrorCode.KEYSTORE_CORRUPT, `key file is corrupt: ${message}`)
}

export function checkScryptParams(params: ScryptParams, fail: (message: string) => Error): void {
  const { N, r, p } = params
  if (!Number.isSafeInteger(N) || N < 2 || (N & (N - 1)) !== 0 || N > 2 ** SCRYPT_LIMITS.maxLogN) {
    throw fail(`scrypt N must be a power of two in [2, 2^${SCRYPT_LIMITS.maxLogN}], got ${N}`)
  }
  if (!Number.isSafeInteger(r) || r < 1 || r > SCRYPT_LIMITS.maxR) {
    throw fail(`scrypt r must be in [1, ${SCRYPT_LIMITS.maxR}], got ${r}`)
  }
  if (!Number.isSafeInteger(p) || p < 1 || p > SCRYPT_LIMITS.maxP) {
    throw fail(`scrypt p must be in [1, ${SCRYPT_LIMITS.maxP}], got ${p}`)
  }
}

function field(record: Record<string, unknown>, name: string): unknown {
  if (!Object.hasOwn(record, name)) throw corrupt(`missing field "${name}"`)
  return record[name]
}

function hexField(record: Record<string, unknown>, name: string, length: number): Uint8Array {
  const value = field(record, name)
  if (typeof value !== 'string') throw corrupt(`"${name}" must be a hex string`)
  try {
    return fromHex(value, length)
  } catch {
    throw corrupt(`"${name}" must be ${length} bytes of hex`)
  }
}

function numberField(record: Record<string, unknown>, name: string): number {
  const value = field(record, name)
  if (typeof value !== 'number') throw corrupt(`"${name}" must be a number`)
  return value
}

function exactKeys(record: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) throw corrupt(`unexpected field "${key}" in ${where}`)
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function encodeKeyFile(file: KeyFile): string {
  const common = { type: KEY_FILE_TYPE, version: KEY_FILE_VERSION, publicKey: toHex(file.publicKey) }
  const body =
    file.encryption === 'none'
      ? { ...common, encryption: file.encryption, seed: toHex(file.seed) }
      : {
          ...common,
          encryption: file.encryption,
          kdf: { N: file.kdf.N, r: file.kdf.r, p: file.kdf.p, salt: toHex(file.kdf.salt) },
          nonce: toHex(file.nonce),
          ciphertext: toHex(file.ciphertext),
        }
  return `${JSON.stringify(body, null, 2)}\n`
}

export function decodeKeyFile(text: string): KeyFile {
  if (typeof text !== 'string') throw new CryptoError(CryptoErrorCode.INVALID_INPUT, 'key file text must be a string')
  if (text.length > MAX_KEY_FILE_BYTES) throw corrupt(`larger than ${MAX_KEY_FILE_BYTES} bytes`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw corrupt('not valid JSON')
  }
  if (!isRecord(json)) throw corrupt('not a JSON object')
  if (field(json, 'type') !== KEY_FILE_TYPE) throw corrupt(`"type" must be "${KEY_FILE_TYPE}"`)
  const version = field(json, 'version')
  if (version !== KEY_FILE_VERSION) throw corrupt(`unsupported version ${JSON.stringify(version)}`)
  const publicKey = hexField(json, 'publicKey', PUBLIC_KEY_LENGTH)
  const encryption = field(json, 'encryption')
  if (encryption === 'none') {
    exactKeys(json, ['type', 'version', 'publicKey', 'encryption', 'seed'], 'the key file')
    return { publicKey, encryption, seed: hexField(json, 'seed', SEED_LENGTH) }
  }
  if (encryption === 'scrypt+chacha20-poly1305') {
    exactKeys(json, ['type', 'version', 'publicKey', 'encryption', 'kdf', 'nonce', 'ciphertext'], 'the key file')
    const kdf = field(json, 'kdf')
    if (!isRecord(kdf)) throw corrupt('"kdf" must be an object')
    exactKeys(kdf, ['N', 'r', 'p', 'salt'], '"kdf"')
    const params = { N: numberField(kdf, 'N'), r: numberField(kdf, 'r'), p: numberField(kdf, 'p') }
    checkScryptParams(params, corrupt)
    return {
      publicKey,
      encryption,
      kdf: { ...params, salt: hexField(kdf, 'salt', SALT_LENGTH) },
      nonce: hexField(json, 'nonce', NONCE_LENGTH),
      ciphertext: hexField(json, 'ciphertext', SEED_LENGTH + TAG_LENGTH),
    }
  }
  throw corrupt(`unknown encryption ${JSON.stringify(encryption)}`)
}
