/**
 * What a round agrees on, made pluggable: the round machine (`startRound`/`stepRound`) is one code path for every
 * level of the hierarchy, and a `RoundInputKind` says what its inputs are and how agreed proposals fold into a result.
 *
 * Level 0 (a solar system): the inputs are members' checkpoint blocks (`checkpointInputs`, the default). Level k > 0
 * (star clusters, galaxies, the universe): the inputs are the certificates of the groups one level down — see
 * `hierarchy/level-inputs.ts`. Either way an input has a source (a member, a child group) and a position in that
 * source's sequence; a facilitator holds the newest input per source, proposes by the kind's priority, and every
 * honest facilitator folds the agreed proposals with the same pure function of the round's seed state.
 */
import type { Crypto } from '@constellation/crypto'
import { toHex } from '@constellation/crypto'
import { type BlockLimits, DEFAULT_BLOCK_LIMITS, encodeBlock } from '@constellation/trustchain'
import type { ForeignSettlement } from '../ledger/transfer-ledger.js'
import { type AnchoredCheckpoint, anchorCheckpoint, encodeProposal, fraudBytes, selectCheckpoints, settlementBytes } from './checkpoint-pool.js'
import { foldAgreement, type FoldOutcome } from './result-fold.js'
import type { SolarSystemRules, SolarSystemState } from './solar-system.js'

/** One waiting input and when (in arrival order) it first came from its source. */
export interface InputEntry<I> {
  readonly block: I
  readonly arrival: number
}

/** The newest waiting input per source. */
export type InputPool<I> = ReadonlyMap<string, InputEntry<I>>

export interface RoundInputKind<I> {
  /** Why `input` cannot be proposed in the round after `seed.round`, or undefined when it can. */
  check(seed: SolarSystemState, input: I): string | undefined
  /** The source the input speaks for: a member (level 0) or a child group (above). */
  sourceOf(input: I): string
  /** Its position in the source's sequence: a newer input replaces an older one in the pool. */
  positionOf(input: I): number
  /** Sources heard from before a facilitator proposes without waiting for its timer. */
  collectionTarget(seed: SolarSystemState): number
  /** Whether an input's source counts towards that target (default: every input does). */
  readonly counts?: (input: I) => boolean
  /** The inputs to propose, highest priority first, within the rules' bounds. */
  select(seed: SolarSystemState, pool: InputPool<I>): I[]
  encodeProposal(inputs: readonly I[]): Uint8Array
  /**
   * The round's result body (and the leaves of the transfers it finalises) from what the agreement decided
   * (proposer -> proposal bytes): a pure function of the seed and `agreed`, so every honest facilitator folds alike.
   * `pool` only saves re-checking what this facilitator already checked in full; it must not change the verdict.
   */
  fold(seed: SolarSystemState, agreed: ReadonlyMap<string, Uint8Array>, pool: InputPool<I>): FoldOutcome
}

/** Adds `input` to the pool unless the pool already holds its source's input at that position or a newer one. */
export function addInput<I>(kind: RoundInputKind<I>, pool: InputPool<I>, input: I, arrival: number): InputPool<I> {
  const source = kind.sourceOf(input)
  const held = pool.get(source)
  if (held !== undefined && kind.positionOf(held.block) >= kind.positionOf(input)) return pool
  const next = new Map(pool)
  // A newer input takes the older one's place in the queue.
  next.set(source, { block: input, arrival: held?.arrival ?? arrival })
  return next
}

/**
 * Level 0: members' checkpoints with the stretches they close (checked in full by the shell on arrival), rebased on
 * the seed's anchors, selected by priority and folded with the transfer ledger; `frauds` are fraud proofs against
 * members (a fork a counterparty reported) and `settlements` transfers across solar systems whose evidence this
 * facilitator checked (see `transfer-ledger.ts`), which it proposes alongside.
 */
export function checkpointInputs(
  crypto: Crypto,
  rules: SolarSystemRules,
  limits: BlockLimits = DEFAULT_BLOCK_LIMITS,
  frauds: readonly Uint8Array[] = [],
  settlements: () => readonly ForeignSettlement[] = () => [],
): RoundInputKind<AnchoredCheckpoint> {
  // The fraud proofs this facilitator holds when the round starts ride in its proposal, and the settlements it holds
  // when it proposes (evidence keeps arriving while the round collects); checkpoints fill the rest.
  const reserved = frauds.length === 0 ? 0 : fraudBytes(frauds)
  return {
    check: (seed, input) => {
      const anchored = anchorCheckpoint(crypto, rules, seed, input)
      return typeof anchored === 'string' ? anchored : undefined
    },
    sourceOf: (input) => toHex(input.block.publicKey),
    positionOf: (input) => input.block.sequenceNumber,
    collectionTarget: (seed) => Math.max(1, seed.members.size - seed.committee.faults),
    select: (seed, pool) => selectCheckpoints(crypto, rules, seed, pool, limits, reserved + settlementBytes(settlements())),
    encodeProposal: (inputs) => encodeProposal(inputs, limits, frauds, settlements()),
    fold: (seed, agreed, pool) =>
      // Blocks in the pool passed the full check on arrival, signature included; the fold need not verify them again.
      foldAgreement({
        crypto,
        rules,
        state: seed,
        committee: seed.committee,
        agreed,
        checked: new Set([...pool.values()].map((entry) => toHex(encodeBlock(entry.block.block, limits)))),
        limits,
      }),
  }
}
