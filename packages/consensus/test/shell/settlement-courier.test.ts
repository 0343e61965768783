/**
 * The member side of transfers across solar systems (`SettlementCourier`): proofs are looked for in turn, so entries
 * that cannot be proven yet never keep the ones behind them waiting; each piece goes to a facilitator until it holds
 * it, one it did not take goes again after a backoff, and one it holds is not sent again.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import {
  advanceHead,
  blockHash,
  createAgreement,
  createGenesisBlock,
  createProposal,
  DEFAULT_BLOCK_LIMITS,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
  transferPayload,
} from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import { type AgreementProof, type CheckpointCertificate, defaultSolarSystemRules, finalisedLeaf } from '../../src/index.js'
import { merkleProof } from '../../src/hierarchy.js'
import { type AwaitingAgreement, proposalKey } from '../../src/ledger/transfer-ledger.js'
import { genesisState } from '../../src/round.js'
import type { SolarSystemState } from '../../src/round/solar-system.js'
import { SettlementCourier } from '../../src/shell/settlement-courier.js'
import { decodeMemberSubmission, encodeEvidenceAnswer, type SettlementEvidence } from '../../src/shell/wire.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

describe('SettlementCourier', () => {
  it('looks for proofs in turn, and gives each facilitator each piece until it holds it', async () => {
    const party = (n: number) => ({ crypto, keyPair: crypto.keyPairFromSeed(new Uint8Array(32).fill(n)) })
    const [me, facilitator, payer] = [party(1), party(2), party(9)]
    const self = toHex(me.keyPair.publicKey)
    const f = toHex(facilitator.keyPair.publicKey)
    const base = genesisState(crypto, { level: 0, group: 'c', members: [self, f], facilitators: [f] }, defaultSolarSystemRules({ facilitators: 1 }))
    // Six transfers from the payer (another system) to this member, each answered with an agreement waiting here.
    let payerHead = advanceHead(crypto, EMPTY_CHAIN_HEAD, createGenesisBlock(payer, { balance: 100, timestamp: 1 }))
    let myHead = EMPTY_CHAIN_HEAD
    const transfers: { proposal: HalfBlock; agreement: HalfBlock }[] = []
    for (let i = 0; i < 6; i++) {
      const proposal = createProposal(payer, payerHead, { counterparty: me.keyPair.publicKey, payload: transferPayload(payerHead, 1), timestamp: 2 + i })
      payerHead = advanceHead(crypto, payerHead, proposal)
      const agreement = createAgreement(me, myHead, proposal, { timestamp: 2 + i })
      myHead = advanceHead(crypto, myHead, agreement)
      transfers.push({ proposal, agreement })
    }
    const awaiting = new Map<string, AwaitingAgreement>(
      transfers.map(({ proposal, agreement }) => [
        proposalKey(toHex(payer.keyPair.publicKey), proposal.sequenceNumber),
        {
          proposer: toHex(payer.keyPair.publicKey),
          sequenceNumber: proposal.sequenceNumber,
          counterparty: self,
          agreementSequenceNumber: agreement.sequenceNumber,
          hash: blockHash(crypto, agreement),
          amount: 1,
          round: 1,
        },
      ]),
    )
    const stateAt = (round: number): SolarSystemState => ({ ...base, round, ledger: { ...base.ledger, awaiting } })
    // The payer's system finalised only the last two; the first four have no proof (yet).
    const leaves = transfers.map(({ proposal, agreement }) => finalisedLeaf(blockHash(crypto, proposal), blockHash(crypto, agreement)))
    const asked: number[] = []
    const proofOf = async (waiting: AwaitingAgreement): Promise<AgreementProof | undefined> => {
      const i = transfers.findIndex(({ proposal }) => proposal.sequenceNumber === waiting.sequenceNumber)
      asked.push(i)
      if (i < 4) return undefined
      const certificate = { result: { body: { level: 0, group: 'p', round: 7 } } } as unknown as CheckpointCertificate
      return { ...(transfers[i] as { proposal: HalfBlock; agreement: HalfBlock }), certificate, path: merkleProof(crypto, leaves, i) }
    }
    // The facilitator takes a credit only the second time it sees it (it was a round behind the first time).
    const sent: SettlementEvidence[] = []
    const seen = new Map<string, number>()
    const network = {
      request: async (_peer: string, _protocol: string, bytes: Uint8Array) => {
        const evidence = decodeMemberSubmission(bytes, 1 << 20) as SettlementEvidence
        sent.push(evidence)
        const held = evidence.followedCredits.flatMap((group) =>
          group.transfers.map((transfer) => {
            const key = toHex(transfer.agreement)
            seen.set(key, (seen.get(key) ?? 0) + 1)
            return (seen.get(key) as number) >= 2
          }),
        )
        return encodeEvidenceAnswer(held)
      },
    }
    const courier = new SettlementCourier({
      crypto,
      self,
      network: network as never,
      group: { level: 0, group: 'c' },
      timing: { requestTimeoutMs: 1_000 },
      limits: DEFAULT_BLOCK_LIMITS,
      crossSystem: { agreementProofOf: proofOf },
      own: { takeEvidence: async () => [] },
      maxMessageBytes: 1 << 20,
      onError: (error) => {
        throw error
      },
      running: () => true,
    })
    const settle = () => new Promise((resolve) => setTimeout(resolve, 5))
    for (let round = 10; round < 20; round++) {
      await courier.send(stateAt(round))
      await settle()
    }
    // The last two were asked for although the first four never had a proof.
    expect(new Set(asked)).toEqual(new Set([0, 1, 2, 3, 4, 5]))
    const credited = sent.map((evidence) => evidence.followedCredits.flatMap((group) => group.transfers.length).reduce((a, b) => a + b, 0))
    // Given, refused once, given again a round later and held: then not sent again.
    expect(credited.filter((n) => n > 0)).toEqual([2, 2])
    expect(sent.at(-1)?.followedCredits[0]).toMatchObject({ group: 'p', round: 7 })
  })
})
