/**
 * Bracha reliable broadcast inside ACS: validity, agreement, totality when a Byzantine proposer sends INIT to only
 * t + 1 facilitators (the others fetch the value with VALUE-REQUEST), and the checks on VALUE and INIT.
 */
import { describe, expect, it } from 'vitest'
import { type AcsMessage, type AcsState, acsProgress, acsStep, initialAcsState } from '../../src/acs.js'
import { acsConfig, facilitatorIds, proposalOf, sha256 } from './acs-fixture.js'
import { createRandom } from '@constellation/gossip'

const ids = facilitatorIds(4)
const message = (state: AcsState, from: string, m: AcsMessage) => acsStep(state, { type: 'message', from, message: m })

describe('reliable broadcast', () => {
  it('validity and agreement: an honest proposal is delivered by everyone, unchanged', () => {
    const value = proposalOf('f00')
    // f00 proposes; replay by hand: everyone gets INIT, ECHOes, READYs.
    let states = ids.map((id) => initialAcsState(acsConfig(ids, id, 1)))
    const queue: { from: string; to: string; m: AcsMessage }[] = []
    const post = (from: string, outbox: readonly { to: string; message: AcsMessage }[]) => {
      for (const o of outbox) for (const to of o.to === 'all' ? ids.filter((id) => id !== from) : [o.to]) queue.push({ from, to, m: o.message })
    }
    const first = acsStep(states[0] as AcsState, { type: 'propose', value })
    states[0] = first.state
    post('f00', first.outbox)
    const random = createRandom(7)
    while (queue.length > 0) {
      const [next] = queue.splice(random.int(queue.length), 1)
      if (next === undefined || (next.m.kind !== 'init' && next.m.kind !== 'echo' && next.m.kind !== 'ready')) continue
      const index = ids.indexOf(next.to)
      const result = message(states[index] as AcsState, next.from, next.m)
      states = states.map((s, i) => (i === index ? result.state : s))
      post(next.to, result.outbox)
    }
    for (const state of states) {
      expect(acsProgress(state).delivered).toEqual([0])
      expect(state.broadcasts[0]?.delivered).toEqual(value)
    }
  })

  it('totality: with INIT sent to only t + 1 facilitators, the others fetch the value and deliver it', () => {
    const value = proposalOf('f03', ' (sent to f00 and f01 only)')
    const digest = sha256(value)
    // f03 is Byzantine: INIT to f00 and f01 only, then ECHO and READY to everyone.
    let f00 = message(initialAcsState(acsConfig(ids, 'f00', 1)), 'f03', { kind: 'init', instance: 3, value }).state
    let f02 = initialAcsState(acsConfig(ids, 'f02', 1))
    for (const from of ['f00', 'f01', 'f03']) f02 = message(f02, from, { kind: 'echo', instance: 3, digest }).state
    // 2t + 1 READY (its own, sent on the ECHO quorum, counts) commit f02 to a digest it never saw a value for:
    // it asks the facilitators whose ECHO it counted.
    const requests: string[] = []
    let committed = { state: f02, outbox: [] as readonly { to: string; message: AcsMessage }[] }
    for (const from of ['f00', 'f01', 'f03']) {
      committed = message(committed.state, from, { kind: 'ready', instance: 3, digest })
      for (const o of committed.outbox) if (o.message.kind === 'value-request') requests.push(o.to)
    }
    expect(requests.sort()).toEqual(['f00', 'f01', 'f03'])
    expect(committed.state.broadcasts[3]?.delivered).toBeUndefined()
    // f00 answers from the INIT it holds; f02 checks the digest and delivers.
    const answer = message(f00, 'f02', { kind: 'value-request', instance: 3 })
    f00 = answer.state
    const reply = answer.outbox.find((o) => o.message.kind === 'value')
    expect(reply?.to).toBe('f02')
    expect(message(f00, 'f02', { kind: 'value-request', instance: 3 }).outbox.some((o) => o.message.kind === 'value')).toBe(false)
    const delivered = message(committed.state, 'f00', reply?.message as AcsMessage)
    expect(delivered.state.broadcasts[3]?.delivered).toEqual(value)
    // Delivery inputs 1 to agreement 3.
    expect(delivered.outbox.some((o) => o.message.kind === 'bval' && o.message.instance === 3 && o.message.value)).toBe(true)
  })

  it('a VALUE whose digest is not the committed one is rejected, and so is one nobody asked for', () => {
    const value = proposalOf('f01')
    const digest = sha256(value)
    let f00 = initialAcsState(acsConfig(ids, 'f00', 1))
    f00 = message(f00, 'f02', { kind: 'value', instance: 1, value }).state
    expect(acsProgress(f00).dropped['unsolicited-value']).toBe(1)
    for (const from of ['f01', 'f02', 'f03']) f00 = message(f00, from, { kind: 'ready', instance: 1, digest }).state
    f00 = message(f00, 'f02', { kind: 'value', instance: 1, value: proposalOf('f01', ' forged') }).state
    expect(acsProgress(f00).dropped['digest-mismatch']).toBe(1)
    expect(f00.broadcasts[1]?.delivered).toBeUndefined()
    f00 = message(f00, 'f03', { kind: 'value', instance: 1, value }).state
    expect(f00.broadcasts[1]?.delivered).toEqual(value)
  })

  it('INIT counts only from the proposer and only once; ECHO and READY only once per sender; sizes are bounded', () => {
    let f00 = initialAcsState(acsConfig(ids, 'f00', 1, 1, 16))
    f00 = message(f00, 'f02', { kind: 'init', instance: 1, value: proposalOf('x') }).state
    f00 = message(f00, 'f01', { kind: 'init', instance: 1, value: new Uint8Array(17) }).state
    f00 = message(f00, 'f01', { kind: 'init', instance: 1, value: new Uint8Array(3) }).state
    f00 = message(f00, 'f01', { kind: 'init', instance: 1, value: new Uint8Array(4) }).state
    const digest = sha256(new Uint8Array(5))
    f00 = message(f00, 'f02', { kind: 'echo', instance: 1, digest }).state
    f00 = message(f00, 'f02', { kind: 'echo', instance: 1, digest: sha256(new Uint8Array(6)) }).state
    f00 = message(f00, 'f02', { kind: 'ready', instance: 1, digest }).state
    f00 = message(f00, 'f02', { kind: 'ready', instance: 1, digest }).state
    f00 = message(f00, 'f09', { kind: 'ready', instance: 1, digest }).state
    f00 = message(f00, 'f02', { kind: 'ready', instance: 7, digest }).state
    const { dropped } = acsProgress(f00)
    expect(dropped['not-proposer']).toBe(1)
    expect(dropped['oversized-value']).toBe(1)
    expect(dropped.duplicate).toBe(3)
    expect(dropped['unknown-sender']).toBe(1)
    expect(dropped['instance-out-of-range']).toBe(1)
    expect(f00.broadcasts[1]?.init?.value).toEqual(new Uint8Array(3))
  })
})
