/**
 * What a facilitator proposes: members' checkpoints with the stretches they close, checked against the solar
 * system's state, latest one per member. When more are waiting than a proposal may carry, Proof of Meme decides the
 * order — a member's score plus the rounds its checkpoint has waited — so a low-reputation member waits longer but is
 * never dropped: its checkpoint stays in the pool and ages until it is served.
 *
 * A member submits its checkpoint block with its stretch: its blocks after its certified anchor, up to and including
 * the checkpoint. The facilitator checks the whole stretch (every signature, the links, the running balances:
 * trustchain's `checkStretch`) before it holds it (`AnchoredCheckpoint`), and proposes the checkpoint with the
 * stretch's summary. A stretch checked against an older anchor is rebased on the newer one when the anchor moved into
 * it (the member's earlier checkpoint got certified meanwhile).
 */
import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import { orderMempool } from '@constellation/meme-reputation'
import {
  type BlockLimits,
  blockHash,
  CheckpointPayloadCodec,
  DEFAULT_BLOCK_LIMITS,
  encodeBlock,
  type HalfBlock,
  type PayloadRegistry,
  extendStretch,
  rebaseStretch,
  stretchFrom,
  type StretchTail,
} from '@constellation/trustchain'
import { equalBytes } from '@constellation/crypto'
import * as t from 'io-ts'
import { bytesUpTo, decodeWith, listUpTo, recordWithOptional } from '../codec/fields.js'
import { type ForeignSettlement, ForeignSettlementCodec } from '../ledger/transfer-ledger.js'
import { MAX_FRAUD_PROOF_BYTES } from './checkpoint-result.js'
import { encodeStretchSummary, MAX_STRETCH_ENTRIES, MAX_SUMMARY_BYTES, summaryEntries } from '../ledger/stretch-summary-codec.js'
import { anchorOf, scoreOf, waitedRounds, type SolarSystemRules, type SolarSystemState } from './solar-system.js'

/** A member's checkpoint block with the stretch it closes, checked in full (signatures included). */
export interface AnchoredCheckpoint {
  readonly block: HalfBlock
  /** The stretch from the anchor it was checked against up to the checkpoint (its last block). */
  readonly tail: StretchTail
}

/** Why `block` cannot be a member's checkpoint in the round after `state.round`, or undefined when it can. */
export function checkCheckpointBlock(
  crypto: Crypto,
  rules: SolarSystemRules,
  state: SolarSystemState,
  block: HalfBlock,
  options: { readonly signatureChecked?: boolean } = {},
): string | undefined {
  if (block.type !== 'checkpoint') return 'not a checkpoint block'
  const member = toHex(block.publicKey)
  if (!state.members.has(member)) return 'its author is not a member of the solar system'
  const payload = CheckpointPayloadCodec.decode(block.payload)
  if (payload._tag === 'Left') return 'its payload is not a checkpoint payload'
  const { round, consensusResultHash, headSequenceNumber } = payload.right
  if (headSequenceNumber !== block.sequenceNumber - 1) return 'it does not record the head just before it'
  // Fixed reasons (no numbers in them): callers count refusals by reason.
  if (round > state.round || round < state.round - rules.maxCheckpointAgeRounds) return 'it records a round outside the accepted window'
  if (state.recentResults.get(round) !== toHex(consensusResultHash)) return 'it records a result that is not that round’s certified result'
  const last = state.lastCheckpoints.get(member)
  if (last !== undefined && block.sequenceNumber <= last.entry.sequenceNumber) return 'it is not newer than the member’s last certified checkpoint'
  if (options.signatureChecked !== true && !crypto.verify(block.signature, blockHash(crypto, block), block.publicKey)) return 'its signature does not verify'
  return undefined
}

/**
 * The anchored checkpoint seen from `state`: its stretch rebased on the member's certified anchor there, and checked
 * against what the member may spend. A reason when it cannot be proposed in the round after `state.round`.
 */
export function anchorCheckpoint(crypto: Crypto, rules: SolarSystemRules, state: SolarSystemState, input: AnchoredCheckpoint): AnchoredCheckpoint | string {
  const why = checkCheckpointBlock(crypto, rules, state, input.block, { signatureChecked: true })
  if (why !== undefined) return why
  const anchor = anchorOf(state, toHex(input.block.publicKey))
  if (anchor === undefined) return 'its author is not a member of the solar system'
  const tail = rebaseStretch(input.tail, anchor)
  if (tail === undefined) return 'its stretch does not continue the member’s certified checkpoint'
  const { head } = tail.summary
  if (head.sequenceNumber !== input.block.sequenceNumber || !equalBytes(head.hash, blockHash(crypto, input.block)))
    return 'its stretch does not end at the checkpoint'
  if (summaryEntries(tail.summary) > MAX_STRETCH_ENTRIES) return 'its stretch moves value too many times for one round'
  if (tail.summary.spent > anchor.spendable) return 'its stretch spends more than the member may'
  return tail === input.tail ? input : { block: input.block, tail }
}

/** What becomes of a member's submission: held for the round, asked again with more blocks, or refused. */
export type SubmissionCheck =
  | { readonly kind: 'anchored'; readonly checkpoint: AnchoredCheckpoint }
  /**
   * It starts past what this node checked of the member's stretch (the member sends only what it believes this node
   * lacks, and this node lost it, or is behind the member's anchor): send the blocks from `from` on.
   */
  | { readonly kind: 'resend'; readonly from: number }
  | { readonly kind: 'refused'; readonly reason: string }

/** Where checking a submission starts: the tail already checked, and the blocks left to check (signatures too). */
export interface SubmissionPlan {
  readonly kind: 'check'
  readonly tail: StretchTail
  readonly rest: readonly HalfBlock[]
}

/**
 * How to check a submission (a member's run of its chain, the new checkpoint last) against `state`: from the member's
 * certified anchor, or from `known` — the member's stretch this node checked before (earlier submissions), rebased
 * on the anchor — so that each block is checked once however many rounds it waits to be certified. A member sends
 * only the blocks after the ones this node acknowledged; a run that starts past what this node holds is answered
 * `resend` (after a restart, or when this node is behind the member's anchor).
 */
export function planSubmission(
  crypto: Crypto,
  state: SolarSystemState,
  blocks: readonly HalfBlock[],
  known?: StretchTail,
): SubmissionPlan | Exclude<SubmissionCheck, { kind: 'anchored' }> {
  const checkpoint = blocks.at(-1)
  if (checkpoint === undefined || checkpoint.type !== 'checkpoint') return { kind: 'refused', reason: 'a submission ends with a checkpoint block' }
  const member = toHex(checkpoint.publicKey)
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i] as HalfBlock
    if (toHex(block.publicKey) !== member || block.sequenceNumber !== checkpoint.sequenceNumber - blocks.length + 1 + i) {
      return { kind: 'refused', reason: 'a submission is a contiguous run of one chain' }
    }
  }
  // A member admitted at the next boundary may checkpoint before this node applied the round that admits it: its
  // stretch then starts at its genesis.
  const anchor =
    anchorOf(state, member) ?? (state.nextMembers?.includes(member) === true ? { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0 } : undefined)
  if (anchor === undefined) return { kind: 'refused', reason: 'the block’s author is not a member' }
  const first = blocks[0] as HalfBlock
  // A run that starts at or below the anchor must hold it, unchanged (one that starts just after it links to it: the
  // stretch check compares the first block's previous hash with the anchor's).
  if (anchor.sequenceNumber > 0 && first.sequenceNumber <= anchor.sequenceNumber) {
    const at = blocks[anchor.sequenceNumber - first.sequenceNumber]
    if (at === undefined || !equalBytes(blockHash(crypto, at), anchor.hash))
      return { kind: 'refused', reason: 'the stretch does not continue the member’s certified checkpoint' }
  }
  const after = blocks.filter((block) => block.sequenceNumber > anchor.sequenceNumber)
  const reused = known === undefined ? undefined : rebaseStretch(known, anchor)
  const start = (after[0] as HalfBlock).sequenceNumber
  if (reused === undefined) {
    // Nothing checked before to build on: the run must start right after the anchor.
    return start === anchor.sequenceNumber + 1
      ? { kind: 'check', tail: stretchFrom(checkpoint.publicKey, anchor), rest: after }
      : { kind: 'resend', from: anchor.sequenceNumber + 1 }
  }
  const held = reused.summary.head.sequenceNumber
  if (start > held + 1) return { kind: 'resend', from: held + 1 }
  // Blocks this node checked before must be the same blocks; the rest is checked from where it stopped.
  const overlap = after.slice(0, held - start + 1)
  for (const block of overlap) {
    const seen = reused.hashes[block.sequenceNumber - anchor.sequenceNumber - 1]
    if (seen === undefined || !equalBytes(blockHash(crypto, block), seen)) {
      // Another chain than the one shown before (a fork, or this node's memory of it is stale): check it from the anchor.
      return start === anchor.sequenceNumber + 1
        ? { kind: 'check', tail: stretchFrom(checkpoint.publicKey, anchor), rest: after }
        : { kind: 'resend', from: anchor.sequenceNumber + 1 }
    }
  }
  if (overlap.length === after.length && held > checkpoint.sequenceNumber) {
    // A shorter run than checked before (an older submission arriving late): checked on its own from the anchor.
    return start === anchor.sequenceNumber + 1
      ? { kind: 'check', tail: stretchFrom(checkpoint.publicKey, anchor), rest: after }
      : { kind: 'resend', from: anchor.sequenceNumber + 1 }
  }
  return { kind: 'check', tail: reused, rest: after.slice(overlap.length) }
}

/** Ends a submission's check: the plan's tail extended with its remaining blocks (`signatures` for `plan.rest`). */
export function finishSubmission(
  crypto: Crypto,
  registry: PayloadRegistry,
  plan: SubmissionPlan,
  signatures: 'all' | 'none' | readonly boolean[],
): SubmissionCheck {
  const check = extendStretch(plan.tail, plan.rest, { crypto, registry, signatures })
  if (!check.ok)
    return { kind: 'refused', reason: `the stretch is refused at block ${check.tail.summary.head.sequenceNumber + 1}: ${check.reasons.join(', ')}` }
  const checkpoint = check.tail.last
  if (checkpoint === undefined || checkpoint.type !== 'checkpoint') return { kind: 'refused', reason: 'a submission ends with a checkpoint block' }
  return { kind: 'anchored', checkpoint: { block: checkpoint, tail: check.tail } }
}

/**
 * Checks a member's submission against `state` in one go: the stretch after its certified anchor, in full
 * (`signatures`: 'all', or 'none' for blocks this node signed itself).
 */
export function checkSubmission(
  crypto: Crypto,
  registry: PayloadRegistry,
  state: SolarSystemState,
  blocks: readonly HalfBlock[],
  signatures: 'all' | 'none' = 'all',
): SubmissionCheck {
  const plan = planSubmission(crypto, state, blocks)
  return plan.kind === 'check' ? finishSubmission(crypto, registry, plan, signatures) : plan
}

export interface PoolEntry {
  readonly block: AnchoredCheckpoint
  readonly arrival: number
}

/** One waiting checkpoint per member, the newest; older ones are covered by it. */
export type CheckpointPool = ReadonlyMap<string, PoolEntry>

export function addToPool(pool: CheckpointPool, input: AnchoredCheckpoint, arrival: number): CheckpointPool {
  const member = toHex(input.block.publicKey)
  const held = pool.get(member)
  if (held !== undefined && held.block.block.sequenceNumber >= input.block.sequenceNumber) return pool
  const next = new Map(pool)
  // A newer checkpoint takes the older one's place in the queue.
  next.set(member, { block: input, arrival: held?.arrival ?? arrival })
  return next
}

/** Drops entries the state has made stale (certified, too old or no longer valid). */
export function prunePool(crypto: Crypto, rules: SolarSystemRules, state: SolarSystemState, pool: CheckpointPool): CheckpointPool {
  const next = new Map<string, PoolEntry>()
  for (const [member, entry] of pool) if (typeof anchorCheckpoint(crypto, rules, state, entry.block) !== 'string') next.set(member, entry)
  return next
}

/** The checkpoints to propose for round `state.round + 1`, highest priority first, rebased, within the rules' bounds. */
export function selectCheckpoints(
  crypto: Crypto,
  rules: SolarSystemRules,
  state: SolarSystemState,
  pool: CheckpointPool,
  limits: BlockLimits = DEFAULT_BLOCK_LIMITS,
  reservedBytes = 0,
): AnchoredCheckpoint[] {
  const ordered = orderMempool(
    rules.mempool,
    [...pool.values()].map((entry) => ({
      key: entry.block,
      score: scoreOf(state, toHex(entry.block.block.publicKey)),
      // Measured from the member's last certified checkpoint, so the wait carries over when the committee changes.
      waitedRounds: waitedRounds(state, toHex(entry.block.block.publicKey)),
      arrival: entry.arrival,
    })),
  )
  // Within the byte bound too: the record and array headers take at most 32 bytes, each pair's headers at most 20.
  const chosen: AnchoredCheckpoint[] = []
  let bytes = 32 + reservedBytes
  for (const input of ordered) {
    if (chosen.length === rules.maxCheckpointsPerProposal) break
    const anchored = anchorCheckpoint(crypto, rules, state, input)
    if (typeof anchored === 'string') continue
    const size = encodeBlock(anchored.block, limits).length + encodeStretchSummary(anchored.tail.summary).length + 20
    if (bytes + size > rules.maxProposalBytes) continue
    bytes += size
    chosen.push(anchored)
  }
  return chosen
}

/** Fraud proofs one proposal carries at most (each up to `MAX_FRAUD_PROOF_BYTES`). */
export const MAX_FRAUDS_PER_PROPOSAL = 16

/** Settlements across solar systems one proposal carries at most. */
export const MAX_SETTLEMENTS_PER_PROPOSAL = 256

const ProposalCodec = (rules: SolarSystemRules, limits: BlockLimits) =>
  recordWithOptional(
    'Proposal',
    {
      checkpoints: listUpTo(
        t.tuple([bytesUpTo(limits.maxBlockBytes, 'BlockBytes'), bytesUpTo(MAX_SUMMARY_BYTES, 'SummaryBytes')]),
        rules.maxCheckpointsPerProposal,
        'Checkpoints',
      ),
      frauds: listUpTo(bytesUpTo(MAX_FRAUD_PROOF_BYTES, 'FraudProofBytes'), MAX_FRAUDS_PER_PROPOSAL, 'Frauds'),
    },
    // Absent when empty, so a proposal without any is encoded as before settlements existed.
    { settlements: listUpTo(ForeignSettlementCodec, MAX_SETTLEMENTS_PER_PROPOSAL, 'Settlements') },
  ) as unknown as t.Type<DecodedProposal, DecodedProposal, unknown>

/**
 * A proposal in wire form: each checkpoint block with its stretch's summary, fraud proofs against members, and the
 * settlements across solar systems whose evidence this facilitator checked.
 */
export interface DecodedProposal {
  readonly checkpoints: [Uint8Array, Uint8Array][]
  readonly frauds: Uint8Array[]
  readonly settlements?: ForeignSettlement[]
}

/**
 * A proposal: each checkpoint block with its stretch's summary, in wire form, and the fraud proofs (encoded, see
 * trustchain's `encodeFraudProof`) this facilitator holds against members and wants recorded.
 */
export function encodeProposal(
  inputs: readonly AnchoredCheckpoint[],
  limits: BlockLimits = DEFAULT_BLOCK_LIMITS,
  frauds: readonly Uint8Array[] = [],
  settlements: readonly ForeignSettlement[] = [],
): Uint8Array {
  return encodeCanonical({
    checkpoints: inputs.map((input) => [encodeBlock(input.block, limits), encodeStretchSummary(input.tail.summary)]),
    frauds: frauds.slice(0, MAX_FRAUDS_PER_PROPOSAL),
    ...(settlements.length === 0 ? {} : { settlements: settlements.slice(0, MAX_SETTLEMENTS_PER_PROPOSAL).map((s) => ForeignSettlementCodec.encode(s)) }),
  })
}

/** The bytes `settlements` take in a proposal (with their headers): kept free of checkpoints when selecting. */
export function settlementBytes(settlements: readonly ForeignSettlement[]): number {
  if (settlements.length === 0) return 0
  // Measured, not estimated: the key's header and the list's are in the encoding, 16 bytes more for the record's.
  return 16 + encodeCanonical({ settlements: settlements.slice(0, MAX_SETTLEMENTS_PER_PROPOSAL).map((s) => ForeignSettlementCodec.encode(s)) }).length
}

/** A proposal's checkpoints (block bytes, summary bytes) and fraud proofs; throws MALFORMED_MESSAGE when it is not one. */
export function decodeProposal(rules: SolarSystemRules, bytes: Uint8Array, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): DecodedProposal {
  return decodeWith(ProposalCodec(rules, limits), bytes, rules.maxProposalBytes, 'proposal')
}

/** The bytes `frauds` take in a proposal (with their headers): kept free of checkpoints when selecting. */
export function fraudBytes(frauds: readonly Uint8Array[]): number {
  return frauds.slice(0, MAX_FRAUDS_PER_PROPOSAL).reduce((sum, proof) => sum + proof.length + 5, 16)
}
