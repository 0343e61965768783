/**
 * How the network names a node: the lowercase hex of its 32-byte Ed25519 public key, which is also its chain's
 * identity (the same bytes libp2p's PeerId is derived from).
 */
export type PeerId = string
