/**
 * `childRun`'s bounds, on a real certified history (a solar system's certificates from a seeded `HierarchySim`): at
 * most `max` certificates, at most `maxBytes` of them with the anchor's certificate counted too, and always the
 * first — a run that could never fit would never be committed.
 */
import { type Crypto, fromHex } from '@constellation/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { type CertificateHistory, encodeCertificate, type SolarSystemState } from '../../src/index.js'
import { childRun, childRunBytes } from '../../src/hierarchy.js'
import type { ChildGroup } from '../../src/hierarchy/level-inputs.js'
import { HierarchySim } from '../support/hierarchy-sim.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
let history: CertificateHistory
let child: ChildGroup
/** The cluster's state before it certified anything, and once it had committed a round of the child (the anchor). */
let fresh: SolarSystemState
let anchored: SolarSystemState
const anchoredAt = () => anchored.lastCheckpoints.get(child.keyHex)?.entry.sequenceNumber ?? 0

beforeAll(async () => {
  crypto = await testCrypto()
  const sim = new HierarchySim({
    crypto,
    seed: 'child-run',
    systems: 2,
    membersPerSystem: 4,
    facilitators: 4,
    fanOut: 2,
    validatorsPerGroup: 4,
    upperFacilitators: 4,
    realTransfers: true,
  })
  const system = sim.systems[0]!
  child = { genesis: system.genesis, key: fromHex(system.key), keyHex: system.key }
  fresh = sim.root.state
  sim.start()
  sim.run(60_000, () => sim.root.state.lastCheckpoints.has(system.key))
  anchored = sim.root.state
  sim.run(60_000, () => system.state.round >= anchoredAt() + 8)
  expect(sim.errors).toEqual([])
  history = sim.index.history(0, system.genesis.group)!
}, 60_000)

const rounds = (run: ReturnType<typeof childRun>) => run?.certificates.map((certificate) => certificate.result.body.round)
const size = (round: number) => encodeCertificate(history.certificate(round)!).length

describe('childRun', () => {
  it('without a byte bound: every new certificate up to max, from the round after the anchor', () => {
    expect(rounds(childRun(fresh, child, history, 16, 5))).toEqual([1, 2, 3, 4, 5])
    expect(rounds(childRun(fresh, child, history, 3))).toEqual([1, 2, 3])
    const from = anchoredAt()
    const run = childRun(anchored, child, history, 4)
    expect(run?.anchor?.body.round).toBe(from)
    expect(rounds(run)).toEqual([from + 1, from + 2, from + 3, from + 4])
    expect(childRun(fresh, child, history, 16, 0)).toBeUndefined()
  })

  it('stops before the byte bound: the certificates that fit, by their encoding', () => {
    const three = size(1) + size(2) + size(3)
    expect(rounds(childRun(fresh, child, history, 16, 8, three))).toEqual([1, 2, 3])
    expect(rounds(childRun(fresh, child, history, 16, 8, three - 1))).toEqual([1, 2])
  })

  it('counts the anchor: its certificate is an upper bound of the result the run carries', () => {
    const from = anchoredAt()
    const withAnchor = size(from) + size(from + 1) + size(from + 2)
    expect(rounds(childRun(anchored, child, history, 16, 8 + from, withAnchor))).toEqual([from + 1, from + 2])
    expect(rounds(childRun(anchored, child, history, 16, 8 + from, withAnchor - 1))).toEqual([from + 1])
  })

  it('always takes the first certificate, however small the bound', () => {
    expect(rounds(childRun(fresh, child, history, 16, 8, 1))).toEqual([1])
    expect(rounds(childRun(anchored, child, history, 16, Number.POSITIVE_INFINITY, 0))).toEqual([anchoredAt() + 1])
  })

  it('the count bound still applies under a loose byte bound', () => {
    expect(rounds(childRun(fresh, child, history, 2, 8, 1 << 30))).toEqual([1, 2])
  })

  it('measures certificates as told: a model that charges bytes the certificate does not hold', () => {
    // 100 kB each: a 250 kB bound holds two, the anchor's included.
    const modeled = () => 100_000
    expect(rounds(childRun(fresh, child, history, 16, 8, 250_000, modeled))).toEqual([1, 2])
    expect(rounds(childRun(anchored, child, history, 16, Number.POSITIVE_INFINITY, 250_000, modeled))).toEqual([anchoredAt() + 1])
  })

  it('a child gets three quarters of the proposal bound shared by the children', () => {
    expect(childRunBytes(900 * 1_024, 8)).toBe(86_400)
    expect(childRunBytes(1_000, 3)).toBe(250)
    expect(childRunBytes(1_000, 0)).toBe(750)
  })
})
