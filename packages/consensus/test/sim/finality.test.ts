import type { Transaction } from '@constellation/trustchain'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ConsensusErrorCode,
  checkAgreementProof,
  committeesOf,
  decodeAgreementProof,
  encodeAgreementProof,
  isConsensusError,
  verifyCertificateChain,
} from '../../src/index.js'
import { createSolarSystemSim, type SolarSystemSim } from '../support/solar-system-sim.js'

let sim: SolarSystemSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

describe('finality', () => {
  it('transactions become final; a third party holding only the genesis verifies their agreement proofs', async () => {
    sim = await createSolarSystemSim({ seed: 'finality', members: 8, facilitators: 4 })
    const s = sim
    await s.runUntilRound(1)
    const [alice, bob, carol] = s.members as [typeof s.members[0], typeof s.members[0], typeof s.members[0]]
    const tx: Transaction = await s.net.runUntil(alice.chain.propose(bob.chain.publicKey, { transfer: 25 }))
    expect(alice.consensus.isFinal(tx)).toBe(false)
    await expect(alice.consensus.agreementProof(alice.store, tx)).rejects.toSatisfy((error) => isConsensusError(error, ConsensusErrorCode.NOT_FINAL))
    await s.net.runUntil(alice.consensus.waitForFinality(tx))
    await s.runUntilRound(alice.consensus.history.round)
    expect(bob.consensus.isFinal(tx)).toBe(true)

    // Alice holds her own fragment; Bob's she crawls from Bob, as a node does.
    await s.net.runUntil(alice.chain.crawl(bob.chain.publicKey, bob.chain.publicKey, 1, bob.chain.head().sequenceNumber))
    const full = await alice.consensus.agreementProof(alice.store, tx)

    // Carol rebuilds the history from the certificates alone, checked from the genesis on.
    const certificates = Array.from({ length: carol.consensus.history.round }, (_, i) => carol.consensus.history.certificate(i + 1)!)
    const history = await verifyCertificateChain(s.crypto, s.genesis, certificates)
    const decoded = decodeAgreementProof(s.crypto, encodeAgreementProof(full))
    expect(await checkAgreementProof(s.crypto, decoded, committeesOf(history))).toBeUndefined()

    // Tampering is caught: a fragment missing its closing checkpoint, or a certificate stripped of a signature.
    const cut = { ...decoded, proposalSide: { ...decoded.proposalSide, fragment: { ...decoded.proposalSide.fragment, blocks: decoded.proposalSide.fragment.blocks.slice(0, -1) } } }
    expect(await checkAgreementProof(s.crypto, cut, committeesOf(history))).toMatch(/checkpoint/)
    const closing = decoded.agreementSide.closing
    const stripped = { ...decoded, agreementSide: { ...decoded.agreementSide, closing: { ...closing, signatures: closing.signatures.slice(1) } } }
    expect(await checkAgreementProof(s.crypto, stripped, committeesOf(history))).toMatch(/signatures/)
  })
})
