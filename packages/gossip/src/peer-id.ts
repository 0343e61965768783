/**
 * How the network names a node: the lowercase hex of its 32-byte Ed25519 public key (the same bytes libp2p's
 * PeerId is derived from). In a file of its own because the network interface and the adverts both name peers,
 * and the network interface carries adverts.
 */
export type PeerId = string
