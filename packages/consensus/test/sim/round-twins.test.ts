/**
 * Twins at the level of certified results and final transactions: the whole facilitator round (checkpoint
 * collection, ACS, fold, election, signature shares) under the seeded adversarial scheduler, t Byzantine facilitators
 * of n = 3t + 1 running as twins, equivocating, withholding, sending garbage and forged proposals, replaying and
 * delaying forever. The round is round 2: round 1 certified every member's first checkpoint; since then members
 * transacted in pairs, and one member forked its chain — a transfer to one member on one fork, to another on the
 * other, each fork closed by its own checkpoint. Facilitators hold each checkpoint with the stretch it closes,
 * checked as a submission is (`checkSubmission`). On every seed: every honest facilitator certifies, all certificates
 * certify one result, each verifies against the committee, the result certifies only checkpoints members signed (with
 * the balances they state) and never both forks — and of the transactions, no two conflicting ones are ever both
 * final, while a transaction's agreement proof (the halves, the round's certificate, the Merkle path to its finalised
 * leaves) verifies for a third party exactly when both its closing checkpoints are certified.
 * CONSENSUS_TWINS_SEEDS sets the seed count (default 200 per configuration).
 */
import { type Crypto, equalBytes, type KeyPair, type SignedMessage, toHex } from '@constellation/crypto'
import { createRandom, type Random } from '@constellation/gossip'
import {
  advanceHead,
  blockHash,
  type ChainHead,
  checkFraudProof,
  checkStretch,
  createAgreement,
  createCheckpoint,
  createGenesisBlock,
  createProposal,
  decodeFraudProof,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
  openingAnchor,
  PayloadRegistry,
  transferPayload,
} from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type AgreementProof,
  type BatchVerifier,
  buildAgreementProof,
  CertificateHistory,
  certificateDigest,
  type CheckpointCertificate,
  checkAgreementProof,
  checkCertificate,
  committeesOf,
  defaultSolarSystemRules,
  resultHash,
  type SolarSystemGenesis,
  type SolarSystemState,
  transactionLeaf,
} from '../../src/index.js'
import { type AnchoredCheckpoint, applyResult, foldAgreement, genesisState, nextResult, type RoundMessage, startRound } from '../../src/round.js'
import { merkleProof } from '../../src/hierarchy.js'
import { assembleCertificate, checkFinalisedLeaves, signResult, withoutLeaves } from '../../src/round/certificate.js'
import { encodeProposal } from '../../src/round/checkpoint-pool.js'
import { anchored } from '../round/fixtures.js'
import { acsToolkit } from '../support/adversarial-acs.js'
import { type AdversaryToolkit, type Machine, runAdversarial } from '../support/adversarial-scheduler.js'
import { roundMachine } from '../support/round-machine.js'
import { testCrypto } from '../support/solar-system-sim.js'

const SEEDS = Number(process.env.CONSENSUS_TWINS_SEEDS ?? 200)
/** Members beyond the facilitators: the double-signer and the two counterparties of its forks. */
const EXTRA_MEMBERS = 3
/** Every member's genesis balance. */
const BALANCE = 1_000

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

interface Transaction {
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
  /** The checkpoints closing the proposer's and the counterparty's stretches that hold the two halves. */
  readonly closing: readonly [HalfBlock, HalfBlock]
  /** Which of the double-signer's forks it belongs to, if any. */
  readonly fork?: 'a' | 'b'
}

interface Fixture {
  readonly genesis: SolarSystemGenesis
  readonly keyPairs: ReadonlyMap<string, KeyPair>
  readonly facilitators: readonly string[]
  /** The solar system after round 1; round 2 runs under the adversary. */
  readonly state: SolarSystemState
  readonly certificate1: CheckpointCertificate
  readonly rules: ReturnType<typeof defaultSolarSystemRules>
  /**
   * Every member's second checkpoint with the stretch it closes, checked against the state after round 1 (the
   * double-signer's on fork a); its fork-b checkpoint in `conflicting`.
   */
  readonly checkpoints: readonly AnchoredCheckpoint[]
  readonly conflicting: AnchoredCheckpoint
  /** A checkpoint of a chain outside the solar system, with its (checked) one-block stretch. */
  readonly outsider: AnchoredCheckpoint
  /** Hash of each checkpoint block a member signed -> the balance it states. */
  readonly signed: ReadonlyMap<string, number>
  readonly transactions: readonly Transaction[]
}

const fixtures = new Map<number, Fixture>()

function fixture(n: number): Fixture {
  const held = fixtures.get(n)
  if (held !== undefined) return held
  const members = n + EXTRA_MEMBERS
  const pairs = Array.from({ length: members }, (_, i) => crypto.keyPairFromSeed(new Uint8Array(32).fill(i + 1)))
  const ids = pairs.map((pair) => toHex(pair.publicKey))
  const facilitators = [...ids].sort().slice(0, n)
  const genesis: SolarSystemGenesis = { level: 0, group: 'twins', members: ids, facilitators, balances: Object.fromEntries(ids.map((id) => [id, BALANCE])) }
  const rules = defaultSolarSystemRules({ facilitators: n })
  const state0 = genesisState(crypto, genesis, rules)
  const author = (i: number) => ({ crypto, keyPair: pairs[i] as KeyPair })

  // Round 1, certified honestly once: every member's chain is a genesis block and a first checkpoint, submitted as
  // its stretch from block 1; every facilitator proposes them all.
  const chains: HalfBlock[][] = []
  const heads: ChainHead[] = []
  for (let i = 0; i < members; i++) {
    const first = createGenesisBlock(author(i), { balance: BALANCE, timestamp: 0 })
    const afterGenesis = advanceHead(crypto, EMPTY_CHAIN_HEAD, first)
    const cp1 = createCheckpoint(author(i), afterGenesis, { consensusResultHash: state0.genesisHash, round: 0, timestamp: 1 })
    chains.push([first, cp1])
    heads.push(advanceHead(crypto, afterGenesis, cp1))
  }
  const proposal1 = encodeProposal(chains.map((chain) => anchored(crypto, state0, chain)))
  const { body: body1 } = foldAgreement({
    crypto,
    rules,
    state: state0,
    committee: state0.committee,
    agreed: new Map(facilitators.map((id) => [id, proposal1])),
  })
  const { result: result1, state: state1 } = nextResult(rules, state0, body1, resultHash(crypto, body1))
  const byId = new Map(pairs.map((pair, i) => [ids[i] as string, pair]))
  const certificate1 = assembleCertificate(
    result1,
    state0.committee.facilitators.map((id) => signResult(crypto, byId.get(id) as KeyPair, result1)),
    state0.committee,
  )

  // Then transfers in pairs, and the double-signer's two forks, each chain closed by a checkpoint recording round 1;
  // each checkpoint is held with its stretch after the certified one (the transfer's half, if any, and itself).
  const transactions: Transaction[] = []
  const close = (i: number, head: ChainHead) => createCheckpoint(author(i), head, { consensusResultHash: state1.resultHash, round: 1, timestamp: 3 })
  const transfer = (p: number, a: number, head: ChainHead, amount: number) => {
    const proposal = createProposal(author(p), head, { counterparty: pairs[a]!.publicKey, payload: transferPayload(head, amount), timestamp: 2 })
    const agreement = createAgreement(author(a), heads[a] as ChainHead, proposal, { timestamp: 2 })
    return { proposal, agreement }
  }
  const checkpoints: AnchoredCheckpoint[] = new Array(members)
  const [x, y, d] = [members - 3, members - 2, members - 1]
  for (let p = 0; p + 1 < x; p += 2) {
    const { proposal, agreement } = transfer(p, p + 1, heads[p] as ChainHead, 10 + p)
    const cpP = close(p, advanceHead(crypto, heads[p] as ChainHead, proposal))
    const cpA = close(p + 1, advanceHead(crypto, heads[p + 1] as ChainHead, agreement))
    checkpoints[p] = anchored(crypto, state1, [proposal, cpP])
    checkpoints[p + 1] = anchored(crypto, state1, [agreement, cpA])
    transactions.push({ proposal, agreement, closing: [cpP, cpA] })
  }
  for (let i = 0; i < x; i++) checkpoints[i] ??= anchored(crypto, state1, [close(i, heads[i] as ChainHead)])
  const fork = (to: number, label: 'a' | 'b') => {
    const { proposal, agreement } = transfer(d, to, heads[d] as ChainHead, label === 'a' ? 700 : 900)
    const cpD = close(d, advanceHead(crypto, heads[d] as ChainHead, proposal))
    const cpTo = close(to, advanceHead(crypto, heads[to] as ChainHead, agreement))
    checkpoints[to] = anchored(crypto, state1, [agreement, cpTo])
    transactions.push({ proposal, agreement, closing: [cpD, cpTo], fork: label })
    return anchored(crypto, state1, [proposal, cpD])
  }
  checkpoints[d] = fork(x, 'a')
  const conflicting = fork(y, 'b')
  const outsiderKey = crypto.keyPairFromSeed(new Uint8Array(32).fill(0xee))
  const outsiderBlock = createCheckpoint({ crypto, keyPair: outsiderKey }, EMPTY_CHAIN_HEAD, {
    consensusResultHash: state0.genesisHash,
    round: 0,
    timestamp: 1,
  })
  const outsiderStretch = checkStretch(outsiderKey.publicKey, openingAnchor(0), [outsiderBlock], { crypto, registry: new PayloadRegistry() })
  if (!outsiderStretch.ok) throw new Error(`the outsider's stretch: ${outsiderStretch.reasons.join(', ')}`)
  const made: Fixture = {
    genesis,
    keyPairs: byId,
    facilitators: state1.committee.facilitators,
    state: state1,
    certificate1,
    rules,
    checkpoints,
    conflicting,
    outsider: { block: outsiderBlock, tail: outsiderStretch.tail },
    signed: new Map([...checkpoints, conflicting].map((input) => [toHex(blockHash(crypto, input.block)), input.tail.summary.head.balance])),
    transactions,
  }
  fixtures.set(n, made)
  return made
}

/** Signature checks remembered across seeds: the same certificates recur in every run. */
const verified = new Map<string, boolean>()
const cachedVerifier: BatchVerifier = (items: readonly SignedMessage[]) =>
  items.map((item) => {
    const key = `${toHex(item.publicKey)}:${toHex(item.message)}:${toHex(item.signature)}`
    let ok = verified.get(key)
    if (ok === undefined) {
      ok = crypto.verify(item.signature, item.message, item.publicKey)
      verified.set(key, ok)
    }
    return ok
  })

/**
 * The checkpoints one facilitator hears of: a seeded subset in a seeded order, the double-signer's block in either
 * version (its fork-b block, if at all, after the rest). A facilitator proposes once it has heard N - t members, and a
 * checkpoint needs t + 1 proposals carrying it: in one fixed order for all, the last members would never get them.
 */
function heard(f: Fixture, random: Random): AnchoredCheckpoint[] {
  const inputs = f.checkpoints.filter(() => random.next() < 0.9)
  for (let i = inputs.length - 1; i > 0; i--) {
    const j = random.int(i + 1)
    ;[inputs[i], inputs[j]] = [inputs[j] as AnchoredCheckpoint, inputs[i] as AnchoredCheckpoint]
  }
  if (random.int(2) === 1) inputs.push(f.conflicting)
  return inputs
}

function facilitatorMachine(f: Fixture, id: string, inputs: readonly AnchoredCheckpoint[]): Machine<RoundMessage, CheckpointCertificate> {
  return roundMachine(startRound({ crypto, keyPair: f.keyPairs.get(id) as KeyPair, rules: f.rules, seed: f.state }), inputs)
}

function toolkit(f: Fixture, faults: number): AdversaryToolkit<RoundMessage> {
  const acs = acsToolkit(f.facilitators, faults)
  const randomSignature = (random: Random, length = 64) => Uint8Array.from({ length }, () => random.int(256))
  return {
    equivocate: (message, random) => {
      if (message.kind === 'share') return { kind: 'share', signature: randomSignature(random) }
      // A proposal of its own making: forged copies of members' real checkpoints (the real block's content, another
      // signature), both of the double-signer's blocks, a block from outside the solar system, and a real checkpoint
      // with a summary that is not its stretch's (another member's).
      if (message.message.kind === 'init' && random.int(2) === 0) {
        const forged = f.checkpoints
          .filter(() => random.next() < 0.5)
          .map((input) => ({ block: { ...input.block, signature: randomSignature(random) }, tail: input.tail }))
        const misSummarised = { block: f.checkpoints[0]!.block, tail: f.checkpoints[1]!.tail }
        const value = encodeProposal([...forged, f.checkpoints[0]!, f.conflicting, f.checkpoints.at(-1)!, f.outsider, misSummarised])
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

async function violationsOf(f: Fixture, faults: number, seed: number): Promise<{ violations: string[]; description: string; final: ReadonlySet<string> }> {
  const byzantineRandom = createRandom(`round-twins/byzantine/${f.facilitators.length}/${seed}`)
  const pool = [...f.facilitators]
  const byzantine = Array.from({ length: faults }, () => pool.splice(byzantineRandom.int(pool.length), 1)[0] as string)
  const inputs = createRandom(`round-twins/inputs/${seed}`)
  const run = runAdversarial<RoundMessage, CheckpointCertificate>({
    seed,
    participants: f.facilitators,
    byzantine,
    honest: (id) => facilitatorMachine(f, id, heard(f, inputs)),
    // Twins hear different checkpoints, so they propose (and sign) different things.
    byzantineCore: (id, copy) => facilitatorMachine(f, id, copy === 0 ? f.checkpoints.slice(0, -1) : [f.conflicting, ...f.checkpoints.slice(1)]),
    toolkit: toolkit(f, faults),
  })
  const violations: string[] = []
  const final = new Set<'a' | 'b' | 'honest'>()
  const digests = new Set<string>()
  for (const [id, outputs] of run.outputs) {
    if (outputs.length !== 1) {
      violations.push(`${id.slice(0, 8)} certified ${outputs.length} times`)
      continue
    }
    const certificate = outputs[0] as CheckpointCertificate
    digests.add(toHex(certificateDigest(crypto, certificate.result)))
    const invalid = await checkCertificate(crypto, certificate, f.state.committee, cachedVerifier)
    if (invalid !== undefined) violations.push(`${id.slice(0, 8)}'s certificate is invalid: ${invalid}`)
  }
  if (digests.size > 1) violations.push(`${digests.size} different certified results`)
  const certificate = [...run.outputs.values()].find((outputs) => outputs.length === 1)?.[0]
  if (certificate !== undefined) {
    const { body } = certificate.result
    const doubleSigner = toHex(f.conflicting.block.publicKey)
    for (const entry of body.checkpoints) {
      const stated = f.signed.get(toHex(entry.hash))
      if (stated === undefined) violations.push('a checkpoint nobody signed is certified')
      else if (entry.balance !== stated) violations.push(`a checkpoint is certified with balance ${entry.balance}, its block states ${stated}`)
      if (toHex(entry.publicKey) === doubleSigner && body.faults.some((fault) => fault.memeId === doubleSigner)) {
        violations.push('a member proven to double-sign has a checkpoint certified')
      }
    }
    for (const fault of body.faults) {
      if (checkFraudProof(crypto, decodeFraudProof(crypto, fault.proof)) !== undefined)
        violations.push(`the fraud proof against ${fault.memeId.slice(0, 8)} does not verify`)
    }
    try {
      applyResult(f.rules, f.state, certificate.result, resultHash(crypto, body))
    } catch (error) {
      violations.push(`members refuse the result: ${(error as Error).message}`)
    }
    if (body.checkpoints.length < f.checkpoints.length - 1 - faults - 2) violations.push(`only ${body.checkpoints.length} checkpoints certified`)

    // Finality as a third party sees it, from the genesis and the two certificates: the proof a node builds from the
    // certificate's finalised leaves, or — for a transfer the round did not finalise — the best a liar has, the path
    // of another transfer of the round.
    const leavesProblem = checkFinalisedLeaves(crypto, certificate)
    if (leavesProblem !== undefined) violations.push(`the certificate's finalised leaves: ${leavesProblem}`)
    const leaves = certificate.finalised ?? []
    const history = new CertificateHistory(crypto, f.genesis)
    history.append(crypto, f.certificate1)
    history.append(crypto, certificate)
    for (const tx of f.transactions) {
      const halves = { proposal: tx.proposal, agreement: tx.agreement }
      const leaf = transactionLeaf(crypto, halves)
      const proof: AgreementProof = leaves.some((candidate) => equalBytes(candidate, leaf))
        ? buildAgreementProof(crypto, halves, certificate)
        : {
            ...halves,
            certificate: withoutLeaves(certificate),
            path: leaves.length > 0 ? merkleProof(crypto, leaves, 0) : { index: 0, leaves: 1, siblings: [] },
          }
      const why = await checkAgreementProof(crypto, proof, committeesOf(history), cachedVerifier)
      const certifiedBoth = tx.closing.every((block) => body.checkpoints.some((e) => toHex(e.hash) === toHex(blockHash(crypto, block))))
      if ((why === undefined) !== certifiedBoth)
        violations.push(`a transaction's proof ${why === undefined ? 'verifies without' : `fails (${why}) despite`} both closing checkpoints certified`)
      if (why === undefined) final.add(tx.fork ?? 'honest')
    }
    if (final.has('a') && final.has('b')) violations.push('both forks of the double-signer are final: a double spend')
  }
  return {
    final,
    violations,
    description: `n=${f.facilitators.length} t=${faults} seed=${seed} byzantine=${byzantine.map((id) => id.slice(0, 8)).join(',')} ${run.description}`,
  }
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
    it(`one certified result, only signed checkpoints, no double spend ever final, seeds ${first}–${last}`, async () => {
      const f = fixture(n)
      const seen = new Set<string>()
      for (let seed = first; seed <= last; seed++) {
        const { violations, description, final } = await violationsOf(f, t, seed)
        expect(violations, `${description} — replays exactly: violationsOf(fixture(${n}), ${t}, ${seed})`).toEqual([])
        for (const kind of final) seen.add(kind)
      }
      // Not vacuous: honest transfers became final, and so did one fork or the other on some seeds.
      expect(seen.has('honest')).toBe(true)
      expect(seen.has('a') || seen.has('b')).toBe(true)
    }, 60_000)
  }
})
