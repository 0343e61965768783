/**
 * End to end, with real node processes on 127.0.0.1: two solar systems of four members and a star cluster above
 * them, from one version-2 genesis (`constellation devnet --solar-systems 2` writes the same). Each solar system
 * certifies its own rounds; the star cluster's validators (two members of each system) follow both, certify their
 * certificates and commit them; every node's status and `GET /v1/hierarchy` say what it runs; transfers inside each
 * system become final; and the star cluster's commitments, fetched over HTTP from a validator, are checked here from
 * the genesis alone: each child certificate the cluster's verified chain commits (its round and digest) is the one
 * the child's own certificate chain (fetched from a member that is not a validator) holds; and each transfer's
 * rooted proof (`GET /v1/transactions/:id/proof?rooted=true`, from a member that asks a validator for the path, and
 * from a validator) holds against the cluster's committees, and fails with the root certificate's signatures cut.
 * Members follow the other system and the root too; a transfer from a member of sol-0 to a member of sol-1 becomes
 * final on both sides (sol-0 on the payee's agreement, sol-1 on sol-0's agreement proof), the payee can spend what it
 * got, and each side's rooted proof holds against the cluster's chain.
 */
import {
  type CheckpointCertificate,
  certificateDigest,
  checkRootedAgreementProof,
  committeesOf,
  decodeAgreementProof,
  decodeCertificate,
  decodeFinalityPath,
  type FinalityPath,
  type SolarSystemGenesis,
  verifyCertificateChain,
} from '@constellation/consensus'
import { genesisHashOf } from '@constellation/consensus/round'
import { equalBytes, fromHex, loadCrypto, toHex } from '@constellation/crypto'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { foundedLevels, levelGroupsOf, solarSystemGenesisOf } from '../src/config/network-genesis.js'
import type { DevnetCluster } from '../src/devnet/devnet-cluster.js'
import { type LocalDevnet, startLocalDevnet } from '../src/devnet/local-devnet.js'
import { pollUntil } from '../src/devnet/poll-until.js'
import type { HierarchyView } from '../src/explorer/explorer-views.js'

const crypto = await loadCrypto()
const BALANCE = 1_000_000

const TransactionCodec = t.type({ id: t.string, status: t.string })
const StatusCodec = t.type({
  group: t.string,
  roles: t.array(t.string),
  levels: t.array(t.type({ level: t.number, group: t.string, round: t.number })),
})
const RootedCodec = t.type({
  proof: t.string,
  paths: t.array(t.string),
  root: t.union([t.null, t.type({ level: t.number, group: t.string, round: t.number })]),
})
const HierarchyCodec = new t.Type<HierarchyView>(
  'HierarchyView',
  (u): u is HierarchyView => typeof u === 'object' && u !== null,
  (u, c) => (typeof u === 'object' && u !== null && 'levels' in u ? t.success(u as HierarchyView) : t.failure(u, c)),
  t.identity,
)

let devnet: LocalDevnet | undefined
let cluster: DevnetCluster | undefined

beforeAll(async () => {
  devnet = await startLocalDevnet({ crypto, name: 'e2e-hierarchy', nodes: 8, facilitators: 4, balance: BALANCE, solarSystems: 2, timeoutMs: 60_000 })
  cluster = devnet.cluster
}, 120_000)

afterAll(async () => {
  const reports = (await devnet?.close()) ?? []
  expect(reports.filter((report) => report.failed)).toEqual([])
}, 30_000)

describe('two solar systems and a star cluster in real processes', () => {
  it('run the roles the genesis gives them, and the star cluster commits both systems’ certificates', async () => {
    const { nodes, layout } = cluster as DevnetCluster
    const [star] = levelGroupsOf(layout.genesis)
    expect(star?.genesis.level).toBe(1)
    const validators = new Set(star?.genesis.members)
    expect(validators.size).toBe(4)

    // Each node is a member of its solar system; the validators validate the cluster, which is the root.
    for (const node of nodes) {
      const status = await node.api.get('/v1/status', StatusCodec)
      expect(status.group).toBe(node.layout.group)
      if (validators.has(node.layout.id)) {
        expect(status.roles).toEqual(['member', 'root validator 1/cluster'])
        expect(status.levels.map((level) => level.group)).toEqual(['cluster'])
      } else {
        expect(status.roles).toEqual(['member'])
        expect(status.levels).toEqual([])
      }
    }

    // The cluster commits rounds of both solar systems (its validators' view of the hierarchy says which).
    const validator = nodes.find((node) => validators.has(node.layout.id)) as (typeof nodes)[number]
    const view = await pollUntil(
      () => validator.api.get('/v1/hierarchy', HierarchyCodec),
      (v) => {
        const committed = v.levels[1]?.groups[0]?.committed ?? []
        return committed.length === 2 && committed.every((child) => child.round >= 2)
      },
      { timeoutMs: 60_000, what: 'the star cluster to commit two rounds of each solar system' },
    )
    expect(view.levels.map((level) => level.groups.map((group) => group.group))).toEqual([['sol-0', 'sol-1'], ['cluster']])
    expect(view.root).toEqual({ level: 1, group: 'cluster' })
    const clusterGroup = view.levels[1]?.groups[0]
    expect(clusterGroup).toMatchObject({ validating: true, followed: true, children: ['sol-0', 'sol-1'], parent: null })
    // A validator follows both children.
    expect(view.levels[0]?.groups.every((group) => group.followed && group.parent === 'cluster')).toBe(true)
    const member = nodes.find((node) => !validators.has(node.layout.id) && node.layout.group === 'sol-1') as (typeof nodes)[number]
    const memberView = await member.api.get('/v1/hierarchy', HierarchyCodec)
    expect(memberView.roles).toEqual(['member'])
    // A member follows the other system and the root too (to transfer across systems), without validating them.
    expect(memberView.levels[0]?.groups.map((group) => [group.group, group.followed, group.validating])).toEqual([
      ['sol-0', true, false],
      ['sol-1', true, false],
    ])
    expect(memberView.levels[1]?.groups[0]).toMatchObject({ group: 'cluster', followed: true, validating: false })
    expect(memberView.levels[1]?.groups[0]?.round).toBeGreaterThan(0)

    // Transfers inside each solar system become final.
    const submitted = await Promise.all(
      ['sol-0', 'sol-1'].map(async (group) => {
        // From a member that is not a validator: its rooted proof's path comes from a validator over the network.
        const members = nodes.filter((node) => node.layout.group === group)
        const [to, from] = [members[0], members.at(-1)]
        expect(validators.has(from?.layout.id as string)).toBe(false)
        const tx = await (from as (typeof nodes)[number]).api.post('/v1/transactions', { to: to?.layout.id, amount: 5 }, TransactionCodec)
        return { from: from as (typeof nodes)[number], id: tx.id }
      }),
    )
    await pollUntil(
      () => Promise.all(submitted.map(async ({ from, id }) => (await from.api.get(`/v1/transactions/${id}`, TransactionCodec)).status)),
      (statuses) => statuses.every((status) => status === 'final'),
      { timeoutMs: 30_000, what: 'a transfer in each solar system to be final' },
    )

    // From the genesis alone: the cluster's certificate chain (fetched from a validator) verifies, and what its
    // certificates commit — per child, its newest certified round and that certificate's digest — is what the child's
    // own chain holds (fetched from a member of the child that is not a validator, verified from the child's genesis).
    const clusterChain = (await validator.api.certifiedRounds(undefined, { level: 1, group: 'cluster' })).map((round) => decodeCertificate(fromHex(round.hex)))
    expect(clusterChain.length).toBeGreaterThan(0)
    await verifyCertificateChain(crypto, star?.genesis as SolarSystemGenesis, clusterChain)
    const children = foundedLevels(layout.genesis)[0]?.children ?? []
    expect(children).toEqual(['sol-0', 'sol-1'])
    let committed = 0
    for (const group of children) {
      const childGenesis = solarSystemGenesisOf(layout.genesis, group)
      const holder = nodes.find((node) => node.layout.group === group && !validators.has(node.layout.id)) as (typeof nodes)[number]
      const childChain = (await holder.api.certifiedRounds()).map((round) => decodeCertificate(fromHex(round.hex)))
      await verifyCertificateChain(crypto, childGenesis, childChain)
      const key = genesisHashOf(crypto, childGenesis)
      for (const certificate of clusterChain) {
        for (const entry of certificate.result.body.checkpoints.filter((e) => equalBytes(e.publicKey, key))) {
          const child = childChain[entry.sequenceNumber - 1]
          expect(child, `${group} round ${entry.sequenceNumber}`).toBeDefined()
          expect(toHex(entry.hash)).toBe(toHex(certificateDigest(crypto, (child as CheckpointCertificate).result)))
          committed++
        }
      }
    }
    // Both children committed, in more than one cluster round.
    expect(committed).toBeGreaterThanOrEqual(4)
    // Rooted proofs: each transfer's agreement proof with the path showing the cluster (the root) committed its
    // certificate — from a member that is not a validator (it asks a validator over the network) and from a validator
    // (its own index) — checked against the cluster's committees, from its chain verified from the genesis (fetched
    // from a validator that is neither node asked).
    const third = nodes.find((node) => validators.has(node.layout.id) && node !== validator && node.layout.group !== validator.layout.group)
    const checkRooted = async (from: (typeof nodes)[number], id: string) => {
      const answer = await pollUntil(
        () => from.api.exchange('GET', `/v1/transactions/${id}/proof?rooted=true`, undefined),
        (reply) => reply.status !== 409,
        { timeoutMs: 45_000, what: `transfer ${id.slice(0, 8)} to be committed by the root` },
      ).catch(async (error: unknown) => {
        const last = await from.api.exchange('GET', `/v1/transactions/${id}/proof?rooted=true`, undefined)
        throw new Error(`${(error as Error).message}; last answer ${last.status} ${last.text}`)
      })
      expect(answer.status, answer.text).toBe(200)
      const body = RootedCodec.decode(answer.body)
      if (body._tag === 'Left') throw new Error(`not a rooted proof: ${answer.text}`)
      const { proof, paths, root } = body.right
      expect(root).toMatchObject({ level: 1, group: 'cluster' })
      const rooted = { proof: decodeAgreementProof(crypto, fromHex(proof)), paths: paths.map((path) => decodeFinalityPath(fromHex(path))) }
      // The third validator may not have applied the root round the proof names yet: its chain is read once it has.
      const rootChain = await pollUntil(
        async () => ((await third?.api.certifiedRounds(undefined, { level: 1, group: 'cluster' })) ?? []).map((round) => decodeCertificate(fromHex(round.hex))),
        (chain) => chain.length >= (root?.round ?? Number.POSITIVE_INFINITY),
        { timeoutMs: 30_000, what: `the third validator to hold root round ${root?.round}` },
      )
      const history = await verifyCertificateChain(crypto, star?.genesis as SolarSystemGenesis, rootChain)
      expect(history.round).toBeGreaterThanOrEqual(root?.round ?? Number.POSITIVE_INFINITY)
      expect(await checkRootedAgreementProof(crypto, rooted, committeesOf(history))).toBeUndefined()
      // It can fail: a path whose root certificate lost its signatures.
      const [path] = rooted.paths
      const stripped = path?.steps.map((step, i, all) =>
        i === all.length - 1 ? { ...step, certificate: { ...step.certificate, signatures: step.certificate.signatures.slice(0, 1) } } : step,
      )
      expect(
        await checkRootedAgreementProof(crypto, { ...rooted, paths: [{ ...(path as FinalityPath), steps: stripped ?? [] }] }, committeesOf(history)),
      ).toMatch(/signatures|root certificate/)
    }
    for (const { from, id } of submitted) await checkRooted(from, id)
    // A validator builds its rooted proofs from its own index; asked at once, it answers NOT_FINAL or NOT_ROOTED first.
    const validatorTransfer = await validator.api.post(
      '/v1/transactions',
      { to: nodes.find((node) => node.layout.group === validator.layout.group && node !== validator)?.layout.id, amount: 2 },
      TransactionCodec,
    )
    const early = await validator.api.exchange('GET', `/v1/transactions/${validatorTransfer.id}/proof?rooted=true`, undefined)
    expect([early.status, (early.body as { error?: { code?: string } }).error?.code]).toEqual([409, expect.stringMatching(/^NOT_(FINAL|ROOTED)$/)])
    await checkRooted(validator, validatorTransfer.id)

    // A validator of the cluster serves its children's certificates too: the same results as the child's own members.
    const otherSystem = validator.layout.group === 'sol-0' ? 'sol-1' : 'sol-0'
    const served = (await validator.api.certifiedRounds(undefined, { level: 0, group: otherSystem })).map((round) => decodeCertificate(fromHex(round.hex)))
    const own =
      (await nodes.find((node) => node.layout.group === otherSystem)?.api.certifiedRounds())?.map((round) => decodeCertificate(fromHex(round.hex))) ?? []
    expect(served.length).toBeGreaterThan(0)
    const common = Math.min(served.length, own.length)
    expect(served.slice(0, common).map((c) => toHex(certificateDigest(crypto, c.result)))).toEqual(
      own.slice(0, common).map((c) => toHex(certificateDigest(crypto, c.result))),
    )
    expect((await validator.api.exchange('GET', '/v1/consensus/groups/x/sol-0/rounds', undefined)).status).toBe(400)
    expect((await validator.api.exchange('GET', '/v1/consensus/groups/0/Sol_0/rounds', undefined)).status).toBe(400)

    // The metrics break the validated group out by level and group; a member only has none of them.
    const validatorMetrics = await validator.api.metrics()
    const clusterRound = /^constellation_level_round\{level="1",group="cluster"\} (\d+)$/m.exec(validatorMetrics)
    expect(Number(clusterRound?.[1])).toBeGreaterThan(0)
    expect(validatorMetrics).toMatch(/^constellation_level_child_certificates\{level="1",group="cluster"\} [1-9]\d*$/m)
    expect(await member.api.metrics()).not.toMatch(/^constellation_level_round\{/m)

    // A member serves the groups it follows (the root, the other system); one the genesis does not found is refused.
    expect((await member.api.exchange('GET', '/v1/consensus/groups/1/cluster/rounds', undefined)).status).toBe(200)
    expect((await member.api.exchange('GET', '/v1/consensus/groups/0/sol-9/rounds', undefined)).status).toBe(404)
  }, 150_000)

  it('a transfer across the two solar systems is final in the payer’s, credited in the payee’s, and rooted in both', async () => {
    const { nodes, layout } = cluster as DevnetCluster
    const [star] = levelGroupsOf(layout.genesis)
    const validators = new Set(star?.genesis.members)
    const [payer, payee] = ['sol-0', 'sol-1'].map(
      (group) => nodes.filter((node) => node.layout.group === group && !validators.has(node.layout.id)).at(-1) as (typeof nodes)[number],
    ) as [(typeof nodes)[number], (typeof nodes)[number]]
    const AvailableCodec = t.type({ available: t.number })
    const before = (await payee.api.get('/v1/status', AvailableCodec)).available
    const tx = await payer.api.post('/v1/transactions', { to: payee.layout.id, amount: 77 }, TransactionCodec)
    // Final for the payer once sol-0 holds the payee's agreement; for the payee once sol-1 took sol-0's agreement proof.
    await pollUntil(
      () =>
        Promise.all([payer, payee].map(async (node) => (await node.api.exchange('GET', `/v1/transactions/${tx.id}`, undefined)).body as { status?: string })),
      (views) => views.every((view) => view.status === 'final'),
      { timeoutMs: 60_000, what: 'the transfer across solar systems to be final on both sides' },
    )
    expect((await payee.api.get('/v1/status', AvailableCodec)).available).toBe(before + 77)
    // Each side's rooted proof holds against the cluster's chain, fetched from a validator and verified from the genesis.
    const clusterValidator = nodes.find((node) => validators.has(node.layout.id)) as (typeof nodes)[number]
    for (const [node, group] of [
      [payer, 'sol-0'],
      [payee, 'sol-1'],
    ] as const) {
      const answer = await pollUntil(
        () => node.api.exchange('GET', `/v1/transactions/${tx.id}/proof?rooted=true`, undefined),
        (reply) => reply.status !== 409,
        { timeoutMs: 45_000, what: `the ${group} side to be committed by the root` },
      )
      expect(answer.status, answer.text).toBe(200)
      const body = RootedCodec.decode(answer.body)
      if (body._tag === 'Left') throw new Error(`not a rooted proof: ${answer.text}`)
      const rooted = {
        proof: decodeAgreementProof(crypto, fromHex(body.right.proof)),
        paths: body.right.paths.map((path) => decodeFinalityPath(fromHex(path))),
      }
      expect(rooted.proof.certificate.result.body.group).toBe(group)
      const top = body.right.root?.round ?? Number.POSITIVE_INFINITY
      // Read once that validator holds the root round the path reaches (it may apply it a moment after another).
      const chain = await pollUntil(
        async () =>
          (await clusterValidator.api.certifiedRounds(undefined, { level: 1, group: 'cluster' })).map((round) => decodeCertificate(fromHex(round.hex))),
        (rounds) => rounds.length >= top,
        { timeoutMs: 30_000, what: `root round ${top} at a validator` },
      )
      const history = await verifyCertificateChain(crypto, star?.genesis as SolarSystemGenesis, chain)
      expect(await checkRootedAgreementProof(crypto, rooted, committeesOf(history))).toBeUndefined()
    }
  }, 150_000)
})
