/**
 * Byzantine facilitators at level 0 and at level 1, one after the other, on the seeded adversarial scheduler (the
 * one the solar-system Twins tests use): t of n = 3t + 1 facilitators of a solar system run as twins with
 * different checkpoints, equivocate, withhold, send garbage and replays; the honest certificate of that round then
 * goes up to a star cluster whose round runs under the same adversary, where the Byzantine validators also propose
 * forged child certificates and a second, conflicting certificate of the same solar-system round (as if that solar
 * system's own facilitators had all been corrupted). On every seed, at each level: every honest facilitator
 * certifies once, all certify one result, the certificate verifies, and the cluster never commits a child
 * certificate that is forged, nor either of two conflicting ones.
 */
import { type Crypto, equalBytes, type KeyPair, toHex } from '@constellation/crypto'
import { createRandom, type Random } from '@constellation/gossip'
import { advanceHead, createCheckpoint, createGenesisBlock, EMPTY_CHAIN_HEAD } from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  certificateDigest,
  type CheckpointCertificate,
  checkCertificate,
  defaultSolarSystemRules,
  resultHash,
  type SolarSystemGenesis,
  type SolarSystemRules,
  type SolarSystemState,
} from '../../src/index.js'
import {
  type AnchoredCheckpoint,
  applyResult,
  foldAgreement,
  genesisHashOf,
  genesisState,
  nextResult,
  type RoundInputKind,
  type RoundMessage,
  startRound,
} from '../../src/round.js'
import { type LevelInput, levelInputs, merkleRoot } from '../../src/hierarchy.js'
import { assembleCertificate, signResult } from '../../src/round/certificate.js'
import { encodeProposal } from '../../src/round/checkpoint-pool.js'
import { anchored } from '../round/fixtures.js'
import { acsToolkit } from '../support/adversarial-acs.js'
import { type AdversaryToolkit, runAdversarial } from '../support/adversarial-scheduler.js'
import { roundMachine } from '../support/round-machine.js'
import { testCrypto } from '../support/solar-system-sim.js'

const SEEDS = Number(process.env.CONSENSUS_HIERARCHY_SEEDS ?? 32)

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

interface SolarFixture {
  readonly genesis: SolarSystemGenesis
  readonly state: SolarSystemState
  /** Each member's round-1 checkpoint with its stretch (its genesis block, the checkpoint), as facilitators hold it. */
  readonly checkpoints: readonly AnchoredCheckpoint[]
  /** Its round-1 certificate, folded from every checkpoint and signed by the whole committee. */
  readonly honest: CheckpointCertificate
  /** A second round-1 certificate with another result, signed by the same committee (a fully corrupted system). */
  readonly conflicting: CheckpointCertificate
}

const keyPairs = new Map<string, KeyPair>()
const key = (label: string, i: number): KeyPair => {
  const seed = new Uint8Array(32)
  seed.set(new TextEncoder().encode(label).subarray(0, 24))
  seed[31] = i
  const pair = crypto.keyPairFromSeed(seed)
  keyPairs.set(toHex(pair.publicKey), pair)
  return pair
}

const solarRules = () => defaultSolarSystemRules({ facilitators: 4 })

function certify(rules: SolarSystemRules, state: SolarSystemState, inputs: readonly AnchoredCheckpoint[]): CheckpointCertificate {
  // Every facilitator's proposal agreed, all the same: a checkpoint needs t + 1 agreed proposals carrying it.
  const proposal = encodeProposal(inputs)
  const agreed = new Map(state.committee.facilitators.map((id) => [id, proposal]))
  const { body } = foldAgreement({ crypto, rules, state, committee: state.committee, agreed })
  const { result } = nextResult(rules, state, body, resultHash(crypto, body))
  return assembleCertificate(
    result,
    state.committee.facilitators.map((id) => signResult(crypto, keyPairs.get(id) as KeyPair, result)),
    state.committee,
  )
}

function solarSystem(name: string): SolarFixture {
  const pairs = Array.from({ length: 6 }, (_, i) => key(name, i))
  const ids = pairs.map((pair) => toHex(pair.publicKey))
  // Every chain opens with 10, as its genesis block states.
  const genesis: SolarSystemGenesis = {
    level: 0,
    group: name,
    members: ids,
    facilitators: [...ids].sort().slice(0, 4),
    balances: Object.fromEntries(ids.map((id) => [id, 10])),
  }
  const rules = solarRules()
  const state = genesisState(crypto, genesis, rules)
  const checkpoints = pairs.map((keyPair) => {
    const first = createGenesisBlock({ crypto, keyPair }, { balance: 10, timestamp: 0 })
    const checkpoint = createCheckpoint({ crypto, keyPair }, advanceHead(crypto, EMPTY_CHAIN_HEAD, first), {
      consensusResultHash: state.genesisHash,
      round: 0,
      timestamp: 1,
    })
    return anchored(crypto, state, [first, checkpoint])
  })
  return { genesis, state, checkpoints, honest: certify(rules, state, checkpoints), conflicting: certify(rules, state, checkpoints.slice(1)) }
}

function toolkit(ids: readonly string[], forgedProposal: (random: Random) => Uint8Array | undefined): AdversaryToolkit<RoundMessage> {
  const acs = acsToolkit(ids, 1)
  const bytes = (random: Random, length: number) => Uint8Array.from({ length }, () => random.int(256))
  return {
    equivocate: (message, random) => {
      if (message.kind === 'share') return { kind: 'share', signature: bytes(random, 64) }
      const forged = message.message.kind === 'init' && random.int(2) === 0 ? forgedProposal(random) : undefined
      if (forged !== undefined) return { kind: 'acs', message: { kind: 'init', instance: message.message.instance, value: forged } }
      const variant = acs.equivocate(message.message, random)
      return variant === undefined ? undefined : { kind: 'acs', message: variant }
    },
    garbage: (random) =>
      random.int(3) === 0 ? ({ kind: 'share', signature: bytes(random, random.int(80)) } as RoundMessage) : { kind: 'acs', message: acs.garbage(random) },
    fromBytes: (wire) => {
      const message = acs.fromBytes(wire)
      return message === undefined ? undefined : { kind: 'acs', message }
    },
    otherSession: acs.otherSession.map((message) => ({ kind: 'acs', message })),
  }
}

/** One certified result across the honest outputs, valid for the committee; the violations otherwise. */
async function agreedCertificate(
  outputs: ReadonlyMap<string, readonly CheckpointCertificate[]>,
  state: SolarSystemState,
  violations: string[],
): Promise<CheckpointCertificate | undefined> {
  const digests = new Set<string>()
  for (const [id, certificates] of outputs) {
    if (certificates.length !== 1) {
      violations.push(`${id.slice(0, 8)} certified ${certificates.length} times`)
      continue
    }
    digests.add(toHex(certificateDigest(crypto, certificates[0]!.result)))
    const invalid = await checkCertificate(crypto, certificates[0]!, state.committee)
    if (invalid !== undefined) violations.push(`${id.slice(0, 8)}'s certificate is invalid: ${invalid}`)
  }
  if (digests.size !== 1) violations.push(`${digests.size} different certified results`)
  return [...outputs.values()].find((c) => c.length === 1)?.[0]
}

describe('Byzantine facilitators at level 0, then at level 1', () => {
  it(`one certificate per level, no forged or conflicting child certificate committed (${SEEDS} seeds)`, async () => {
    const [sol0, sol1] = [solarSystem('bz-sol-0'), solarSystem('bz-sol-1')]
    const validators = Array.from({ length: 4 }, (_, i) => toHex(key('bz-cluster', i).publicKey))
    const clusterGenesis: SolarSystemGenesis = { level: 1, group: 'bz-cluster', members: validators, facilitators: validators }
    const clusterRules = defaultSolarSystemRules({ facilitators: 4, maxProposalBytes: 900 * 1_024 })
    const cluster = genesisState(crypto, clusterGenesis, clusterRules)
    const children = [sol0.genesis, sol1.genesis]
    const sol0Key = genesisHashOf(crypto, sol0.genesis)
    const outcomes = new Set<string>()
    for (let seed = 1; seed <= SEEDS; seed++) {
      const violations: string[] = []
      const random = createRandom(`bz-levels/${seed}`)
      const pick = (ids: readonly string[]) => [ids[random.int(ids.length)] as string]

      // Level 0: round 1 of sol-0, one Byzantine facilitator of four running as twins.
      const level0 = runAdversarial<RoundMessage, CheckpointCertificate>({
        seed,
        participants: sol0.state.committee.facilitators,
        byzantine: pick(sol0.state.committee.facilitators),
        honest: (id) =>
          roundMachine(
            startRound({ crypto, keyPair: keyPairs.get(id)!, rules: solarRules(), seed: sol0.state }),
            sol0.checkpoints.filter(() => random.next() < 0.9),
          ),
        byzantineCore: (id, copy) =>
          roundMachine(
            startRound({ crypto, keyPair: keyPairs.get(id)!, rules: solarRules(), seed: sol0.state }),
            copy === 0 ? sol0.checkpoints.slice(0, 4) : sol0.checkpoints.slice(2),
          ),
        toolkit: toolkit(sol0.state.committee.facilitators, () => undefined),
      })
      const certificate0 = await agreedCertificate(level0.outputs, sol0.state, violations)
      expect(violations, `level 0, seed ${seed}: ${level0.description}`).toEqual([])
      expect(() => applyResult(solarRules(), sol0.state, certificate0!.result, resultHash(crypto, certificate0!.result.body))).not.toThrow()

      // Level 1: the cluster certifies sol-0's certificate from level 0 and sol-1's; its Byzantine validator also
      // proposes a forged certificate and the conflicting one.
      const honestRun = (certificate: CheckpointCertificate, group: string): LevelInput => ({ kind: 'child', group, certificates: [certificate] })
      const forgedCertificate: CheckpointCertificate = {
        ...certificate0!,
        result: { ...certificate0!.result, body: { ...certificate0!.result.body, checkpoints: [] } },
      }
      // Each facilitator its own kind (its own verdict cache).
      const kindFor = (): RoundInputKind<LevelInput> => levelInputs({ crypto, rules: clusterRules, level: 1, children })
      const start = (id: string) => startRound({ crypto, keyPair: keyPairs.get(id)!, rules: clusterRules, seed: cluster, inputs: kindFor() })
      const byzantine = pick(validators)
      const honestInputs = (): LevelInput[] => [
        ...(random.next() < 0.8 ? [honestRun(certificate0!, sol0.genesis.group)] : []),
        ...(random.next() < 0.8 ? [honestRun(sol1.honest, sol1.genesis.group)] : []),
      ]
      const evil = [
        honestRun(sol0.conflicting, sol0.genesis.group),
        honestRun(forgedCertificate, sol0.genesis.group),
        honestRun(sol1.honest, sol1.genesis.group),
      ]
      const level1 = runAdversarial<RoundMessage, CheckpointCertificate>({
        seed,
        participants: cluster.committee.facilitators,
        byzantine,
        honest: (id) => roundMachine(start(id), honestInputs()),
        byzantineCore: (id, copy) => roundMachine(start(id), copy === 0 ? [honestRun(certificate0!, sol0.genesis.group)] : [evil[0]!, evil[2]!]),
        toolkit: toolkit(cluster.committee.facilitators, (r) => kindFor().encodeProposal(r.int(2) === 0 ? evil : [evil[1]!])),
      })
      const certificate1 = await agreedCertificate(level1.outputs, cluster, violations)
      expect(violations, `level 1, seed ${seed}: ${level1.description}`).toEqual([])
      const { body } = certificate1!.result
      const entry = body.checkpoints.find((e) => equalBytes(e.publicKey, sol0Key))
      const committed = [certificate0!, sol0.conflicting, forgedCertificate].find(
        (c) => entry !== undefined && equalBytes(entry.hash, certificateDigest(crypto, c.result)),
      )
      if (committed === forgedCertificate) violations.push('a forged child certificate is committed')
      if (entry !== undefined && committed === undefined) violations.push('a child entry that is no certificate of the child')
      outcomes.add(committed === certificate0 ? 'level-0 certificate' : committed === sol0.conflicting ? 'conflicting' : 'none')
      // The Merkle root covers exactly the committed child certificates, child by child.
      const leaves = body.checkpoints.map((e) => e.hash)
      if (!equalBytes(body.children, merkleRoot(crypto, leaves))) violations.push('the children root does not match the committed certificates')
      expect(() => applyResult(clusterRules, cluster, certificate1!.result, resultHash(crypto, body))).not.toThrow()
      expect(violations, `level 1, seed ${seed}: ${level1.description}`).toEqual([])
    }
    // Not vacuous: the level-0 certificate went up on some seeds.
    expect(outcomes.has('level-0 certificate')).toBe(true)
  }, 60_000)

  it('a cluster whose agreement holds two conflicting certificates of one child commits neither; a forged one is refused', () => {
    const [sol0, sol1] = [solarSystem('bz-sol-0'), solarSystem('bz-sol-1')]
    const validators = Array.from({ length: 4 }, (_, i) => toHex(key('bz-cluster', i).publicKey))
    const rules = defaultSolarSystemRules({ facilitators: 4, maxProposalBytes: 900 * 1_024 })
    const cluster = genesisState(crypto, { level: 1, group: 'bz-cluster', members: validators, facilitators: validators }, rules)
    const kind = levelInputs({ crypto, rules, level: 1, children: [sol0.genesis, sol1.genesis] })
    const run = (certificate: CheckpointCertificate, group: string): LevelInput => ({ kind: 'child', group, certificates: [certificate] })
    const forged = { ...sol0.honest, result: { ...sol0.honest.result, nextFacilitators: [...validators].sort() } }
    expect(kind.check(cluster, run(forged, sol0.genesis.group))).toMatch(/invalid/)
    expect(kind.check(cluster, run(sol0.conflicting, sol0.genesis.group))).toBeUndefined()
    const [a, b, c] = cluster.committee.facilitators as [string, string, string]
    const { body } = kind.fold(
      cluster,
      new Map([
        [a, kind.encodeProposal([run(sol0.honest, sol0.genesis.group), run(sol1.honest, sol1.genesis.group)])],
        [b, kind.encodeProposal([run(sol0.conflicting, sol0.genesis.group)])],
        [c, kind.encodeProposal([run(forged, sol0.genesis.group)])],
      ]),
      new Map(),
    )
    expect(body.checkpoints.map((e) => toHex(e.publicKey))).toEqual([toHex(genesisHashOf(crypto, sol1.genesis))])
    expect(body.observations.find((o) => o.memeId === c)?.outcome).toBe('bad')
    expect(body.observations.find((o) => o.memeId === b)?.outcome).toBe('good')
    expect(toHex(body.children)).toBe(toHex(merkleRoot(crypto, [certificateDigest(crypto, sol1.honest.result)])))
  })
})
