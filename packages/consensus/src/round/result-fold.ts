/**
 * The algebra of the round: folds what the agreement decided (proposer -> proposal bytes) into the result body.
 *
 * It is a pure function of the state every honest facilitator shares and of the agreed proposals, so every honest
 * facilitator builds the same body and signs the same hash. A proposal pairs each member checkpoint with the summary
 * of the stretch it closes, which only the facilitators that checked the stretch can vouch for; so a checkpoint is
 * certified only when at least t + 1 agreed proposals carry it with the same summary — one of them from an honest
 * facilitator that checked it — and up to t Byzantine facilitators can never make an invalid stretch certified. Two
 * different checkpoint blocks that one member signed for one position become a fraud proof that docks the member
 * (neither is certified), as does a fraud proof a proposal carries (a fork a counterparty reported: it answered a
 * proposal other than the one the member's certified chain holds at that position); each position docks once. Two
 * different stretches each carried t + 1 times (a fork shown to different facilitators) certify neither. The included summaries then settle the transfer ledger (`settleLedger`), whose delta and the
 * round's finalised transfers the body records. A facilitator whose proposal was not agreed, or did not decode, is
 * observed as faulty.
 */
import { compareBytes, type Crypto, HASH_LENGTH, toHex } from '@constellation/crypto'
import {
  type BlockLimits,
  blockHash,
  createFraudProof,
  decodeBlock,
  decodeFraudProof,
  DEFAULT_BLOCK_LIMITS,
  encodeFraudProof,
  type FraudProof,
  type HalfBlock,
  type StretchSummary,
} from '@constellation/trustchain'
import { deepFreeze } from '../codec/fields.js'
import { decodeStretchSummary, summaryEntries } from '../ledger/stretch-summary-codec.js'
import { type ForeignSettlement, MAX_LEDGER_ENTRIES_PER_ROUND, settleLedger } from '../ledger/transfer-ledger.js'
import { type CheckpointEntry, type FaultRecord, MAX_FAULTS_PER_RESULT, type ObservationRecord, type ResultBody } from './checkpoint-result.js'
import { checkCheckpointBlock, decodeProposal } from './checkpoint-pool.js'
import type { Committee } from './committee.js'
import { anchorOf, fraudPosition, type SolarSystemRules, type SolarSystemState } from './solar-system.js'

export interface FoldInput {
  readonly crypto: Crypto
  readonly rules: SolarSystemRules
  /** The state after round r - 1; the body is round r's. */
  readonly state: SolarSystemState
  /** Round r's facilitators. */
  readonly committee: Committee
  /** What the agreement decided: proposer id -> proposal bytes. */
  readonly agreed: ReadonlyMap<string, Uint8Array>
  readonly limits?: BlockLimits
  /** Wire bytes (hex) of checkpoint blocks this facilitator already checked in full, signature included. */
  readonly checked?: ReadonlySet<string>
}

/** The body, and the leaves of the transfers it finalises (their root is `body.ledger.finalised`). */
export interface FoldOutcome {
  readonly body: ResultBody
  readonly finalised: readonly Uint8Array[]
}

const NO_CHILDREN = new Uint8Array(HASH_LENGTH)

interface Candidate {
  readonly block: HalfBlock
  readonly summaryBytes: Uint8Array
  readonly supporters: Set<string>
}

const settlementKey = (s: ForeignSettlement): string => `${s.kind}/${s.proposer}/${s.sequenceNumber}/${toHex(s.proposal)}/${toHex(s.agreement)}`

/**
 * The settlements at least `quorum` (t + 1) agreed proposals carried, so an honest facilitator checked the evidence
 * of each; one per proposal and kind — of two vouched for alike (a counterparty that signed two agreements) the
 * lowest key, so every facilitator picks the same — in key order.
 */
function vouchedSettlements(
  settling: ReadonlyMap<string, { readonly settlement: ForeignSettlement; readonly carriers: ReadonlySet<string> }>,
  quorum: number,
): ForeignSettlement[] {
  const chosen = new Map<string, ForeignSettlement>()
  for (const key of [...settling.keys()].sort()) {
    const { settlement, carriers } = settling.get(key) as { settlement: ForeignSettlement; carriers: ReadonlySet<string> }
    const position = `${settlement.kind}/${settlement.proposer}/${settlement.sequenceNumber}`
    if (carriers.size >= quorum && !chosen.has(position)) chosen.set(position, settlement)
  }
  return [...chosen.values()]
}

export function foldAgreement(input: FoldInput): FoldOutcome {
  const { crypto, rules, state, committee, agreed } = input
  const limits = input.limits ?? DEFAULT_BLOCK_LIMITS
  const observed = new Map<string, { outcome: ObservationRecord['outcome']; values: Record<string, number> }>()
  const observe = (memeId: string, outcome: ObservationRecord['outcome'], values: Record<string, number>) => {
    const held = observed.get(memeId)
    if (held === undefined) return void observed.set(memeId, { outcome, values })
    // One record per meme: values add up, and a bad outcome outweighs a good one.
    for (const [name, value] of Object.entries(values)) held.values[name] = (held.values[name] ?? 0) + value
    if (outcome === 'bad' || held.outcome === 'neutral') held.outcome = outcome
  }

  const checked = input.checked ?? new Set<string>()
  // Fraud proofs the proposals carry, each distinct one once, with the proposers that carried it.
  const reported = new Map<string, { readonly bytes: Uint8Array; readonly carriers: string[] }>()
  // Settlements across solar systems, each distinct one with the proposers that carried it.
  const settling = new Map<string, { readonly settlement: ForeignSettlement; readonly carriers: Set<string> }>()
  // Every distinct copy decoded once; candidates by member, then by (block, summary).
  const decoded = new Map<string, HalfBlock | undefined>()
  const candidates = new Map<string, Map<string, Candidate>>()
  const positions = new Map<string, Map<number, Map<string, HalfBlock>>>()
  for (const proposer of committee.facilitators) {
    const bytes = agreed.get(proposer)
    if (bytes === undefined) {
      observe(proposer, 'bad', { roundsFaulty: 1 })
      continue
    }
    let honest = true
    try {
      const proposal = decodeProposal(rules, bytes, limits)
      for (const proof of proposal.frauds) {
        const key = toHex(proof)
        const held = reported.get(key) ?? { bytes: proof, carriers: [] }
        held.carriers.push(proposer)
        reported.set(key, held)
      }
      for (const settlement of proposal.settlements ?? []) {
        const key = settlementKey(settlement)
        const held = settling.get(key) ?? { settlement, carriers: new Set<string>() }
        held.carriers.add(proposer)
        settling.set(key, held)
      }
      for (const [wireBytes, summaryBytes] of proposal.checkpoints) {
        const wire = toHex(wireBytes)
        if (!decoded.has(wire)) {
          let block: HalfBlock | undefined
          try {
            block = decodeBlock(crypto, wireBytes, limits)
          } catch {
            block = undefined
          }
          // Each distinct copy's signature is checked once (unless this facilitator checked it already): a proposer
          // that forges a copy of a member's block is blamed for it, and the copy proves nothing against the member.
          const usable =
            block?.type === 'checkpoint' &&
            state.members.has(toHex(block.publicKey)) &&
            (checked.has(wire) || crypto.verify(block.signature, blockHash(crypto, block), block.publicKey))
          decoded.set(wire, usable ? block : undefined)
        }
        const block = decoded.get(wire)
        if (block === undefined) {
          honest = false
          continue
        }
        const member = toHex(block.publicKey)
        const hash = toHex(blockHash(crypto, block))
        const key = `${hash}/${toHex(crypto.sha256(summaryBytes))}`
        const byMember = candidates.get(member) ?? new Map<string, Candidate>()
        candidates.set(member, byMember)
        const candidate = byMember.get(key) ?? { block, summaryBytes, supporters: new Set<string>() }
        candidate.supporters.add(proposer)
        byMember.set(key, candidate)
        const bySequence = positions.get(member) ?? new Map<number, Map<string, HalfBlock>>()
        positions.set(member, bySequence)
        const atPosition = bySequence.get(block.sequenceNumber) ?? new Map<string, HalfBlock>()
        atPosition.set(hash, block)
        bySequence.set(block.sequenceNumber, atPosition)
      }
    } catch {
      honest = false
    }
    observe(proposer, honest ? 'good' : 'bad', honest ? { roundsServed: 1 } : { roundsFaulty: 1 })
  }

  const faults: FaultRecord[] = []
  // One fault per member per result, and one per position ever (within FRAUD_MEMORY_ROUNDS): a fork docks once.
  const faulted = new Set<string>()
  const record = (member: string, sequenceNumber: number, proof: () => Uint8Array) => {
    if (faults.length >= MAX_FAULTS_PER_RESULT || faulted.has(member) || state.provenFrauds.has(fraudPosition(member, sequenceNumber))) return
    faulted.add(member)
    faults.push({ memeId: member, kind: 'double-sign', sequenceNumber, proof: proof() })
    observe(member, 'bad', { provenFrauds: 1 })
  }
  const chosen: { member: string; block: HalfBlock; summary: StretchSummary }[] = []
  for (const member of [...candidates.keys()].sort()) {
    // Two checkpoint blocks the member signed for one position: neither is certified. Past the cap a result can carry,
    // the proof waits: the member's conflicting blocks are still in the pools, so a later round records it.
    const conflict = [...(positions.get(member)?.values() ?? [])].find((blocks) => blocks.size > 1)
    if (conflict !== undefined) {
      const [a, b] = [...conflict.values()].sort((x, y) => compareBytes(blockHash(crypto, x), blockHash(crypto, y))) as [HalfBlock, HalfBlock]
      record(member, a.sequenceNumber, () => encodeFraudProof(createFraudProof(crypto, 'double-sign', a, b), limits))
      continue
    }
    const backed = [...(candidates.get(member)?.values() ?? [])].filter((candidate) => candidate.supporters.size >= committee.faults + 1)
    if (backed.length !== 1) {
      // Two stretches each vouched for by t + 1: the member showed facilitators different chains. Neither counts.
      if (backed.length > 1) observe(member, 'bad', { roundsFaulty: 1 })
      continue
    }
    const candidate = backed[0] as Candidate
    if (checkCheckpointBlock(crypto, rules, state, candidate.block, { signatureChecked: true }) !== undefined) continue
    let summary: StretchSummary
    try {
      summary = decodeStretchSummary(candidate.block.publicKey, candidate.summaryBytes)
    } catch {
      continue
    }
    // What an honest facilitator would have checked; with t + 1 copies one did, so this only guards against a bug.
    const anchor = anchorOf(state, member)
    if (
      anchor === undefined ||
      summary.anchor !== anchor.sequenceNumber ||
      summary.head.sequenceNumber !== candidate.block.sequenceNumber ||
      toHex(summary.head.hash) !== toHex(blockHash(crypto, candidate.block)) ||
      summary.spent > anchor.spendable
    ) {
      continue
    }
    chosen.push({ member, block: candidate.block, summary })
  }

  // Forks reported as fraud proofs (a counterparty answered a proposal the member's certified chain does not hold):
  // each checked here, signatures included — it is rare, and a single proposal suffices because the proof is
  // self-contained. A proof that does not hold blames the proposers that carried it.
  for (const [, { bytes, carriers }] of [...reported].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let proof: FraudProof | undefined
    try {
      proof = decodeFraudProof(crypto, bytes, limits)
    } catch {
      proof = undefined
    }
    if (proof === undefined || proof.kind !== 'double-sign' || !state.members.has(toHex(proof.publicKey))) {
      for (const carrier of carriers) observe(carrier, 'bad', { roundsFaulty: 1 })
      continue
    }
    record(toHex(proof.publicKey), proof.first.sequenceNumber, () => encodeFraudProof(proof, limits))
  }

  // Within the ledger work one result may carry; members past it wait for the next round (ascending, so alike everywhere).
  // Settlements come first (each closes an entry and may add a leaf), at most half the budget.
  const settlements = vouchedSettlements(settling, committee.faults + 1).slice(0, MAX_LEDGER_ENTRIES_PER_ROUND / 2)
  const included: typeof chosen = []
  let entries = settlements.length
  for (const item of chosen) {
    const count = summaryEntries(item.summary)
    if (entries + count > MAX_LEDGER_ENTRIES_PER_ROUND) continue
    entries += count
    included.push(item)
  }
  const certifiedThrough = new Map(included.map((item) => [item.member, item.block.sequenceNumber]))
  const { delta, leaves } = settleLedger({
    crypto,
    ledger: state.ledger,
    round: state.round + 1,
    certifiedThrough: (member) => certifiedThrough.get(member) ?? state.lastCheckpoints.get(member)?.entry.sequenceNumber ?? 0,
    stretches: included.map(({ member, summary }) => ({ member, summary })),
    isMember: (key) => state.members.has(key),
    settlements,
  })
  const checkpoints: CheckpointEntry[] = included.map(({ block, summary }) => ({
    publicKey: block.publicKey,
    sequenceNumber: block.sequenceNumber,
    hash: blockHash(crypto, block),
    balance: summary.head.balance,
  }))
  for (const { member } of included) observe(member, 'neutral', { uptime: 1 })
  checkpoints.sort((a, b) => compareBytes(a.publicKey, b.publicKey))
  faults.sort((a, b) => (a.memeId < b.memeId ? -1 : a.memeId > b.memeId ? 1 : 0))
  const observations: ObservationRecord[] = [...observed.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([memeId, { outcome, values }]) => ({ memeId, outcome, values }))
  const body: ResultBody = deepFreeze({
    level: state.genesis.level,
    group: state.genesis.group,
    round: state.round + 1,
    previousResultHash: state.resultHash,
    checkpoints,
    observations,
    faults,
    children: NO_CHILDREN,
    ledger: delta,
  })
  return { body, finalised: leaves }
}
