/**
 * The crawl loop, once for every crawl the engine makes: a counterparty's crawl of a proposer before it decides, a
 * proposer's crawl of what an agreement to it depends on, and a crawl of a range the node's user asks for.
 *
 * A search goes round by round. After an ingest, the ledger's MISSING_DEPENDENCY refusals name what to fetch
 * (`crawl-plan.ts`); a round asks the peer for all of it at once, collects every answer, and ingests what they
 * brought followed by the blocks held back for it; that ingest's outcomes plan the next round, until nothing is
 * missing or the rounds run out. Pure: each step keeps its search in the engine state and turns it into effects.
 */
import type { PeerId } from '@constellation/interface'
import type { HalfBlock } from '../../block/half-block.js'
import type { IngestOutcome } from '../../ledger/ledger.js'
import { crawlRange, crawlTargets, type MissingRun } from './crawl-plan.js'
import { type EngineConfig, maxCrawlChainsOf, maxCrawlRoundsOf } from './engine-config.js'
import type { Correlation, EngineEffect } from './engine-events.js'
import type { CrawlRound, CrawlSearch } from './engine-state.js'

/** What the next round asks for after an ingest with these outcomes: nothing when nothing is missing or no round is left. */
export function nextTargets(config: EngineConfig, search: CrawlSearch, outcomes: readonly IngestOutcome[]): MissingRun[] {
  if (search.crawls >= maxCrawlRoundsOf(config)) return []
  return crawlTargets(maxCrawlChainsOf(config), outcomes)
}

/** The search with its next round begun for `targets`; `held` waits for what the round brings. */
export function beginRound<S extends CrawlSearch>(search: S, targets: readonly MissingRun[], held: readonly HalfBlock[]): S {
  return { ...search, crawls: search.crawls + 1, held, round: { awaiting: targets.length, fetched: [] } }
}

/** The requests of a round to `peer`, each ending at the highest block needed, at most `maxCrawlBlocks` long. */
export function roundRequests(
  config: EngineConfig,
  peer: PeerId,
  targets: readonly MissingRun[],
  correlation: Extract<Correlation, { kind: 'crawl' | 'agreement-crawl' | 'range-crawl' }>,
): EngineEffect[] {
  return targets.map((missing) => ({
    type: 'request',
    peer,
    request: { type: 'crawl', publicKey: missing.publicKey, ...crawlRange(missing, config.maxCrawlBlocks) },
    correlation,
  }))
}

/**
 * One answer of round `round` in, with the blocks it brought. Undefined when the answer is not the current round's
 * (a search begun again after a timeout, say). Once the round's last answer is in, the search has no round under way
 * and `ingest` holds the blocks to ingest: the fetched ones, then the held ones, which may depend on them.
 */
export function collectAnswer<S extends CrawlSearch>(
  search: S | undefined,
  round: number,
  blocks: readonly HalfBlock[],
): { readonly search: S; readonly ingest?: readonly HalfBlock[] } | undefined {
  if (search?.round === undefined || search.crawls !== round) return undefined
  const answered: CrawlRound = {
    awaiting: search.round.awaiting - 1,
    fetched: blocks.length === 0 ? search.round.fetched : [...search.round.fetched, ...blocks],
  }
  if (answered.awaiting > 0) return { search: { ...search, round: answered } }
  const { round: _, ...rest } = search
  return { search: rest as S, ingest: [...answered.fetched, ...search.held] }
}
