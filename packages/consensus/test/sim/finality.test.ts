import { advanceHead, createProposal, EMPTY_CHAIN_HEAD, type Transaction, transferPayload } from '@constellation/trustchain'
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
    expect(await alice.consensus.isFinal(tx)).toBe(false)
    await expect(alice.consensus.agreementProof(tx)).rejects.toSatisfy((error) => isConsensusError(error, ConsensusErrorCode.NOT_FINAL))
    // Alice holds her own fragment; Bob's she crawls from Bob once it is certified.
    const full = await s.net.runUntil(alice.consensus.waitForFinality(tx))
    await s.runUntilRound(alice.consensus.history.round)
    expect(await s.net.runUntil(bob.consensus.isFinal(tx))).toBe(true)

    // A forged copy of the transfer at the same positions is enclosed by the same checkpoints, but is not final.
    const forged = { ...tx, proposal: { ...tx.proposal, payload: { kind: 'transfer', amount: 1_000_000, balance: 0 } } }
    expect(await s.net.runUntil(alice.consensus.isFinal(forged))).toBe(false)
    // So is a double spend: a second proposal Alice signed for the same position, which her certified chain lacks.
    const before = await alice.store.range(alice.chain.publicKey, 1, tx.proposal.sequenceNumber - 1)
    const head = before.reduce((h, block) => advanceHead(s.crypto, h, block), EMPTY_CHAIN_HEAD)
    const fork = createProposal({ crypto: s.crypto, keyPair: alice.keyPair }, head, {
      counterparty: bob.chain.publicKey,
      payload: transferPayload(head, 500),
      timestamp: tx.proposal.timestamp,
    })
    expect(fork.sequenceNumber).toBe(tx.proposal.sequenceNumber)
    expect(await s.net.runUntil(alice.consensus.isFinal({ proposal: fork, agreement: tx.agreement }))).toBe(false)
    const aborted = new AbortController()
    const waiting = alice.consensus.waitForFinality(forged, { signal: aborted.signal }).catch((error: unknown) => error)
    await s.runUntilRound(alice.consensus.history.round + 1)
    aborted.abort()
    expect(isConsensusError(await waiting, ConsensusErrorCode.ABORTED) || isConsensusError(await waiting, ConsensusErrorCode.INVALID_INPUT)).toBe(true)

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
