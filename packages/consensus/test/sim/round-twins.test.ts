/**
 * Twins at the level of certified results: the whole facilitator round (checkpoint collection, ACS, fold, election,
 * signature shares) under the seeded adversarial scheduler, t Byzantine facilitators of n = 3t + 1 running as
 * twins, equivocating, withholding, sending garbage, replaying and delaying forever. On every seed: every honest
 * facilitator certifies, all certificates certify one result, each verifies against the committee, and the result
 * certifies only checkpoints members really signed — never both of a member's conflicting checkpoints.
 * CONSENSUS_TWINS_SEEDS raises the seed count (default 200 per configuration).
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { createRandom, type Random } from '@constellation/gossip'
import { blockHash, checkFraudProof, createCheckpoint, decodeFraudProof, EMPTY_CHAIN_HEAD, type HalfBlock } from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  applyResult,
  certificateDigest,
  type CheckpointCertificate,
  checkCertificate,
  defaultSolarSystemRules,
  encodeProposal,
  type FacilitatorRoundState,
  genesisState,
  resultHash,
  type RoundMessage,
  type SolarSystemGenesis,
  type SolarSystemState,
  startRound,
  stepRound,
} from '../../src/index.js'
import { acsToolkit } from '../support/adversarial-acs.js'
import { type AdversaryToolkit, type Machine, runAdversarial, type StepOutcome } from '../support/adversarial-scheduler.js'
import { testCrypto } from '../support/solar-system-sim.js'

const SEEDS = Number(process.env['CONSENSUS_TWINS_SEEDS'] ?? 200)
/** Members beyond the facilitators; one of them signs two different checkpoints for one position. */
const EXTRA_MEMBERS = 3

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

interface Fixture {
  readonly keyPairs: ReadonlyMap<string, KeyPair>
  readonly facilitators: readonly string[]
  readonly state: SolarSystemState
  readonly rules: ReturnType<typeof defaultSolarSystemRules>
  /** Every member's round-1 checkpoint; the double-signer's second one in `conflicting`. */
  readonly checkpoints: readonly HalfBlock[]
  readonly conflicting: HalfBlock
  readonly signedHashes: ReadonlySet<string>
}

const fixtures = new Map<number, Fixture>()

function fixture(n: number): Fixture {
  const held = fixtures.get(n)
  if (held !== undefined) return held
  const pairs = Array.from({ length: n + EXTRA_MEMBERS }, (_, i) => crypto.keyPairFromSeed(new Uint8Array(32).fill(i + 1)))
  const ids = pairs.map((pair) => toHex(pair.publicKey))
  const facilitators = [...ids].sort().slice(0, n)
  const genesis: SolarSystemGenesis = { level: 0, group: 'twins', members: ids, facilitators }
  const rules = defaultSolarSystemRules({ facilitators: n })
  const state = genesisState(crypto, genesis, rules)
  const checkpoint = (pair: KeyPair, timestamp: number) =>
    createCheckpoint({ crypto, keyPair: pair }, EMPTY_CHAIN_HEAD, { consensusResultHash: state.genesisHash, round: 0, timestamp })
  const checkpoints = pairs.map((pair) => checkpoint(pair, 1))
  const conflicting = checkpoint(pairs.at(-1) as KeyPair, 2)
  const made: Fixture = {
    keyPairs: new Map(pairs.map((pair, i) => [ids[i] as string, pair])),
    facilitators,
    state,
    rules,
    checkpoints,
    conflicting,
    signedHashes: new Set([...checkpoints, conflicting].map((block) => toHex(blockHash(crypto, block)))),
  }
  fixtures.set(n, made)
  return made
}

/** The checkpoints one facilitator hears of: a seeded subset, the double-signer's block in either version. */
function heard(f: Fixture, random: Random): HalfBlock[] {
  const blocks = f.checkpoints.filter(() => random.next() < 0.9)
  if (random.int(2) === 1) blocks.push(f.conflicting)
  return blocks
}

function roundMachine(f: Fixture, id: string, blocks: readonly HalfBlock[]): Machine<RoundMessage, CheckpointCertificate> {
  let state: FacilitatorRoundState = startRound({ crypto, keyPair: f.keyPairs.get(id) as KeyPair, rules: f.rules, seed: f.state })
  const drive = (event: Parameters<typeof stepRound>[1]): StepOutcome<RoundMessage, CheckpointCertificate> => {
    const stepped = stepRound(state, event)
    state = stepped.state
    const outbox = []
    let output: CheckpointCertificate | undefined
    for (const effect of stepped.effects) {
      if (effect.type === 'send') outbox.push({ to: effect.to, message: effect.message })
      else output = effect.certificate
    }
    return output === undefined ? { outbox } : { outbox, output }
  }
  return {
    start() {
      const outbox = []
      let output: CheckpointCertificate | undefined
      for (const event of [...blocks.map((block) => ({ type: 'checkpoint' as const, block })), { type: 'proposal-timeout' as const }]) {
        const outcome = drive(event)
        outbox.push(...outcome.outbox)
        output ??= outcome.output
      }
      return output === undefined ? { outbox } : { outbox, output }
    },
    receive: (from, message) => drive({ type: 'message', from, message }),
  }
}

function toolkit(f: Fixture, faults: number): AdversaryToolkit<RoundMessage> {
  const acs = acsToolkit(f.facilitators, faults)
  const randomSignature = (random: Random, length = 64) => Uint8Array.from({ length }, () => random.int(256))
  return {
    equivocate: (message, random) => {
      if (message.kind === 'share') return { kind: 'share', signature: randomSignature(random) }
      // A proposal of its own making: forged copies of members' real checkpoints (the real block's content, another
      // signature), both of the double-signer's blocks, and a block from outside the solar system.
      if (message.message.kind === 'init' && random.int(2) === 0) {
        const forged = f.checkpoints.filter(() => random.next() < 0.5).map((block) => ({ ...block, signature: randomSignature(random) }))
        const outsider = createCheckpoint({ crypto, keyPair: crypto.keyPairFromSeed(randomSignature(random, 32)) }, EMPTY_CHAIN_HEAD, {
          consensusResultHash: f.state.genesisHash,
          round: 0,
          timestamp: 1,
        })
        const value = encodeProposal([...forged, f.checkpoints[0]!, f.conflicting, f.checkpoints.at(-1)!, outsider])
        return { kind: 'acs', message: { ...message.message, value } }
      }
      const variant = acs.equivocate(message.message, random)
      return variant === undefined ? undefined : { kind: 'acs', message: variant }
    },
    garbage: (random) =>
      random.int(3) === 0
        ? ({ kind: 'share', signature: randomSignature(random, random.int(2) === 0 ? 64 : random.int(80)) } as RoundMessage)
        : { kind: 'acs', message: acs.garbage(random) },
    fromBytes: (bytes) => {
      const message = acs.fromBytes(bytes)
      return message === undefined ? undefined : { kind: 'acs', message }
    },
    otherSession: acs.otherSession.map((message) => ({ kind: 'acs', message })),
  }
}

async function violationsOf(f: Fixture, faults: number, seed: number): Promise<{ violations: string[]; description: string }> {
  const byzantineRandom = createRandom(`round-twins/byzantine/${f.facilitators.length}/${seed}`)
  const pool = [...f.facilitators]
  const byzantine = Array.from({ length: faults }, () => pool.splice(byzantineRandom.int(pool.length), 1)[0] as string)
  const inputs = createRandom(`round-twins/inputs/${seed}`)
  const run = runAdversarial<RoundMessage, CheckpointCertificate>({
    seed,
    participants: f.facilitators,
    byzantine,
    honest: (id) => roundMachine(f, id, heard(f, inputs)),
    // Twins hear different checkpoints, so they propose (and sign) different things.
    byzantineCore: (id, copy) => roundMachine(f, id, copy === 0 ? f.checkpoints.slice(0, -1) : [f.conflicting, ...f.checkpoints.slice(1)]),
    toolkit: toolkit(f, faults),
  })
  const violations: string[] = []
  const digests = new Set<string>()
  for (const [id, outputs] of run.outputs) {
    if (outputs.length !== 1) {
      violations.push(`${id.slice(0, 8)} certified ${outputs.length} times`)
      continue
    }
    const certificate = outputs[0] as CheckpointCertificate
    digests.add(toHex(certificateDigest(crypto, certificate.result)))
    const invalid = await checkCertificate(crypto, certificate, f.state.committee)
    if (invalid !== undefined) violations.push(`${id.slice(0, 8)}'s certificate is invalid: ${invalid}`)
  }
  if (digests.size > 1) violations.push(`${digests.size} different certified results`)
  const certificate = [...run.outputs.values()].find((outputs) => outputs.length === 1)?.[0]
  if (certificate !== undefined) {
    const { body } = certificate.result
    const doubleSigner = toHex(f.conflicting.publicKey)
    for (const entry of body.checkpoints) {
      if (!f.signedHashes.has(toHex(entry.hash))) violations.push('a checkpoint nobody signed is certified')
      if (toHex(entry.publicKey) === doubleSigner && body.faults.some((fault) => fault.memeId === doubleSigner)) {
        violations.push('a member proven to double-sign has a checkpoint certified')
      }
    }
    for (const fault of body.faults) {
      if (checkFraudProof(crypto, decodeFraudProof(crypto, fault.proof)) !== undefined) violations.push(`the fraud proof against ${fault.memeId.slice(0, 8)} does not verify`)
    }
    try {
      applyResult(f.rules, f.state, certificate.result, resultHash(crypto, body))
    } catch (error) {
      violations.push(`members refuse the result: ${(error as Error).message}`)
    }
    if (body.checkpoints.length < f.checkpoints.length - 1 - faults - 2) violations.push(`only ${body.checkpoints.length} checkpoints certified`)
  }
  return { violations, description: `n=${f.facilitators.length} t=${faults} seed=${seed} byzantine=${byzantine.map((id) => id.slice(0, 8)).join(',')} ${run.description}` }
}

const CHUNK = 50

describe.each([
  [1, 4],
  [2, 7],
  [5, 16],
])('certified results under Twins, t = %i (n = %i)', (t, n) => {
  // Chunks of 50 seeds keep each test well inside the timeout while the whole configuration runs SEEDS seeds.
  for (let first = 1; first <= SEEDS; first += CHUNK) {
    const last = Math.min(SEEDS, first + CHUNK - 1)
    it(`one certified result per round, never an invalid checkpoint, seeds ${first}–${last}`, async () => {
      const f = fixture(n)
      for (let seed = first; seed <= last; seed++) {
        const { violations, description } = await violationsOf(f, t, seed)
        expect(violations, `${description} — replays exactly: violationsOf(fixture(${n}), ${t}, ${seed})`).toEqual([])
      }
    }, 60_000)
  }
})
