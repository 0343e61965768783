/**
 * What to fetch next when a batch of blocks could not be checked for want of others: the ledger names, for each
 * block it refuses with MISSING_DEPENDENCY, the block it needs and the run of blocks it lacks below it. The engine's
 * crawl rounds (`crawl-rounds.ts`) are planned with these pure functions.
 */
import { fromHex, toHex } from '@constellation/crypto'
import type { HalfBlock } from '../../block/half-block.js'
import { TrustChainErrorCode } from '../../errors.js'
import type { IngestOutcome } from '../../ledger/ledger.js'
import { positionKey } from '../../store/position-key.js'

/** Crawl rounds one dependency search may take, and chains one round may ask for, unless configured. */
export const DEFAULT_MAX_CRAWL_ROUNDS = 8
export const DEFAULT_MAX_CRAWL_CHAINS = 8

/** A block to fetch (`sequenceNumber`) and the lowest one to fetch with it (`from`). */
export interface MissingRun {
  readonly publicKey: Uint8Array
  readonly sequenceNumber: number
  readonly from: number
}

/**
 * The block a MISSING_DEPENDENCY rejection names, if the outcome is one, with the start of the run of blocks the
 * ledger lacks below it (`missing.from`; without it, the block alone).
 */
export function missingOf(outcome: IngestOutcome): MissingRun | undefined {
  if (outcome.status !== 'rejected' || outcome.error.code !== TrustChainErrorCode.MISSING_DEPENDENCY) return undefined
  const missing = outcome.error.detail.missing as { publicKey?: unknown; sequenceNumber?: unknown; from?: unknown } | undefined
  if (typeof missing?.publicKey !== 'string' || typeof missing.sequenceNumber !== 'number') return undefined
  const from = typeof missing.from === 'number' && missing.from >= 1 && missing.from <= missing.sequenceNumber ? missing.from : missing.sequenceNumber
  return { publicKey: fromHex(missing.publicKey), sequenceNumber: missing.sequenceNumber, from }
}

/** Blocks of an ingest that wait for a missing dependency: kept for the next try. */
export const heldOf = (outcomes: readonly IngestOutcome[]): HalfBlock[] =>
  outcomes.flatMap((outcome) => (outcome.status === 'rejected' && outcome.block !== undefined && missingOf(outcome) !== undefined ? [outcome.block] : []))

/**
 * What the next crawl round asks for: for each chain with missing blocks named, in order of first mention, the
 * span from the lowest block of their runs to the highest block named, at most `maxChains` chains. Only what the
 * ledger lacks: blocks it holds below a run are not fetched (and checked) again.
 */
export function crawlTargets(maxChains: number, outcomes: readonly IngestOutcome[]): MissingRun[] {
  // A block named missing that is itself held (waiting for its own dependency, named by its own outcome) is not
  // fetched again: a second copy would only be verified a second time.
  const held = new Set(heldOf(outcomes).map((block) => positionKey(block.publicKey, block.sequenceNumber)))
  const byChain = new Map<string, MissingRun>()
  for (const outcome of outcomes) {
    const missing = missingOf(outcome)
    if (missing === undefined || held.has(positionKey(missing.publicKey, missing.sequenceNumber))) continue
    const chain = toHex(missing.publicKey)
    const known = byChain.get(chain)
    if (known === undefined) {
      if (byChain.size < maxChains) byChain.set(chain, missing)
    } else {
      byChain.set(chain, {
        publicKey: known.publicKey,
        sequenceNumber: Math.max(known.sequenceNumber, missing.sequenceNumber),
        from: Math.min(known.from, missing.from),
      })
    }
  }
  return [...byChain.values()]
}

/** The range one crawl request asks for to cover `missing`: ending at the block needed, at most `maxBlocks` long. */
export function crawlRange(missing: MissingRun, maxBlocks: number): { readonly from: number; readonly to: number } {
  return { from: Math.max(missing.from, missing.sequenceNumber - maxBlocks + 1), to: missing.sequenceNumber }
}
