import { loadCrypto } from '@constellation/crypto'
import { type NetworkLimits, SimNetwork } from '../src/index.js'
import { type ConformanceHarness, describeNetworkConformance, type Topology } from './conformance/network-conformance.js'

const crypto = await loadCrypto()

const harness: ConformanceHarness = {
  async create(count: number, topology: Topology, limits?: Partial<NetworkLimits>) {
    const sim = new SimNetwork({ crypto, seed: `conformance-${count}-${topology}`, degree: 0, ...(limits && { limits }) })
    const nodes = Array.from({ length: count }, () => sim.addNode())
    nodes.forEach((node, i) => {
      if (topology === 'full') for (const other of nodes.slice(0, i)) sim.connect(node, other)
      else if (i > 0) sim.connect(node, nodes[i - 1]!)
    })
    for (const node of nodes) await node.start()
    return {
      nodes,
      settle: (promise, timeoutMs = 60_000) => sim.runUntil(promise, timeoutMs),
      quiesce: async () => {
        await sim.run({ until: sim.clock.now() + 2_000 })
      },
      close: async () => {
        for (const node of nodes) await node.stop()
      },
    }
  },
}

describeNetworkConformance('SimNetwork', harness)
