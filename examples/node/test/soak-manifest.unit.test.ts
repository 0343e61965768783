/**
 * The soak's manifest codec (shape, bounds, cross-field rules, unknown fields, typed errors), the seeded generator
 * (same seed, same manifest; the bounds of what it draws) and the analysis of sampled rounds (longest stall, recovery
 * after a perturbation) — no processes.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateManifest, PERTURBATION_KINDS } from '../src/soak/manifest-generator.js'
import { longestStall, recoveryMs, type RoundSample } from '../src/soak/round-watch.js'
import { SoakError, SoakErrorCode } from '../src/soak/soak-error.js'
import { decodeManifest, MAX_MANIFEST_BYTES, parseManifest, readManifest, schedule } from '../src/soak/soak-manifest.js'
import { tempDir } from './cli-helpers.js'

const VALID = {
  version: 1,
  seed: 7,
  network: { nodes: 4, facilitators: 4, balance: 1_000_000 },
  load: { kind: 'rate', transfersPerSecond: 4 },
  durationMs: 30_000,
  settleMs: 60_000,
  perturbations: [
    { atMs: 16_000, kind: 'pause', node: 1, forMs: 4_000 },
    { atMs: 6_000, kind: 'kill', node: 2, downMs: 1_000 },
    { atMs: 20_000, kind: 'restart', node: 3 },
    { atMs: 25_000, kind: 'restart-facilitators' },
  ],
}

function refusal(value: unknown): SoakError {
  try {
    decodeManifest(value)
  } catch (error) {
    expect(error).toBeInstanceOf(SoakError)
    return error as SoakError
  }
  throw new Error('the manifest was accepted')
}

describe('soak manifest', () => {
  it('decodes a valid manifest and schedules its perturbations by time', () => {
    const manifest = decodeManifest(VALID)
    expect(manifest.network.nodes).toBe(4)
    expect(schedule(manifest).map((p) => p.kind)).toEqual(['kill', 'pause', 'restart', 'restart-facilitators'])
  })

  it.each([
    ['a missing field', { ...VALID, settleMs: undefined }, 'settleMs: expected SettleMs'],
    ['an unknown field', { ...VALID, perturbation: [] }, 'unknown field perturbation'],
    [
      'an unknown field of a perturbation',
      { ...VALID, perturbations: [{ atMs: 1, kind: 'kill', node: 0, signal: 9 }] },
      'unknown field perturbations.0.signal',
    ],
    ['an unknown kind', { ...VALID, perturbations: [{ atMs: 1, kind: 'partition', node: 0, forMs: 10 }] }, 'perturbations'],
    ['a disconnect of no time', { ...VALID, perturbations: [{ atMs: 1, kind: 'disconnect', node: 0, forMs: 0 }] }, 'perturbations'],
    [
      'a disconnect of a node that is not in the network',
      { ...VALID, perturbations: [{ atMs: 1, kind: 'disconnect', node: 4, forMs: 1_000 }] },
      'perturbations.0.node (4) is not a node of a 4-node network',
    ],
    ['one node', { ...VALID, network: { nodes: 1, facilitators: 1, balance: 1 } }, 'network.nodes: expected Nodes (2 to 16), got 1'],
    [
      'more facilitators than nodes',
      { ...VALID, network: { nodes: 3, facilitators: 4, balance: 1 } },
      'network.facilitators (4) is more than network.nodes (3)',
    ],
    [
      'a node that is not in the network',
      { ...VALID, perturbations: [{ atMs: 1, kind: 'restart', node: 4 }] },
      'perturbations.0.node (4) is not a node of a 4-node network (0 to 3)',
    ],
    [
      'a perturbation after the load',
      { ...VALID, perturbations: [{ atMs: 30_001, kind: 'restart', node: 0 }] },
      'perturbations.0.atMs (30001) is after the load ends',
    ],
    ['a pause of no time', { ...VALID, perturbations: [{ atMs: 1, kind: 'pause', node: 0, forMs: 0 }] }, 'perturbations'],
    ['a load of no rate', { ...VALID, load: { kind: 'rate', transfersPerSecond: 0 } }, 'load'],
    ['another version', { ...VALID, version: 2 }, 'version'],
  ])('refuses %s with MANIFEST_INVALID', (_, value, message) => {
    const error = refusal(value)
    expect(error.code).toBe(SoakErrorCode.MANIFEST_INVALID)
    expect(error.message).toContain(message)
  })

  it("decodes the README's manifest, as printed", async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
    const block = /<!-- soak-manifest[^>]*-->\s*```json\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBeDefined()
    const manifest = parseManifest(block as string, 'the README manifest')
    expect(schedule(manifest).map((p) => p.kind)).toEqual(['kill', 'pause', 'disconnect', 'restart', 'restart-facilitators'])
  })

  it('refuses text that is not JSON, a missing file and a file over the size limit, each with its code', async () => {
    expect(() => parseManifest('{"version": 1,')).toThrow(expect.objectContaining({ code: SoakErrorCode.MANIFEST_NOT_JSON }))
    const dir = await tempDir()
    await expect(readManifest(join(dir, 'none.json'))).rejects.toMatchObject({
      code: SoakErrorCode.MANIFEST_UNREADABLE,
      message: expect.stringContaining('ENOENT'),
    })
    const big = join(dir, 'big.json')
    await writeFile(big, ' '.repeat(MAX_MANIFEST_BYTES + 1))
    await expect(readManifest(big)).rejects.toMatchObject({ code: SoakErrorCode.MANIFEST_UNREADABLE, message: expect.stringContaining('more than the') })
    const good = join(dir, 'good.json')
    await writeFile(good, JSON.stringify(VALID))
    expect((await readManifest(good)).seed).toBe(7)
  })
})

describe('manifest generator', () => {
  it('gives the same manifest for the same seed, and another for another seed', () => {
    const a = generateManifest({ seed: 1, durationMs: 20 * 60_000 })
    expect(JSON.stringify(generateManifest({ seed: 1, durationMs: 20 * 60_000 }))).toBe(JSON.stringify(a))
    expect(JSON.stringify(generateManifest({ seed: 2, durationMs: 20 * 60_000 }))).not.toBe(JSON.stringify(a))
  })

  it('spreads 3 a minute over the run, inside its quiet start and end, of every kind, on nodes of the network', () => {
    const manifest = generateManifest({ seed: 1, durationMs: 20 * 60_000 })
    const times = manifest.perturbations.map((p) => p.atMs)
    expect(manifest.perturbations).toHaveLength(60)
    expect(times).toEqual([...times].sort((x, y) => x - y))
    expect(Math.min(...times)).toBeGreaterThanOrEqual(5_000)
    expect(Math.max(...times)).toBeLessThanOrEqual(20 * 60_000 - 10_000)
    expect(new Set(manifest.perturbations.map((p) => p.kind))).toEqual(new Set(PERTURBATION_KINDS))
    for (const p of manifest.perturbations) if ('node' in p) expect(p.node).toBeLessThan(4)
    // Pauses and disconnects last 1 to 10 s: below the 30 s after which a node reports a stall.
    const outages = manifest.perturbations.flatMap((p) => (p.kind === 'pause' || p.kind === 'disconnect' ? [p.forMs] : []))
    expect(Math.min(...outages)).toBeGreaterThanOrEqual(1_000)
    expect(Math.max(...outages)).toBeLessThanOrEqual(10_000)
  })

  it('draws only the kinds asked for, and no perturbation in a run too short for one', () => {
    const manifest = generateManifest({ seed: 3, durationMs: 5 * 60_000, kinds: ['pause'], nodes: 5, facilitators: 4 })
    expect(new Set(manifest.perturbations.map((p) => p.kind))).toEqual(new Set(['pause']))
    expect(manifest.network).toMatchObject({ nodes: 5, facilitators: 4 })
    expect(generateManifest({ seed: 3, durationMs: 10_000 }).perturbations).toEqual([])
  })
})

describe('round analysis', () => {
  const samples: RoundSample[] = [
    { atMs: 0, rounds: [1, 1, 1] },
    { atMs: 500, rounds: [2, 2, 1] },
    // node 1 is down from here; the network stalls at round 3 from 1 s to 4 s.
    { atMs: 1_000, rounds: [3, undefined, 3] },
    { atMs: 2_000, rounds: [3, undefined, 3] },
    { atMs: 3_000, rounds: [3, 1, 3] },
    { atMs: 4_000, rounds: [4, 2, 4] },
    { atMs: 5_000, rounds: [5, 4, 5] },
  ]

  it('finds the longest stretch without a new network round', () => {
    expect(longestStall(samples)).toEqual({ fromMs: 1_000, toMs: 4_000, round: 3, ended: true })
    expect(longestStall([...samples, { atMs: 9_000, rounds: [5, 5, 5] }])).toEqual({ fromMs: 5_000, toMs: 9_000, round: 5, ended: false })
    expect(longestStall([])).toBeUndefined()
  })

  it('measures recovery as the first new round with the touched nodes caught up', () => {
    // Ended at 3 s with the network at round 3: round 4 comes at 4 s, but node 1 reaches round 3 only at 5 s.
    expect(recoveryMs(samples, 3_000, [1])).toBe(2_000)
    expect(recoveryMs(samples, 3_000, [])).toBe(1_000)
    expect(recoveryMs(samples, 5_000, [0])).toBeUndefined()
  })
})
