/**
 * `libp2pPeerIdOf`: a launcher that holds only the nodes' public keys can name each node's libp2p peer id before
 * it runs. Checked against the id a started node puts at the end of its own listen addresses.
 */
import { loadCrypto, toHex } from '@constellation/crypto'
import { describe, expect, it } from 'vitest'
import { createLibp2pNetwork, GossipErrorCode, libp2pPeerIdOf } from '../src/index.js'

const crypto = await loadCrypto()

describe('libp2pPeerIdOf', () => {
  it('names the peer id a running node listens under', async () => {
    const keyPair = crypto.generateKeyPair()
    const network = createLibp2pNetwork({ crypto, keyPair })
    await network.start()
    try {
      const [address] = network.listenAddresses()
      expect(address).toBeDefined()
      expect(address?.endsWith(`/p2p/${libp2pPeerIdOf(toHex(keyPair.publicKey))}`)).toBe(true)
    } finally {
      await network.stop()
    }
  })

  it('differs between keys and refuses what is not a hex public key', () => {
    const a = libp2pPeerIdOf(toHex(crypto.generateKeyPair().publicKey))
    const b = libp2pPeerIdOf(toHex(crypto.generateKeyPair().publicKey))
    expect(a).toMatch(/^12D3KooW/)
    expect(a).not.toBe(b)
    for (const bad of ['', 'AB'.repeat(32), '00'.repeat(31)]) {
      expect(() => libp2pPeerIdOf(bad)).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
    }
  })
})
