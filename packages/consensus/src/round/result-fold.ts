/**
 * The algebra of the round: folds what the agreement decided (proposer -> proposal bytes) into the result body.
 *
 * It is a pure function of the state every honest facilitator shares and of the agreed proposals, so every
 * honest facilitator builds the same body and signs the same hash. The union of the proposals is deduplicated by
 * block hash, the newest checkpoint per member is kept, and two different checkpoint blocks that one member signed
 * for one position become a fraud proof that docks the member (neither block is certified). A facilitator whose
 * proposal was not agreed, or held anything an honest facilitator would not propose, is observed as faulty.
 */
import { compareBytes, type Crypto, HASH_LENGTH, toHex } from '@constellation/crypto'
import { type BlockLimits, blockHash, createFraudProof, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeFraudProof, type HalfBlock } from '@constellation/trustchain'
import { deepFreeze } from '../codec/fields.js'
import { type CheckpointEntry, type FaultRecord, MAX_FAULTS_PER_RESULT, type ObservationRecord, type ResultBody } from './checkpoint-result.js'
import type { Committee } from './committee.js'
import { checkCheckpointBlock, decodeProposal } from './checkpoint-pool.js'
import type { SolarSystemRules, SolarSystemState } from './solar-system.js'

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
  /** Wire bytes (hex) of blocks this facilitator already checked in full, signature included, against `state`. */
  readonly checked?: ReadonlySet<string>
}

const NO_CHILDREN = new Uint8Array(HASH_LENGTH)

/** The block a proposal's copy holds when it passes every check, else undefined. */
function checkCopy(input: FoldInput, wire: Uint8Array, wireKey: string, checked: ReadonlySet<string>, limits: BlockLimits): HalfBlock | undefined {
  let block: HalfBlock
  try {
    block = decodeBlock(input.crypto, wire, limits)
  } catch {
    return undefined
  }
  // A copy byte-for-byte equal to one this facilitator verified in full needs no second signature check; the verdict
  // is the same either way, so facilitators with different pools still fold alike.
  const why = checkCheckpointBlock(input.crypto, input.rules, input.state, block, { signatureChecked: checked.has(wireKey) })
  return why === undefined ? block : undefined
}

export function foldAgreement(input: FoldInput): ResultBody {
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

  // Every distinct copy once, decoded and checked once: the same checkpoint usually sits in most proposals. Copies
  // are told apart by their wire bytes, signature included: a proposer that forges a copy of a real block is blamed
  // for its copy alone, and the real block, carried by others, is still certified.
  const blocks = new Map<string, HalfBlock>()
  const verdicts = new Map<string, HalfBlock | undefined>()
  const checked = input.checked ?? new Set<string>()
  for (const proposer of committee.facilitators) {
    const bytes = agreed.get(proposer)
    if (bytes === undefined) {
      observe(proposer, 'bad', { roundsFaulty: 1 })
      continue
    }
    let honest = true
    try {
      for (const wire of decodeProposal(rules, bytes, limits)) {
        const wireKey = toHex(wire)
        if (!verdicts.has(wireKey)) verdicts.set(wireKey, checkCopy(input, wire, wireKey, checked, limits))
        const block = verdicts.get(wireKey)
        if (block === undefined) {
          honest = false
          continue
        }
        const key = toHex(blockHash(crypto, block))
        if (!blocks.has(key)) blocks.set(key, block)
      }
    } catch {
      honest = false
    }
    observe(proposer, honest ? 'good' : 'bad', honest ? { roundsServed: 1 } : { roundsFaulty: 1 })
  }

  // Per member: the newest position, unless the member signed two blocks for one position.
  const byMember = new Map<string, HalfBlock[]>()
  for (const block of blocks.values()) {
    const member = toHex(block.publicKey)
    const list = byMember.get(member)
    if (list === undefined) byMember.set(member, [block])
    else list.push(block)
  }
  const checkpoints: CheckpointEntry[] = []
  const faults: FaultRecord[] = []
  for (const [member, list] of byMember) {
    const bySequence = new Map<number, HalfBlock[]>()
    for (const block of list) bySequence.set(block.sequenceNumber, [...(bySequence.get(block.sequenceNumber) ?? []), block])
    const conflict = [...bySequence.values()].find((same) => same.length > 1)
    if (conflict !== undefined) {
      // Neither block is certified. Past the cap a result can carry, the proof waits: the member's conflicting
      // blocks are still in the pools, so a later round records it.
      if (faults.length < MAX_FAULTS_PER_RESULT) {
        const [a, b] = [...conflict].sort((x, y) => compareBytes(blockHash(crypto, x), blockHash(crypto, y))) as [HalfBlock, HalfBlock]
        faults.push({ memeId: member, kind: 'double-sign', proof: encodeFraudProof(createFraudProof(crypto, 'double-sign', a, b), limits) })
        observe(member, 'bad', { provenFrauds: 1 })
      }
      continue
    }
    const newest = list.reduce((a, b) => (b.sequenceNumber > a.sequenceNumber ? b : a))
    checkpoints.push({ publicKey: newest.publicKey, sequenceNumber: newest.sequenceNumber, hash: blockHash(crypto, newest) })
    observe(member, 'neutral', { uptime: 1 })
  }
  checkpoints.sort((a, b) => compareBytes(a.publicKey, b.publicKey))
  faults.sort((a, b) => (a.memeId < b.memeId ? -1 : a.memeId > b.memeId ? 1 : 0))
  const observations: ObservationRecord[] = [...observed.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([memeId, { outcome, values }]) => ({ memeId, outcome, values }))
  return deepFreeze({
    level: state.genesis.level,
    group: state.genesis.group,
    round: state.round + 1,
    previousResultHash: state.resultHash,
    checkpoints,
    observations,
    faults,
    children: NO_CHILDREN,
  })
}
