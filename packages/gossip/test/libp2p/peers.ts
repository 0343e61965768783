/** Test helpers for libp2p tests: a bare libp2p node to play a misbehaving peer, and waiting for one event. */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import type { Libp2pOptions } from 'libp2p'
import type { Libp2pNetwork, NetworkEvent } from '../../src/index.js'

/** The transports of a Libp2pNetwork on loopback, without its protocols: add the services a test needs. */
type TransportOptions = Pick<Libp2pOptions, 'privateKey' | 'addresses' | 'transports' | 'connectionEncrypters' | 'streamMuxers'>

export async function rawPeerConfig(): Promise<TransportOptions> {
  return {
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  }
}

/** Resolves with the node's next event of `type`. */
export function nextEvent<T extends NetworkEvent['type']>(node: Libp2pNetwork, type: T): Promise<Extract<NetworkEvent, { type: T }>> {
  return new Promise((resolve) => {
    const remove = node.addListener((event) => {
      if (event.type === type) {
        remove()
        resolve(event as Extract<NetworkEvent, { type: T }>)
      }
    })
  })
}
