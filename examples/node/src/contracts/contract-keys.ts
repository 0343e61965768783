/**
 * The node's contract keys. The node's own chain belongs to its anchored TrustChain node (`AnchoredNode`) (heads, sequence numbers), while
 * the contracts package's host and caller each author their own chain: two authors cannot share one chain's
 * sequence numbers, so the node hosts contracts under a second key and calls them under a third. Both are derived
 * from the node key's seed with a domain label (SHA-256 of label and seed): nothing more to create, back up or
 * protect than `node.key` itself (an encrypted key file protects them too), and the same keys after every restart.
 */
import { concatBytes, type Crypto, type KeyPair } from '@constellation/crypto'

const HOST_LABEL = new TextEncoder().encode('constellation/contracts/host-key/1')
const CALLER_LABEL = new TextEncoder().encode('constellation/contracts/caller-key/1')

export interface ContractKeys {
  /** Signs the host's agreements to deploys and invocations (the contract's counterparty). */
  readonly host: KeyPair
  /** Signs this node's deploy and invoke proposals to hosts (its own or other nodes'). */
  readonly caller: KeyPair
}

export function deriveContractKeys(crypto: Crypto, nodeKey: KeyPair): ContractKeys {
  return {
    host: crypto.keyPairFromSeed(crypto.sha256(concatBytes(HOST_LABEL, nodeKey.seed))),
    caller: crypto.keyPairFromSeed(crypto.sha256(concatBytes(CALLER_LABEL, nodeKey.seed))),
  }
}
