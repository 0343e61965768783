import { describe, expect, it } from 'vitest'
import { isConsensusError } from '../../src/errors.js'
import { acsProgress, acsStep, initialAcsState } from '../../src/acs.js'
import { acsConfig, facilitatorIds, proposalOf, runFair } from './acs-fixture.js'

describe('ACS with honest facilitators', () => {
  it.each([
    [4, 1],
    [7, 2],
  ])('n = %i: every facilitator outputs the same map, holding every proposal', (n, t) => {
    const ids = facilitatorIds(n)
    for (let seed = 1; seed <= 5; seed++) {
      const outputs = runFair(ids, t, seed)
      expect(outputs.size, `seed ${seed}`).toBe(n)
      const first = outputs.get(ids[0] as string)?.proposals
      for (const output of outputs.values()) expect(output.proposals).toEqual(first)
      expect(first?.size).toBeGreaterThanOrEqual(n - t)
      for (const [id, value] of first ?? []) expect(value).toEqual(proposalOf(id))
    }
  })

  it('outputs with t facilitators crashed from the start', () => {
    const ids = facilitatorIds(7)
    const outputs = runFair(ids, 2, 3, { silent: ['f05', 'f06'] })
    expect(outputs.size).toBe(5)
    const maps = [...outputs.values()].map((output) => [...output.proposals.keys()])
    for (const keys of maps) expect(keys).toEqual(['f00', 'f01', 'f02', 'f03', 'f04'])
  })
})

describe('ACS API', () => {
  it('rejects bad committees and misuse', () => {
    const ids = facilitatorIds(4)
    expect(() => initialAcsState(acsConfig(ids, 'f00', 2))).toThrow(expect.objectContaining({ code: 'CONSENSUS_INVALID_COMMITTEE' }))
    expect(() => initialAcsState(acsConfig(['a', 'a', 'b', 'c'], 'a', 1))).toThrow(expect.objectContaining({ code: 'CONSENSUS_INVALID_COMMITTEE' }))
    expect(() => initialAcsState(acsConfig(ids, 'zz', 1))).toThrow(expect.objectContaining({ code: 'CONSENSUS_INVALID_COMMITTEE' }))
    expect(() => initialAcsState({ ...acsConfig(ids, 'f00', 1), maxProposalBytes: -1 })).toThrow(expect.objectContaining({ code: 'CONSENSUS_INVALID_INPUT' }))
    const state = initialAcsState(acsConfig(ids, 'f00', 1, 1, 8))
    try {
      acsStep(state, { type: 'propose', value: new Uint8Array(9) })
      expect.unreachable()
    } catch (error) {
      expect(isConsensusError(error, 'CONSENSUS_INVALID_INPUT')).toBe(true)
    }
    const { state: proposed } = acsStep(state, { type: 'propose', value: new Uint8Array(8) })
    expect(() => acsStep(proposed, { type: 'propose', value: new Uint8Array(1) })).toThrow(/already proposed/)
  })

  it('never mutates the state it is given, and handles messages to itself inside the step', () => {
    const ids = facilitatorIds(4)
    const state = initialAcsState(acsConfig(ids, 'f00', 1))
    const snapshot = JSON.stringify(acsProgress(state))
    const frozenBroadcasts = state.broadcasts
    const { state: next, outbox } = acsStep(state, { type: 'propose', value: proposalOf('f00') })
    expect(JSON.stringify(acsProgress(state))).toBe(snapshot)
    expect(state.broadcasts).toBe(frozenBroadcasts)
    expect(state.broadcasts[0]?.init).toBeUndefined()
    // INIT and the own ECHO both go out; the own INIT and ECHO were already handled.
    expect(outbox.map((o) => [o.to, o.message.kind])).toEqual([
      ['all', 'init'],
      ['all', 'echo'],
    ])
    expect(next.broadcasts[0]?.echoed).not.toEqual(state.broadcasts[0]?.echoed)
  })
})
