/**
 * What a block that broke no rule still waits for. Carrying value that nothing known can check yet, it is not
 * stored: stored anyway, it could be found invalid once the gap fills (an overspend, a minted amount) and would then
 * make the honest block that fills the gap look wrong. So the ledger refuses it with the retriable
 * MISSING_DEPENDENCY, naming the block to fetch first and where the run of blocks to fetch with it starts. Blocks
 * without value (notes, checkpoints) are stored as partial: their rules are re-checked against their neighbours by
 * whichever block arrives later.
 */
import { toHex } from '@constellation/crypto'
import { type BlockKey, type HalfBlock, isAgreement, isVoid } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { ValidationReason, type ValidationResult } from '../validation/validation-result.js'
import { BatchView } from './batch-view.js'

/** Whether `missingDependency` has anything to look for: most blocks are checked in full and need no await. */
export function mayMissDependency(validation: ValidationResult): boolean {
  return validation.reasons.includes(ValidationReason.LINK_UNKNOWN) || validation.reasons.includes(ValidationReason.BALANCE_UNCHECKED)
}

/** The block `block` waits for: the proposal it answers, or the nearest unknown block below it with no balance known since. */
export async function missingDependency(view: BatchView, block: HalfBlock, validation: ValidationResult): Promise<BlockKey | undefined> {
  if ((isAgreement(block) || isVoid(block)) && validation.reasons.includes(ValidationReason.LINK_UNKNOWN)) {
    return { publicKey: block.linkPublicKey, sequenceNumber: block.linkSequenceNumber }
  }
  if (!validation.reasons.includes(ValidationReason.BALANCE_UNCHECKED)) return undefined
  // The nearest unknown block below this one: the balance walk stopped there.
  for (let seq = block.sequenceNumber - 1; seq >= 1; seq--) {
    const below = await view.block(block.publicKey, seq)
    if (below === undefined) return { publicKey: block.publicKey, sequenceNumber: seq }
    if (BatchView.statedBalance(below) !== undefined) return undefined
  }
  return undefined
}

/** How far below a missing block the ledger looks for the start of the run to fetch with it (a crawl's largest answer). */
const MISSING_RUN_LOOKBACK = 256

/**
 * The lowest block to fetch together with `missing` so that, once they are stored, the balance before `missing`
 * is known: going down from it, every block not held until a held one that states a balance (blocks held without
 * one, checkpoints, are passed). A crawler asks for this run and nothing it already holds below it.
 */
export async function missingRunStart(view: BatchView, missing: BlockKey): Promise<number> {
  const lowest = Math.max(1, missing.sequenceNumber - MISSING_RUN_LOOKBACK + 1)
  const held = await view.held(missing.publicKey, lowest, missing.sequenceNumber - 1)
  let from = missing.sequenceNumber
  for (let seq = missing.sequenceNumber - 1; seq >= lowest; seq--) {
    const block = held.get(seq)
    if (block === undefined) from = seq
    else if (BatchView.statedBalance(block) !== undefined) break
  }
  return from
}

/** The retriable refusal of `block`, naming the block to fetch first and where the run to fetch with it starts. */
export function missingError(block: HalfBlock, missing: BlockKey, from: number): TrustChainError {
  const name = { publicKey: toHex(missing.publicKey), sequenceNumber: missing.sequenceNumber, from }
  return new TrustChainError(TrustChainErrorCode.MISSING_DEPENDENCY, `block ${name.sequenceNumber} of ${name.publicKey} is needed first`, {
    reasons: [TrustChainErrorCode.MISSING_DEPENDENCY],
    publicKey: toHex(block.publicKey),
    sequenceNumber: block.sequenceNumber,
    missing: name,
  })
}
