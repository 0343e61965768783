import { advanceHead, createCheckpoint, createGenesisBlock, createProposal, EMPTY_CHAIN_HEAD, type HalfBlock, transferPayload } from '@constellation/trustchain'
import { describe, expect, it } from 'vitest'
import { checkpointStep } from '../../src/shell/checkpoint-cadence.js'
import { testCrypto } from '../support/solar-system-sim.js'

describe('checkpoint cadence', async () => {
  const crypto = await testCrypto()
  const author = { crypto, keyPair: crypto.keyPairFromSeed(new Uint8Array(32).fill(3)) }
  const counterparty = crypto.keyPairFromSeed(new Uint8Array(32).fill(4)).publicKey
  const genesis = createGenesisBlock(author, { balance: 100, timestamp: 0 })
  // Heads are built block by block: the cadence reads only the blocks' types and the rounds checkpoints record.
  const heads = new Map<HalfBlock, ReturnType<typeof advanceHead>>([[genesis, advanceHead(crypto, EMPTY_CHAIN_HEAD, genesis)]])
  const headAfter = (block: HalfBlock) => heads.get(block)!
  const keep = (block: HalfBlock, after: HalfBlock) => {
    heads.set(block, advanceHead(crypto, headAfter(after), block))
    return block
  }
  const checkpointAt = (after: HalfBlock, round: number) =>
    keep(createCheckpoint(author, headAfter(after), { consensusResultHash: new Uint8Array(32), round, timestamp: 1 }), after)
  const base = { round: 100, anchorRound: 90, idleCheckpointRounds: 64, maxCheckpointAgeRounds: 8 }

  it('checkpoints when the chain moved since its certified checkpoint', () => {
    const anchor = checkpointAt(genesis, 89)
    const proposal = keep(createProposal(author, headAfter(anchor), { counterparty, payload: transferPayload(headAfter(anchor), 5), timestamp: 2 }), anchor)
    expect(checkpointStep({ ...base, stretch: [proposal] })).toBe('checkpoint')
    expect(checkpointStep({ ...base, stretch: [genesis], anchorRound: 0 })).toBe('checkpoint')
    // Moved after a checkpoint not certified yet: a new one closes the rest.
    const pending = checkpointAt(anchor, 99)
    const later = keep(createProposal(author, headAfter(pending), { counterparty, payload: transferPayload(headAfter(pending), 5), timestamp: 2 }), pending)
    expect(checkpointStep({ ...base, stretch: [pending, later] })).toBe('checkpoint')
    // Moved, then checkpointed in a round not certified yet: that checkpoint closes it all, and goes again.
    expect(checkpointStep({ ...base, stretch: [proposal, checkpointAt(proposal, 99)] })).toBe('resubmit')
  })

  it('idle otherwise, until the cadence is due', () => {
    expect(checkpointStep({ ...base, stretch: [] })).toBe('idle')
    expect(checkpointStep({ ...base, stretch: [], round: 90 + 62 })).toBe('idle')
    expect(checkpointStep({ ...base, stretch: [], round: 90 + 63 })).toBe('checkpoint') // for round 154 = 90 + 64
    expect(checkpointStep({ ...base, stretch: [], idleCheckpointRounds: 1 })).toBe('checkpoint')
    expect(checkpointStep({ ...base, stretch: [], round: 90, idleCheckpointRounds: 1 })).toBe('checkpoint')
    // A member with no certified checkpoint (admitted later, chain empty) makes itself known; one with reports sends them.
    expect(checkpointStep({ ...base, stretch: [], anchorRound: 0 })).toBe('checkpoint')
    expect(checkpointStep({ ...base, stretch: [], reporting: true })).toBe('checkpoint')
  })

  it('an uncertified checkpoint alone is submitted again while young enough, replaced once too old', () => {
    const anchor = checkpointAt(genesis, 89)
    expect(checkpointStep({ ...base, stretch: [checkpointAt(anchor, 95)] })).toBe('resubmit')
    expect(checkpointStep({ ...base, stretch: [checkpointAt(anchor, 93)] })).toBe('resubmit')
    expect(checkpointStep({ ...base, stretch: [checkpointAt(anchor, 92)] })).toBe('checkpoint')
  })
})
