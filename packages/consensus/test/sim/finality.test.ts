import { toHex } from '@constellation/crypto'
import {
  advanceHead,
  blockHash,
  createCheckpoint,
  createProposal,
  decodeFraudProof,
  EMPTY_CHAIN_HEAD,
  encodeBlock,
  type HalfBlock,
  transferPayload,
} from '@constellation/trustchain'
import { encodeExchangeRequest, decodeExchangeResponse, TRANSFER_PROTOCOL } from '@constellation/trustchain/wire'
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
import { CHECKPOINT_PROTOCOL, encodeCheckpointSubmission } from '../../src/shell/wire.js'
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

  it('a double spend without a fork: the proposal that overspends is refused by its counterparty and by the facilitators, and only the first finalises', async () => {
    sim = await createSolarSystemSim({ seed: 'overspend', members: 4, facilitators: 4 })
    const s = sim
    await s.runUntilRound(1)
    const [alice, bob, carol, dave] = s.members as [SimMember, SimMember, SimMember, SimMember]
    // Alice pays bob everything she may spend; a second proposal on top of it pays carol the same again, stating
    // the balance alice had before paying bob (a false balance), so that it looks covered.
    const honest = await transfer(s, alice, bob, SIM_BALANCE)
    const below = await alice.store.range(alice.keyPair.publicKey, 1, honest.proposal.sequenceNumber)
    const head = below.reduce((h, block) => advanceHead(s.crypto, h, block), EMPTY_CHAIN_HEAD)
    const overspend: HalfBlock = createProposal({ crypto: s.crypto, keyPair: alice.keyPair }, head, {
      counterparty: carol.keyPair.publicKey,
      payload: { kind: 'transfer', amount: SIM_BALANCE, balance: SIM_BALANCE },
      timestamp: honest.proposal.timestamp + 1,
    })
    const frame = encodeExchangeRequest({
      type: 'transfers',
      round: alice.consensus.state.round,
      blocks: [...below, overspend].map((block) => encodeBlock(block)),
    })
    const answer = decodeExchangeResponse(await s.net.runUntil(alice.sim.request(carol.id, TRANSFER_PROTOCOL, frame)))
    expect(answer.type === 'answers' && answer.answers.some((a) => 'agreement' in a)).toBe(false)
    expect(await carol.store.getLinked(alice.keyPair.publicKey, overspend.sequenceNumber)).toEqual([])
    // The same stretch, closed by a checkpoint, submitted straight to a facilitator: refused before it is pooled.
    const afterOverspend = advanceHead(s.crypto, head, overspend)
    const checkpoint = createCheckpoint({ crypto: s.crypto, keyPair: alice.keyPair }, afterOverspend, {
      consensusResultHash: alice.consensus.state.resultHash,
      round: alice.consensus.state.round,
      timestamp: overspend.timestamp + 1,
    })
    const { level, group } = s.genesis
    const stretch = [
      ...below.filter((block) => block.sequenceNumber > (alice.consensus.state.lastCheckpoints.get(alice.id)?.entry.sequenceNumber ?? 0)),
      overspend,
      checkpoint,
    ]
    const submission = encodeCheckpointSubmission({ level, group, blocks: stretch.map((block) => encodeBlock(block)) })
    await expect(s.net.runUntil(alice.sim.request(dave.id, CHECKPOINT_PROTOCOL, submission))).rejects.toThrow(/insufficient-balance/)

    const round = await untilFinal(s, bob, honest)
    await s.runUntilRound(round + 2)
    expect(bob.chain.available()).toBe(2 * SIM_BALANCE)
    expect(carol.chain.available()).toBe(SIM_BALANCE)
    expect(alice.chain.available()).toBe(0)
    expect(bob.consensus.state.ledger.spendable.get(carol.id)).toBe(SIM_BALANCE)
  })

  it('a double spend through a fork of the proposer’s chain finalises at most one of the two transfers, and the fork docks the proposer’s meme', async () => {
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

    // Carol's node notices that the proposal she answered is not the one certified at its position, and reports it;
    // a facilitator that checked alice's certified stretch holds the other block: a fraud proof docks alice once.
    const docked = () => s.members.every((m) => (m.consensus.state.memes.find((meme) => meme.id === alice.id)?.history.provenFaults ?? 0) > 0)
    for (let r = round + 4; r <= round + 12 && !docked(); r++) await s.runUntilRound(r)
    expect(docked()).toBe(true)
    const faults = Array.from({ length: bob.consensus.history.round }, (_, i) => bob.consensus.history.certificate(i + 1)!.result.body.faults).flat()
    expect(faults).toHaveLength(1)
    expect(faults[0]).toMatchObject({ memeId: alice.id, kind: 'double-sign', sequenceNumber: fork.sequenceNumber })
    const proof = decodeFraudProof(s.crypto, faults[0]!.proof)
    expect([proof.first, proof.second].map((block) => toHex(blockHash(s.crypto, block))).sort()).toEqual(
      [fork, honest.proposal].map((block) => toHex(blockHash(s.crypto, block))).sort(),
    )
    // Reported again in later submissions, it is not recorded again: a fork docks once.
    await s.runUntilRound(bob.consensus.history.round + 4)
    const later = Array.from({ length: bob.consensus.history.round }, (_, i) => bob.consensus.history.certificate(i + 1)!.result.body.faults).flat()
    expect(later).toHaveLength(1)
    expect(bob.consensus.state.memes.find((meme) => meme.id === alice.id)?.history.provenFaults).toBe(1)
  })
})
