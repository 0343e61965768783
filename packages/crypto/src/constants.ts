/** Sizes of the primitives; an Ed25519 public key is a node's identity. */
export const PUBLIC_KEY_LENGTH = 32
export const SEED_LENGTH = 32
export const SIGNATURE_LENGTH = 64
export const HASH_LENGTH = 32
