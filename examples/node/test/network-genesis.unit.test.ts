/**
 * The network genesis's two versions: one solar system (version 1), and a hierarchy (version 2) — solar systems and
 * the groups above them — with what the codec cannot check (a tree of groups, validators that are members, enough
 * members for the facilitators), the roles it gives a node, the devnet's genesis, and the load's counterparties.
 */
import { fromHex, loadCrypto } from '@constellation/crypto'
import { describe, expect, it } from 'vitest'
import { decodeWith } from '../src/config/codecs.js'
import {
  checkGenesis,
  genesisFingerprint,
  levelGroupsOf,
  memberOf,
  type NetworkGenesis,
  NetworkGenesisCodec,
  networkMembers,
  solarSystemGenesisOf,
  solarSystemOf,
} from '../src/config/network-genesis.js'
import { devnetGenesis } from '../src/devnet/devnet-layout.js'
import { type LoadTarget, runLoad } from '../src/devnet/load-generator.js'
import type { NodeApi } from '../src/devnet/node-api.js'
import { NodeErrorCode } from '../src/errors.js'
import { createRandom } from '@constellation/gossip'
import { roleNames, rolesOf } from '../src/node/node-roles.js'

const crypto = await loadCrypto()
const id = (n: number) => n.toString(16).padStart(64, '0')
const members = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: id(from + i), balance: 100 }))

const hierarchy = (): Extract<NetworkGenesis, { version: 2 }> => ({
  version: 2,
  timestamp: 1,
  solarSystems: [
    { group: 'sol-a', facilitators: 4, members: members(1, 4) },
    { group: 'sol-b', facilitators: 3, members: members(11, 3) },
  ],
  levels: [{ level: 1, group: 'cluster', facilitators: 4, validators: [id(1), id(2), id(11), id(12)], children: ['sol-a', 'sol-b'] }],
})

const decode = (value: unknown) => checkGenesis(decodeWith(NetworkGenesisCodec, value, NodeErrorCode.INVALID_GENESIS, 'genesis'))
const refusal = (value: unknown) => {
  try {
    decode(value)
  } catch (error) {
    return (error as Error).message
  }
  return 'accepted'
}

describe('the network genesis', () => {
  it('reads version 1 as one solar system, as before (same genesis, rules and fingerprint input)', () => {
    const v1 = decode({ version: 1, group: 'demo', timestamp: 5, facilitators: 2, members: members(1, 3) })
    expect(solarSystemGenesisOf(v1, 'demo')).toEqual({
      level: 0,
      group: 'demo',
      members: [id(1), id(2), id(3)],
      facilitators: [id(1), id(2)],
      balances: { [id(1)]: 100, [id(2)]: 100, [id(3)]: 100 },
    })
    expect(solarSystemOf(v1, 'demo').rules.election.seats).toBe(2)
    expect(levelGroupsOf(v1)).toEqual([])
    expect(memberOf(v1, fromHex(id(2)))).toEqual({ id: id(2), balance: 100, group: 'demo' })
    expect(rolesOf(v1, fromHex(id(2)))).toEqual({ solarSystem: 'demo', balance: 100, validates: [] })
    expect(genesisFingerprint(crypto, v1)).toMatch(/^[0-9a-f]{64}$/)
  })

  it('reads version 2 as solar systems and the groups above them, and gives each node its roles', () => {
    const v2 = decode(hierarchy())
    expect(networkMembers(v2)).toHaveLength(7)
    expect(solarSystemGenesisOf(v2, 'sol-b')).toMatchObject({ level: 0, group: 'sol-b', facilitators: [id(11), id(12), id(13)] })
    expect(solarSystemOf(v2, 'sol-b').rules.election.seats).toBe(3)
    const [cluster] = levelGroupsOf(v2)
    expect(cluster).toMatchObject({ root: true, genesis: { level: 1, group: 'cluster', members: [id(1), id(2), id(11), id(12)], balances: {} } })
    expect(cluster?.children.map((child) => child.group)).toEqual(['sol-a', 'sol-b'])
    // The children are the solar systems' own geneses: their genesis hashes are the keys the cluster commits them under.
    expect(cluster?.children[1]).toEqual(solarSystemGenesisOf(v2, 'sol-b'))
    const validator = rolesOf(v2, fromHex(id(11)))
    expect(validator?.solarSystem).toBe('sol-b')
    expect(roleNames(validator as NonNullable<typeof validator>)).toEqual(['member', 'root validator 1/cluster'])
    expect(roleNames(rolesOf(v2, fromHex(id(3))) as NonNullable<ReturnType<typeof rolesOf>>)).toEqual(['member'])
    expect(rolesOf(v2, fromHex(id(99)))).toBeUndefined()
    expect(() => solarSystemGenesisOf(v2, 'sol-z')).toThrow(/no solar system sol-z/)
  })

  it('refuses a hierarchy that is not a tree of founded groups, with the reason', () => {
    const base = hierarchy()
    const level = base.levels[0] as (typeof base.levels)[number]
    expect(refusal({ ...base, solarSystems: [base.solarSystems[0], { ...base.solarSystems[1], members: members(3, 3) }] })).toMatch(/members must be distinct/)
    expect(refusal({ ...base, levels: [] })).toMatch(/top level \(0\) must hold exactly one group/)
    expect(refusal({ ...base, levels: [{ ...level, children: ['sol-a'] }] })).toMatch(/sol-b of level 0 has no parent/)
    expect(refusal({ ...base, levels: [{ ...level, children: ['sol-a', 'sol-c'] }] })).toMatch(/names sol-c, not a group of level 0/)
    expect(refusal({ ...base, levels: [{ ...level, level: 2 }] })).toMatch(/level 2 has no level 1 below it/)
    expect(refusal({ ...base, levels: [level, { ...level, group: 'other' }] })).toMatch(/has two parents/)
    expect(refusal({ ...base, levels: [{ ...level, validators: [id(1), id(99)] }] })).toMatch(/validator 0+63 of cluster is not a founding member/)
    expect(refusal({ ...base, levels: [{ ...level, validators: [id(1), id(1)] }] })).toMatch(/names a validator twice/)
    expect(refusal({ ...base, levels: [{ ...level, children: ['sol-a', 'sol-b', 'sol-a'] }] })).toMatch(/cluster names a child twice/)
    const many = Array.from({ length: 1_025 }, (_, i) => id(100 + i))
    const extra = (from: number, to: number) => many.slice(from, to).map((m) => ({ id: m, balance: 1 }))
    const [a, b] = base.solarSystems as [(typeof base.solarSystems)[number], (typeof base.solarSystems)[number]]
    const crowded = {
      ...base,
      solarSystems: [
        { ...a, members: [...a.members, ...extra(0, 600)] },
        { ...b, members: [...b.members, ...extra(600, 1_025)] },
      ],
    }
    expect(refusal({ ...crowded, levels: [{ ...level, validators: many }] })).toMatch(/at most 1024 validators in a group/)
    expect(refusal({ ...base, levels: [{ ...level, facilitators: 5 }] })).toMatch(/5 facilitators need at least as many validators/)
    expect(refusal({ ...base, levels: [{ ...level, group: 'sol-a' }] })).toMatch(/sol-a is named twice/)
    expect(refusal({ ...base, solarSystems: [{ ...base.solarSystems[0], facilitators: 5 }, base.solarSystems[1]] })).toMatch(/5 facilitators need/)
    expect(refusal({ ...base, levels: [{ ...level, level: 0 }] })).toMatch(/LevelNumber/)
    expect(refusal({ ...base, version: 3 })).not.toBe('accepted')
    expect(refusal(hierarchy())).toBe('accepted')
  })
})

describe('the devnet genesis', () => {
  const ids = Array.from({ length: 12 }, (_, i) => id(i + 1))

  it('is version 1 for one solar system', () => {
    const genesis = devnetGenesis({ ids: ids.slice(0, 8), solarSystems: 1, facilitators: 4, balance: 7, timestamp: 3 })
    expect(genesis).toMatchObject({ version: 1, group: 'devnet', facilitators: 4 })
  })

  it('splits the nodes among solar systems in order, with a star cluster of validators from each as the root', () => {
    const genesis = devnetGenesis({ ids, solarSystems: 3, facilitators: 4, balance: 7, timestamp: 3 })
    if (genesis.version !== 2) throw new Error('expected a hierarchy')
    expect(genesis.solarSystems.map((s) => [s.group, s.members.map((m) => m.id), s.facilitators])).toEqual([
      ['sol-0', ids.slice(0, 4), 4],
      ['sol-1', ids.slice(4, 8), 4],
      ['sol-2', ids.slice(8, 12), 4],
    ])
    // ⌈4 / 3⌉ = 2 validators from each system: six, four of them facilitating each round.
    expect(genesis.levels).toEqual([
      { level: 1, group: 'cluster', facilitators: 4, validators: [ids[0], ids[1], ids[4], ids[5], ids[8], ids[9]], children: ['sol-0', 'sol-1', 'sol-2'] },
    ])
    const uneven = devnetGenesis({ ids: ids.slice(0, 7), solarSystems: 2, facilitators: 4, balance: 7, timestamp: 3 })
    if (uneven.version !== 2) throw new Error('expected a hierarchy')
    expect(uneven.solarSystems.map((s) => [s.members.length, s.facilitators])).toEqual([
      [4, 4],
      [3, 3],
    ])
    expect(() => devnetGenesis({ ids: ids.slice(0, 5), solarSystems: 3, facilitators: 4, balance: 7, timestamp: 3 })).toThrow(/half the nodes/)
  })
})

/** A load target whose API agrees to every transfer and records who sent it to whom. */
const recordingTarget =
  (sent: { from: string; to: string }[]) =>
  (n: number, group: string): LoadTarget => {
    const api = {
      transferBatch: async (transfers: readonly { to: string }[]) => {
        for (const transfer of transfers) sent.push({ from: id(n), to: transfer.to })
        return transfers.map(() => ({ status: 'agreed' as const, id: '00' }))
      },
    } as unknown as NodeApi
    return { id: id(n), api, group }
  }

describe('the load across solar systems', () => {
  it('sends each node’s transfers to members of its own solar system only', async () => {
    const sent: { from: string; to: string }[] = []
    const target = recordingTarget(sent)
    const targets = [target(1, 'a'), target(2, 'a'), target(3, 'b'), target(4, 'b'), target(5, 'b')]
    await runLoad({ targets, durationMs: 30, concurrencyPerNode: 1, batch: 10, random: createRandom(1) })
    const groupOf = new Map(targets.map((t) => [t.id, t.group]))
    expect(sent.length).toBeGreaterThan(0)
    expect(sent.every(({ from, to }) => from !== to && groupOf.get(from) === groupOf.get(to))).toBe(true)
    // Every member of b is drawn as a counterparty by some other member of b.
    expect(new Set(sent.filter(({ from }) => groupOf.get(from) === 'b').map(({ to }) => to))).toEqual(new Set([id(3), id(4), id(5)]))
    // One solar system: the pairs a seed draws are the ones the load drew before there were several systems,
    // \`(from + 1 + random.int(n - 1)) mod n\`, draw for draw.
    sent.length = 0
    const single = [1, 2, 3, 4, 5].map((n) => target(n, 'only'))
    await runLoad({ targets: single, durationMs: 30, concurrencyPerNode: 1, batch: 7, random: createRandom(42) })
    const replay = createRandom(42)
    const indexOf = new Map(single.map((t, i) => [t.id, i]))
    expect(sent.length).toBeGreaterThan(0)
    expect(sent.map(({ to }) => to)).toEqual(
      sent.map(({ from }) => id((((indexOf.get(from) as number) + 1 + replay.int(single.length - 1)) % single.length) + 1)),
    )
    await expect(
      runLoad({ targets: [target(1, 'a'), target(2, 'b')], durationMs: 10, concurrencyPerNode: 1, batch: 1, random: createRandom(1) }),
    ).rejects.toThrow(/no other member of its solar system/)
  })

  it('sends the share of transfers asked for to members of the other solar systems, and counts them', async () => {
    const sent: { from: string; to: string }[] = []
    const acknowledged: { from: number; to: number | undefined }[] = []
    const target = recordingTarget(sent)
    const targets = [target(1, 'a'), target(2, 'a'), target(3, 'b'), target(4, 'b')]
    const groupOf = new Map(targets.map((t) => [t.id, t.group]))
    const indexOf = new Map(targets.map((t, i) => [t.id, i]))
    const counters = await runLoad({
      targets,
      durationMs: 40,
      concurrencyPerNode: 1,
      batch: 20,
      random: createRandom(5),
      crossSystemShare: 0.25,
      onAcknowledged: (_, from, across) => acknowledged.push({ from, to: across?.to }),
    })
    const across = sent.filter(({ from, to }) => groupOf.get(from) !== groupOf.get(to))
    expect(sent.length).toBeGreaterThan(200)
    // About a quarter (a binomial draw: well inside 15–35% at this many).
    expect(across.length / sent.length).toBeGreaterThan(0.15)
    expect(across.length / sent.length).toBeLessThan(0.35)
    expect(counters.crossSystemSent).toBe(across.length)
    expect(counters.crossSystemAcknowledged).toBe(across.length)
    // Each acknowledged transfer across systems names its payee, a node of the other system.
    const named = acknowledged.filter((a) => a.to !== undefined)
    expect(named).toHaveLength(across.length)
    expect(named.every(({ from, to }) => targets[from]?.group !== targets[to as number]?.group)).toBe(true)
    expect(sent.every(({ from, to }) => from !== to && indexOf.has(to))).toBe(true)
    await expect(runLoad({ targets, durationMs: 10, concurrencyPerNode: 1, batch: 1, random: createRandom(1), crossSystemShare: 2 })).rejects.toThrow(/0 to 1/)
  })
})

describe('the README’s version-2 genesis', () => {
  it('decodes and passes the checks once its ids are filled in', async () => {
    const { readFile } = await import('node:fs/promises')
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
    const marker = readme.indexOf('<!-- genesis-example:')
    const start = readme.indexOf('```json\n', marker) + 8
    const block = readme.slice(start, readme.indexOf('\n```', start))
    const filled = block.replaceAll(/"([A-D])…"/g, (_, letter: string) => `"${id(letter.charCodeAt(0))}"`)
    const genesis = decode(JSON.parse(filled))
    expect(genesis.version).toBe(2)
    expect(levelGroupsOf(genesis).map((group) => [group.genesis.group, group.root, group.children.length])).toEqual([['cluster', true, 2]])
    expect(rolesOf(genesis, fromHex(id('C'.charCodeAt(0))))?.solarSystem).toBe('sol-1')
  })
})
