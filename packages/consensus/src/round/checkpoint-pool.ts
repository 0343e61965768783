/**
 * What a facilitator proposes: the members' checkpoint blocks it holds, checked against the solar system's state,
 * latest one per member. When more are waiting than a proposal may carry, Proof of Meme decides the order — a
 * member's score plus the rounds its checkpoint has waited — so a low-reputation member waits longer but is never
 * dropped: its checkpoint stays in the pool and ages until it is served.
 */
import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import { orderMempool } from '@constellation/meme-reputation'
import { type BlockLimits, blockHash, CheckpointPayloadCodec, DEFAULT_BLOCK_LIMITS, encodeBlock, type HalfBlock } from '@constellation/trustchain'
import * as t from 'io-ts'
import { bytesUpTo, decodeWith, listUpTo } from '../codec/fields.js'
import { scoreOf, waitedRounds, type SolarSystemRules, type SolarSystemState } from './solar-system.js'

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

export interface PoolEntry {
  readonly block: HalfBlock
  readonly arrival: number
}

/** One waiting checkpoint per member, the newest; older ones are covered by it. */
export type CheckpointPool = ReadonlyMap<string, PoolEntry>

export function addToPool(pool: CheckpointPool, block: HalfBlock, arrival: number): CheckpointPool {
  const member = toHex(block.publicKey)
  const held = pool.get(member)
  if (held !== undefined && held.block.sequenceNumber >= block.sequenceNumber) return pool
  const next = new Map(pool)
  // A newer checkpoint takes the older one's place in the queue.
  next.set(member, { block, arrival: held?.arrival ?? arrival })
  return next
}

/** Drops entries the state has made stale (certified, too old or no longer valid). */
export function prunePool(crypto: Crypto, rules: SolarSystemRules, state: SolarSystemState, pool: CheckpointPool): CheckpointPool {
  const next = new Map<string, PoolEntry>()
  for (const [member, entry] of pool) if (checkCheckpointBlock(crypto, rules, state, entry.block) === undefined) next.set(member, entry)
  return next
}

/** The checkpoints to propose for round `state.round + 1`, highest priority first, within the rules' bounds. */
export function selectCheckpoints(rules: SolarSystemRules, state: SolarSystemState, pool: CheckpointPool, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): HalfBlock[] {
  const ordered = orderMempool(
    rules.mempool,
    [...pool.values()].map((entry) => ({
      key: entry.block,
      score: scoreOf(state, toHex(entry.block.publicKey)),
      // Measured from the member's last certified checkpoint, so the wait carries over when the committee changes.
      waitedRounds: waitedRounds(state, toHex(entry.block.publicKey)),
      arrival: entry.arrival,
    })),
  )
  // Within the byte bound too: the array header takes at most 9 bytes, each item's byte-string header at most 9.
  const chosen: HalfBlock[] = []
  let bytes = 9
  for (const block of ordered) {
    if (chosen.length === rules.maxCheckpointsPerProposal) break
    const size = encodeBlock(block, limits).length + 9
    if (bytes + size > rules.maxProposalBytes) continue
    bytes += size
    chosen.push(block)
  }
  return chosen
}

const ProposalCodec = (rules: SolarSystemRules, limits: BlockLimits) =>
  listUpTo(bytesUpTo(limits.maxBlockBytes, 'BlockBytes'), rules.maxCheckpointsPerProposal, 'Proposal') as t.Type<Uint8Array[], Uint8Array[], unknown>

export function encodeProposal(blocks: readonly HalfBlock[], limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array {
  return encodeCanonical(blocks.map((block) => encodeBlock(block, limits)))
}

/** The block bytes of a proposal; throws MALFORMED_MESSAGE when it is not one. */
export function decodeProposal(rules: SolarSystemRules, bytes: Uint8Array, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Uint8Array[] {
  return decodeWith(ProposalCodec(rules, limits), bytes, rules.maxProposalBytes, 'proposal')
}
