/**
 * One identity for both layers: a node's libp2p key is its @constellation/crypto Ed25519 key, so the libp2p
 * PeerId and the `Network` peer id (hex of the 32-byte public key) name the same node and convert both ways
 * without a lookup table. Peers with any other key type are not Constellation nodes.
 */
import { equalBytes, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey, PeerId as Libp2pPeerId } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { checkPeerId } from '../checks.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { PeerId } from '../network.js'

/** Builds the libp2p private key from the node's seed, and checks that it matches the node's public key. */
export async function libp2pKeyOf(keyPair: KeyPair): Promise<Ed25519PrivateKey> {
  if (!(keyPair?.seed instanceof Uint8Array) || keyPair.seed.length !== 32) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, 'keyPair.seed must be 32 bytes')
  }
  const privateKey = await generateKeyPairFromSeed('Ed25519', keyPair.seed)
  if (!(keyPair.publicKey instanceof Uint8Array) || !equalBytes(privateKey.publicKey.raw, keyPair.publicKey)) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, 'keyPair.publicKey is not the public key of keyPair.seed')
  }
  return privateKey
}

/** The `Network` id of a libp2p peer, or undefined when its key is not Ed25519. */
export function networkIdOf(peer: Libp2pPeerId): PeerId | undefined {
  if (peer.type !== 'Ed25519') return undefined
  return toHex(peer.publicKey.raw)
}

/** The libp2p PeerId of a (checked) `Network` peer id. */
export function libp2pIdOf(peer: PeerId): Libp2pPeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(fromHex(peer, 32)))
}

/**
 * The libp2p peer id, as text (`12D3KooW…`), of the node whose `Network` peer id (hex Ed25519 public key) is given:
 * what a dial address ends in (`/ip4/127.0.0.1/tcp/4001/p2p/<this>`). Lets a launcher that holds the nodes' public
 * keys write every node's bootstrap list before any of them runs.
 */
export function libp2pPeerIdOf(peer: PeerId): string {
  checkPeerId(peer)
  return libp2pIdOf(peer).toString()
}
