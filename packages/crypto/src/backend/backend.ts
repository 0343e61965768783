/**
 * The backend interface: the few raw primitives that differ between libsodium, node:crypto and noble.
 *
 * Backends assume their inputs were already checked (types, lengths, and the strict Ed25519 encoding rules in
 * `strict-ed25519.ts`): the `Crypto` facade does that once, so that every backend answers identically and the
 * hot path stays a thin wrapper over the library call.
 */

export type BackendName = 'sodium' | 'node' | 'noble'

/** Signs messages with one prepared secret key (libsodium's 64-byte key, a node:crypto KeyObject, a noble seed). */
export type SignFunction = (message: Uint8Array) => Uint8Array

export interface CryptoBackend {
  readonly name: BackendName
  /** Derives the 32-byte public key from a 32-byte seed (RFC 8032 §5.1.5). */
  publicKeyFromSeed(seed: Uint8Array): Uint8Array
  /** Prepares a seed for repeated signing. */
  createSigner(seed: Uint8Array): SignFunction
  /**
   * Cofactorless Ed25519 verification ([S]B = R + [k]A, comparing encodings), the rule libsodium and OpenSSL use.
   * Called only on inputs that passed `checkStrictEncoding`.
   */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  sha256(data: Uint8Array): Uint8Array
}
