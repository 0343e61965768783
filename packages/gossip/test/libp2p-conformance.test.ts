/**
 * The Network conformance suite on Libp2pNetwork: real libp2p nodes (TCP + Noise + Yamux + Gossipsub) on
 * 127.0.0.1 with OS-chosen ports, in the topologies the suite asks for.
 */
import { loadCrypto } from '@constellation/crypto'
import type { NetworkLimits } from '../src/index.js'
import { type ConformanceHarness, describeNetworkConformance, type Topology } from './conformance/network-conformance.js'
import { startLocalNetwork } from './libp2p/local-network.js'

const crypto = await loadCrypto()

/** Settling waits on real time; the suite's own waits are bounded by this. */
const SETTLE_TIMEOUT_MS = 10_000
/** Long enough on loopback for a message in flight to land and be judged; short enough to keep the run fast. */
const QUIESCE_MS = 250

const harness: ConformanceHarness = {
  async create(count: number, topology: Topology, limits?: Partial<NetworkLimits>) {
    const nodes = await startLocalNetwork(crypto, count, topology, limits)
    return {
      nodes,
      settle<T>(promise: Promise<T>, timeoutMs = SETTLE_TIMEOUT_MS): Promise<T> {
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not settled within ${timeoutMs} ms`)), Math.min(timeoutMs, SETTLE_TIMEOUT_MS))
        })
        return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
      },
      quiesce: () => new Promise<void>((resolve) => setTimeout(resolve, QUIESCE_MS)),
      close: async () => {
        await Promise.all(nodes.map((node) => node.stop()))
      },
    }
  },
}

describeNetworkConformance('Libp2pNetwork', harness)
