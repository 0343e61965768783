/**
 * Byzantine facilitators in the full stack on the simulator: t of n facilitators whose consensus traffic an
 * adversary rewrites — votes flipped, digests and values replaced, signature shares forged, frames sent to only some
 * peers — while members transact. Honest members must keep one certified history, keep certifying, and every
 * transaction they see final must carry an agreement proof that a third party verifies from the genesis alone.
 */
import type { Random } from '@constellation/gossip'
import { afterEach, describe, expect, it } from 'vitest'
import { checkAgreementProof, committeesOf, type ConsensusNetwork, ROUND_PROTOCOL, type TransactionHalves, verifyCertificateChain } from '../../src/index.js'
import type { RoundMessage } from '../../src/round/facilitator-round.js'
import { decodeRoundFrame, encodeRoundFrame } from '../../src/shell/wire.js'
import { equivocate } from '../support/adversarial-acs.js'
import { certifiedHashes, createSolarSystemSim, type SimMember, type SolarSystemSim, withRequests } from '../support/solar-system-sim.js'

let sim: SolarSystemSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

/** Rewrites a facilitator's round frames: each message kept, corrupted or dropped, per peer, by the seed. */
function byzantine(network: ConsensusNetwork, random: Random): ConsensusNetwork {
  return withRequests(network, (peer, protocol, data, options) => {
    if (protocol !== ROUND_PROTOCOL) return network.request(peer, protocol, data, options)
    const frame = decodeRoundFrame(data, network.limits.maxMessageBytes, 1 << 20)
    const messages: RoundMessage[] = []
    for (const message of frame.messages) {
      const draw = random.next()
      if (draw < 0.15) continue // withheld from this peer
      if (draw < 0.5) {
        if (message.kind === 'share') messages.push({ kind: 'share', signature: Uint8Array.from({ length: 64 }, () => random.int(256)) })
        else messages.push({ kind: 'acs', message: equivocate(message.message, random) ?? message.message })
      } else messages.push(message)
    }
    return network.request(peer, protocol, encodeRoundFrame({ ...frame, messages }), options)
  })
}

/** Resolves once `member` saw the transaction finalised, with the round that did (run the simulation meanwhile). */
function finalisedAt(member: SimMember, transaction: TransactionHalves): Promise<number> {
  return new Promise<number>((resolve) => {
    const check = () => {
      const round = member.consensus.finalisedIn(transaction)
      if (round !== undefined) {
        off()
        resolve(round)
      }
    }
    const off = member.consensus.onFinalised(check)
    check()
  })
}

describe('Byzantine facilitators in the full stack', () => {
  for (const [facilitators, seed] of [
    [4, 1],
    [4, 2],
    [7, 3],
  ] as const) {
    it(`n = ${facilitators}, seed ${seed}: one history, rounds keep certifying, every final transaction proves final`, async () => {
      const t = Math.floor((facilitators - 1) / 3)
      const members = facilitators + 4
      // The first t genesis facilitators are Byzantine (and may be elected again later).
      const probe = await createSolarSystemSim({ seed: `byz-${seed}`, members, facilitators })
      const order = probe.members.map((m, i) => [m.id, i] as const).sort(([a], [b]) => (a < b ? -1 : 1))
      await probe.stop()
      const bad = new Set(order.slice(0, t).map(([, i]) => i))
      sim = await createSolarSystemSim({
        seed: `byz-${seed}`,
        members,
        facilitators,
        timing: { proposalTimeoutMs: 300 },
        corrupt: new Map([...bad].map((i) => [i, byzantine])),
      })
      const s = sim
      const honest = s.members.filter((_, i) => !bad.has(i))
      await s.runUntilRound(1)
      const [alice, bob] = honest as [(typeof honest)[0], (typeof honest)[0]]
      const outcomes = await s.net.runUntil(alice.chain.transfer([3, 5, 7].map((amount) => ({ to: bob.keyPair.publicKey, amount }))))
      const transfers: TransactionHalves[] = outcomes.map((outcome) => {
        if (outcome.status !== 'agreed') throw new Error(`seed byz-${seed}: a transfer was ${outcome.status}`)
        return { proposal: outcome.proposal, agreement: outcome.agreement }
      })
      const finalIn = await s.net.runUntil(Promise.all(transfers.map((tx) => finalisedAt(alice, tx))), 120_000)
      await s.runUntilRound(Math.max(6, ...finalIn))
      expect(s.errors).toEqual([])
      const reference = certifiedHashes(honest[0]!).slice(0, 6)
      for (const member of honest) expect(certifiedHashes(member).slice(0, 6), `seed byz-${seed}`).toEqual(reference)

      const history = await verifyCertificateChain(
        s.crypto,
        s.genesis,
        Array.from({ length: alice.consensus.history.round }, (_, i) => alice.consensus.history.certificate(i + 1)!),
      )
      for (const tx of transfers) {
        const proof = alice.consensus.agreementProof(tx)
        expect(await checkAgreementProof(s.crypto, proof, committeesOf(history))).toBeUndefined()
        // Bob, the other party, proves the same finality from what he holds.
        expect(await checkAgreementProof(s.crypto, bob.consensus.agreementProof(tx), committeesOf(history))).toBeUndefined()
      }
    })
  }
})
