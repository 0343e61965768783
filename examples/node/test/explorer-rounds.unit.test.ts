/** The explorer's lists of certified rounds (merged from a page and live events) and its hierarchy sentence. */
import { describe, expect, it } from 'vitest'
import { mergeCertificates, roundsByGroup } from '../explorer/src/model/certified-rounds.js'
import { hierarchySummary } from '../explorer/src/model/hierarchy-summary.js'
import type { CertificateView } from '../src/api/views/certificate-view.js'
import type { HierarchyGroup, HierarchyView } from '../src/explorer/explorer-views.js'

function certificate(round: number, group = 'sol', level = 0): CertificateView {
  return {
    round,
    level,
    group,
    resultHash: String(round).padStart(64, '0'),
    previousResultHash: String(round - 1).padStart(64, '0'),
    signers: ['m1', 'm2', 'm3'],
    checkpoints: [],
    faults: [],
    nextFacilitators: [`f${round}a`, `f${round}b`],
    hex: '00',
  }
}

describe('certified rounds', () => {
  it('merge a page with live certificates, newest first, without duplicates', () => {
    const merged = mergeCertificates([certificate(3), certificate(4)], [certificate(5), certificate(4), certificate(2)])
    expect(merged.map((c) => c.round)).toEqual([5, 4, 3, 2])
  })

  it('keep a bounded number per solar system', () => {
    const many = Array.from({ length: 10 }, (_, i) => certificate(i + 1))
    expect(mergeCertificates([], many, 4).map((c) => c.round)).toEqual([10, 9, 8, 7])
    const twoGroups = mergeCertificates([], [...many, certificate(1, 'other')], 2)
    expect(twoGroups.map((c) => `${c.group}${c.round}`)).toEqual(['other1', 'sol10', 'sol9'])
  })

  it('read who facilitated a round from the certificate before it', () => {
    const [group, ...rest] = roundsByGroup([certificate(7), certificate(5), certificate(6)])
    expect(rest).toEqual([])
    expect(group?.rows.map((row) => [row.certificate.round, row.facilitators])).toEqual([
      [7, ['f6a', 'f6b']],
      [6, ['f5a', 'f5b']],
      [5, null],
    ])
  })

  it('group by level, then name', () => {
    expect(roundsByGroup([certificate(1, 'z'), certificate(1, 'top', 1), certificate(1, 'a')]).map((g) => `${g.level}:${g.group}`)).toEqual([
      '0:a',
      '0:z',
      '1:top',
    ])
  })
})

function group(level: number, name: string, parent: string | null): HierarchyGroup {
  return {
    level,
    group: name,
    parent,
    members: [],
    facilitators: [],
    round: 1,
    resultHash: '0'.repeat(64),
    followed: true,
    validating: false,
    facilitating: false,
    children: [],
    committed: [],
  }
}

const SELF = { self: 'a'.repeat(64), solarSystem: 's1', roles: ['member'] }

describe('hierarchySummary', () => {
  it('says plainly when the single solar system is the root', () => {
    const view: HierarchyView = {
      ...SELF,
      levels: [{ level: 0, name: 'solar system', groups: [group(0, 'devnet', null)] }],
      root: { level: 0, group: 'devnet' },
    }
    expect(hierarchySummary(view)).toBe(
      "This network runs a single solar system, devnet, and it is the network's root: there are no star clusters, galaxies or universe above it.",
    )
  })

  it('counts the levels that exist and names the root', () => {
    const view: HierarchyView = {
      ...SELF,
      levels: [
        { level: 0, name: 'solar system', groups: [group(0, 's1', 'c1'), group(0, 's2', 'c1'), group(0, 's3', 'c2')] },
        { level: 1, name: 'star cluster', groups: [group(1, 'c1', 'g1'), group(1, 'c2', 'g1')] },
        { level: 2, name: 'galaxy', groups: [group(2, 'g1', null)] },
      ],
      root: { level: 2, group: 'g1' },
    }
    expect(hierarchySummary(view)).toBe('This network runs 3 levels — 3 solar systems, 2 star clusters, 1 galaxy — and its root is the galaxy g1.')
  })

  it('handles a node that knows of nothing yet', () => {
    expect(hierarchySummary({ ...SELF, levels: [], root: { level: 0, group: '' } })).toBe('This node knows of no solar system yet.')
  })
})
