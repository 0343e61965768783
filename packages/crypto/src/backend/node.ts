/**
 * The node:crypto backend (OpenSSL). Always present on Node.js; about half libsodium's verify rate.
 *
 * Turning raw key bytes into a `KeyObject` costs about as much as a verification, so public keys are kept in a
 * bounded LRU cache: a node verifies the same few hundred peers' signatures again and again.
 */
import type { KeyObject } from 'node:crypto'
import type { CryptoBackend } from './backend.js'

type NodeCrypto = typeof import('node:crypto')

// DER prefixes that wrap a raw Ed25519 key as PKCS#8 (private) and SPKI (public) (RFC 8410).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

export interface NodeBackendOptions {
  /** How many public keys to keep as ready `KeyObject`s (default 4096). */
  readonly keyCacheSize?: number
}

export function createNodeBackend(nodeCrypto: NodeCrypto, options: NodeBackendOptions = {}): CryptoBackend {
  const cacheSize = options.keyCacheSize ?? 4096
  const publicKeys = new Map<string, KeyObject>()

  const privateKey = (seed: Uint8Array): KeyObject => {
    const der = new Uint8Array(PKCS8_PREFIX.length + 32)
    der.set(PKCS8_PREFIX)
    der.set(seed, PKCS8_PREFIX.length)
    return nodeCrypto.createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' })
  }

  const publicKeyObject = (publicKey: Uint8Array): KeyObject => {
    // latin1 maps each byte to one char: the cheapest exact string key for a Map.
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('latin1')
    let key = publicKeys.get(id)
    if (key !== undefined) {
      // Re-insert to mark as most recently used.
      publicKeys.delete(id)
      publicKeys.set(id, key)
      return key
    }
    const der = new Uint8Array(SPKI_PREFIX.length + 32)
    der.set(SPKI_PREFIX)
    der.set(publicKey, SPKI_PREFIX.length)
    key = nodeCrypto.createPublicKey({ key: Buffer.from(der.buffer), format: 'der', type: 'spki' })
    publicKeys.set(id, key)
    if (publicKeys.size > cacheSize) {
      const oldest = publicKeys.keys().next().value
      if (oldest !== undefined) publicKeys.delete(oldest)
    }
    return key
  }

  return {
    name: 'node',
    publicKeyFromSeed: (seed) => {
      const spki = nodeCrypto.createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' })
      return new Uint8Array(spki.subarray(SPKI_PREFIX.length))
    },
    createSigner: (seed) => {
      const key = privateKey(seed)
      return (message) => new Uint8Array(nodeCrypto.sign(null, message, key))
    },
    verify: (signature, message, publicKey) => {
      try {
        return nodeCrypto.verify(null, message, publicKeyObject(publicKey), signature)
      } catch {
        return false // OpenSSL refuses to build a key from bytes that are not a curve point
      }
    },
    sha256: (data) => new Uint8Array(nodeCrypto.createHash('sha256').update(data).digest()),
  }
}
