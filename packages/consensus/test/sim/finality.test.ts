import { toHex } from '@constellation/crypto'
import { advanceHead, blockHash, createProposal, EMPTY_CHAIN_HEAD, encodeBlock, encodeExchangeRequest, decodeExchangeResponse, type HalfBlock, TRANSFER_PROTOCOL, transferPayload } from '@constellation/trustchain'
import { afterEach, describe, expect, it } from 'vitest'
import {
  checkAgreementProof,
  committeesOf,
  ConsensusErrorCode,
  decodeAgreementProof,
  encodeAgreementProof,
  type TransactionHalves,
  verifyCertificateChain,
} from '../../src/index.js'
import { createSolarSystemSim, SIM_BALANCE, type SimMember, type SolarSystemSim } from '../support/solar-system-sim.js'

let sim: SolarSystemSim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

/** Runs until `member` saw the transaction finalised; the round that did. */
async function untilFinal(s: SolarSystemSim, member: SimMember, transaction: TransactionHalves): Promise<number> {
  const done = new Promise<number>((resolve) => {
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
  return s.net.runUntil(done, 60_000)
}

async function transfer(s: SolarSystemSim, from: SimMember, to: SimMember, amount: number): Promise<TransactionHalves> {
  const [outcome] = await s.net.runUntil(from.chain.transfer([{ to: to.keyPair.publicKey, amount }]))
  if (outcome?.status !== 'agreed') throw new Error(`not agreed: ${outcome?.status}`)
  return { proposal: outcome.proposal, agreement: outcome.agreement }
}

describe('finality', () => {
  it('transfers become final; both parties prove it, and a third party holding only the genesis verifies the proof', async () => {
    sim = await createSolarSystemSim({ seed: 'finality', members: 8, facilitators: 4 })
    const s = sim
    await s.runUntilRound(1)
    const [alice, bob, carol] = s.members as [SimMember, SimMember, SimMember]
    const tx = await transfer(s, alice, bob, 25)
    expect(() => alice.consensus.agreementProof(tx)).toThrow(expect.objectContaining({ code: ConsensusErrorCode.NOT_FINAL }))
    const round = await untilFinal(s, alice, tx)
    await s.runUntilRound(round)
    const fromAlice = alice.consensus.agreementProof(tx)
    const fromBob = bob.consensus.agreementProof(tx)
    // The same transfer, round and leaf (each node may hold another quorum of the round's signatures).
    expect(fromBob.certificate.result.body.round).toBe(fromAlice.certificate.result.body.round)
    expect(fromBob.path).toEqual(fromAlice.path)

    // Carol rebuilds the history from the certificates alone, checked from the genesis on.
    const certificates = Array.from({ length: carol.consensus.history.round }, (_, i) => carol.consensus.history.certificate(i + 1)!)
    const history = await verifyCertificateChain(s.crypto, s.genesis, certificates)
    const decoded = decodeAgreementProof(s.crypto, encodeAgreementProof(fromAlice))
    expect(await checkAgreementProof(s.crypto, decoded, committeesOf(history))).toBeUndefined()
    expect(await checkAgreementProof(s.crypto, fromBob, committeesOf(history))).toBeUndefined()

    // Tampering is caught: another amount, another transaction's path, a certificate stripped of a signature.
    const forgedAmount = { ...decoded, proposal: { ...decoded.proposal, payload: { kind: 'transfer', amount: 1_000_000, balance: 0 } } }
    expect(await checkAgreementProof(s.crypto, forgedAmount, committeesOf(history))).toMatch(/signed|another transaction/)
    const elsewhere = { ...decoded, path: { ...decoded.path, index: (decoded.path.index + 1) % Math.max(2, decoded.path.leaves) } }
    expect(await checkAgreementProof(s.crypto, elsewhere, committeesOf(history))).toBeDefined()
    const stripped = { ...decoded, certificate: { ...decoded.certificate, signatures: decoded.certificate.signatures.slice(1) } }
    expect(await checkAgreementProof(s.crypto, stripped, committeesOf(history))).toMatch(/signatures/)
  })

  it('received value becomes spendable once the transfer that brought it is final, and not before', async () => {
    sim = await createSolarSystemSim({ seed: 'spendable', members: 4, facilitators: 4 })
    const s = sim
    await s.runUntilRound(1)
    const [alice, bob] = s.members as [SimMember, SimMember]
    const tx = await transfer(s, alice, bob, 40)
    // Agreed: bob's running balance has it, what bob may spend does not.
    expect(bob.chain.head().balance).toBe(SIM_BALANCE + 40)
    expect(bob.chain.available()).toBe(SIM_BALANCE)
    expect(alice.chain.available()).toBe(SIM_BALANCE - 40)
    const round = await untilFinal(s, bob, tx)
    await s.runUntilRound(round)
    expect(bob.chain.available()).toBe(SIM_BALANCE + 40)
    // Bob spends what he received.
    const [spent] = await s.net.runUntil(bob.chain.transfer([{ to: alice.keyPair.publicKey, amount: SIM_BALANCE + 40 }]))
    expect(spent?.status).toBe('agreed')
  })

  it('a double spend through a fork of the proposer’s chain finalises at most one of the two transfers', async () => {
    sim = await createSolarSystemSim({ seed: 'fork', members: 4, facilitators: 4 })
    const s = sim
    await s.runUntilRound(1)
    const [alice, bob, carol] = s.members as [SimMember, SimMember, SimMember]
    // Alice's own node pays bob everything she may spend (branch one) ...
    const honest = await transfer(s, alice, bob, SIM_BALANCE)
    // ... and a forged branch pays carol the same balance from the same position.
    const below = await alice.store.range(alice.keyPair.publicKey, 1, honest.proposal.sequenceNumber - 1)
    const head = below.reduce((h, block) => advanceHead(s.crypto, h, block), EMPTY_CHAIN_HEAD)
    const fork: HalfBlock = createProposal({ crypto: s.crypto, keyPair: alice.keyPair }, head, {
      counterparty: carol.keyPair.publicKey,
      payload: transferPayload(head, SIM_BALANCE),
      timestamp: honest.proposal.timestamp,
    })
    expect(fork.sequenceNumber).toBe(honest.proposal.sequenceNumber)
    const frame = encodeExchangeRequest({ type: 'transfers', round: alice.consensus.state.round, blocks: [...below, fork].map((block) => encodeBlock(block)) })
    const answer = decodeExchangeResponse(await s.net.runUntil(alice.sim.request(carol.id, TRANSFER_PROTOCOL, frame)))
    // Carol sees a consistent branch and agrees: nothing she holds shows the other one.
    if (answer.type !== 'answers' || !('agreement' in (answer.answers[0] ?? {}))) throw new Error(`carol did not agree: ${JSON.stringify(answer.type)}`)
    const carolsAgreement = (await carol.store.getLinked(alice.keyPair.publicKey, fork.sequenceNumber))[0] as HalfBlock
    const forked: TransactionHalves = { proposal: fork, agreement: carolsAgreement }
    const round = await untilFinal(s, bob, honest)
    await s.runUntilRound(round + 3)
    expect(alice.consensus.finalisedIn(forked)).toBeUndefined()
    expect(() => carol.consensus.agreementProof(forked)).toThrow(expect.objectContaining({ code: ConsensusErrorCode.NOT_FINAL }))
    // Carol's agreement credits her nothing: what she may spend is still her opening balance.
    expect(carol.chain.available()).toBe(SIM_BALANCE)
    expect(bob.chain.available()).toBe(2 * SIM_BALANCE)
    expect(toHex(blockHash(s.crypto, fork))).not.toBe(toHex(blockHash(s.crypto, honest.proposal)))
  })
})
