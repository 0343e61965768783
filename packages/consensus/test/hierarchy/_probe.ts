import { loadCrypto, toHex } from '@constellation/crypto'
import { HierarchySim } from '../support/hierarchy-sim.js'
import { signMembershipRequest } from '../../src/index.js'
const crypto = await loadCrypto()
const sim = new HierarchySim({ crypto, seed: 'join-1000', systems: 1, membersPerSystem: 8, facilitators: 4, fanOut: 4, validatorsPerGroup: 4, upperFacilitators: 4, membership: true, proposalTimeoutMs: 200, upperProposalTimeoutMs: 100 })
const requests = Array.from({ length: 1000 }, (_, i) => signMembershipRequest(crypto, crypto.keyPairFromSeed(new Uint8Array(32).fill(i % 250).map((x, j) => (j === 0 ? i >> 8 : x))), { kind: 'join', nonce: 1 }))
sim.start()
for (let batch = 0; batch < 20; batch++) sim.clock.setTimer(100 * batch, () => { for (const r of requests.slice(batch * 50, batch * 50 + 50)) sim.submitMembershipRequest(r) })
const t0 = performance.now()
for (let t = 250; t <= 6000; t += 1000) {
  sim.run(t)
  const n = requests.filter((r) => sim.root.state.lastCheckpoints.has(toHex(r.publicKey))).length
  console.log(t, 'root', sim.root.state.round, 'sol', sim.systems[0]!.state.round, 'certified', n, 'wall', Math.round(performance.now() - t0), [...sim.root.machines.values()].map((m) => m.phase).join(','), sim.errors.length)
}
console.log(sim.errors.slice(0, 2))
