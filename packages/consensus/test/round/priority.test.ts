import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { advanceHead, createCheckpoint, EMPTY_CHAIN_HEAD, type ChainHead, type HalfBlock } from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import { defaultSolarSystemRules, resultHash, type SolarSystemState } from '../../src/index.js'
import { addToPool, type CheckpointPool, foldAgreement, nextResult } from '../../src/round.js'
import { encodeProposal, selectCheckpoints } from '../../src/round/checkpoint-pool.js'
import { testCrypto } from '../support/solar-system-sim.js'
import { anchored, roundFixture } from './fixtures.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

describe('checkpoint priority', () => {
  it('when proposals are full, low-reputation members wait — and are served within a bounded number of rounds', () => {
    const members = 12
    const perProposal = 3
    const rules = { ...defaultSolarSystemRules({ facilitators: 4 }), maxCheckpointsPerProposal: perProposal }
    const f = roundFixture(crypto, members, 4, rules)
    let state: SolarSystemState = f.state
    const heads: ChainHead[] = f.pairs.map(() => EMPTY_CHAIN_HEAD)
    const chains: HalfBlock[][] = f.pairs.map(() => [])
    const servedAt = new Map<string, number[]>()
    for (let round = 1; round <= 12; round++) {
      // Every member checkpoints every round, submitting its chain after its certified checkpoint; t + 1 facilitators
      // propose the same selection (the least that certifies; the others' proposals were not agreed).
      let pool: CheckpointPool = new Map()
      f.pairs.forEach((pair: KeyPair, i) => {
        const block: HalfBlock = createCheckpoint({ crypto, keyPair: pair }, heads[i]!, {
          consensusResultHash: state.resultHash,
          round: state.round,
          timestamp: round,
        })
        heads[i] = advanceHead(crypto, heads[i]!, block)
        chains[i]!.push(block)
        const certified = state.lastCheckpoints.get(f.ids[i]!)?.entry.sequenceNumber ?? 0
        pool = addToPool(pool, anchored(crypto, state, chains[i]!.slice(certified)), i)
      })
      const chosen = selectCheckpoints(crypto, rules, state, pool)
      expect(chosen).toHaveLength(perProposal)
      const proposal = encodeProposal(chosen)
      const proposers = state.committee.facilitators.slice(0, state.committee.faults + 1)
      const { body } = foldAgreement({ crypto, rules, state, committee: state.committee, agreed: new Map(proposers.map((id) => [id, proposal])) })
      for (const entry of body.checkpoints) servedAt.set(toHex(entry.publicKey), [...(servedAt.get(toHex(entry.publicKey)) ?? []), round])
      state = nextResult(rules, state, body, resultHash(crypto, body)).state
    }
    // Nobody starves: with 12 members and 3 seats a round, everyone is served, and no gap exceeds the aging bound.
    expect(servedAt.size).toBe(members)
    for (const rounds of servedAt.values()) {
      const gaps = rounds.slice(1).map((r, i) => r - rounds[i]!)
      expect(Math.max(rounds[0]!, ...gaps)).toBeLessThanOrEqual(1 / rules.mempool.agingPerRound + members / perProposal)
    }
  })
})
