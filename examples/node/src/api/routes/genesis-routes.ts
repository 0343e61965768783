/**
 * The network genesis this node runs, as operators share it, with its fingerprint: a user compares the fingerprint
 * with the one published for the network before trusting anything checked from this genesis (the explorer's page
 * verifies certificates and agreement proofs from it).
 */
import { genesisFingerprint } from '../../config/network-genesis-form.js'
import type { Route } from '../router.js'

export function genesisRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/genesis',
      handler({ node }) {
        return { status: 200, body: { genesis: node.genesis, fingerprint: genesisFingerprint(node.crypto, node.genesis) } }
      },
    },
  ]
}
