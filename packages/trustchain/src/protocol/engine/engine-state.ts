/**
 * The protocol engine's state: the own chain's head, our proposals awaiting an agreement, proposals to us being
 * decided, range crawls under way, and the seeded generator. Immutable: each step returns the next state.
 */
import { toHex } from '@constellation/crypto'
import type { PeerId } from '@constellation/interface'
import type { ChainHead } from '../../block/block-builder.js'
import type { HalfBlock } from '../../block/half-block.js'
import type { IngestOutcome } from '../../ledger/ledger.js'

/** One round: a request per chain named missing, all sent at once, ingested together once all are answered. */
export interface CrawlRound {
  /** Answers still to come. */
  readonly awaiting: number
  /** Blocks the answers so far brought. */
  readonly fetched: readonly HalfBlock[]
}

/** Where a search for missing blocks stands (see `crawl-rounds.ts`). */
export interface CrawlSearch {
  /** Rounds made so far (bounded by `maxCrawlRounds`). */
  readonly crawls: number
  /** Blocks the ledger refused for a missing dependency, tried again once the round that fetches it is in. */
  readonly held: readonly HalfBlock[]
  /** The round under way, if any. */
  readonly round?: CrawlRound
}

/** Our proposal awaiting an agreement; its crawl search fetches what the counterparty's agreement depends on. */
export interface PendingProposal extends CrawlSearch {
  readonly requestId: number
  readonly proposal: HalfBlock
  readonly counterparty: PeerId
  readonly attempts: number
  readonly nextAttemptAt: number
  readonly deadline: number
}

/** A proposal to us being decided; its crawl search fetches the proposer's chain before it. */
export interface SigningSession extends CrawlSearch {
  readonly proposal: HalfBlock
  readonly from: PeerId
  /** Every copy of the request waiting for the answer. */
  readonly replyIds: readonly number[]
  /** Our agreement, signed and being stored; answered once the ledger has stored it. */
  readonly agreement?: HalfBlock
  /** When the session gives up: a proposer that never answers our crawl must not hold it (and its replies) forever. */
  readonly deadline: number
}

/** A crawl of a range of a chain from `peer`, with what the range depends on (`TrustChainNode.crawl`). */
export interface RangeCrawl extends CrawlSearch {
  readonly peer: PeerId
  /** The outcome of each block of the range, by slot, as the latest round left it; empty until the range is in. */
  readonly asked: readonly IngestOutcome[]
  /** The slot of each block of the range, by position key. */
  readonly slots: ReadonlyMap<string, number>
}

export interface EngineState {
  readonly self: PeerId
  readonly head: ChainHead
  /** Our proposals awaiting an agreement, by proposal hash (hex). */
  readonly proposals: ReadonlyMap<string, PendingProposal>
  /** Proposals to us being decided, by proposal hash (hex). */
  readonly sessions: ReadonlyMap<string, SigningSession>
  /** Range crawls under way, by request id. */
  readonly rangeCrawls: ReadonlyMap<number, RangeCrawl>
  /** State of the seeded generator (mulberry32). */
  readonly random: number
}

export function initialEngineState(options: { publicKey: Uint8Array; head: ChainHead; seed: number }): EngineState {
  return {
    self: toHex(options.publicKey),
    head: options.head,
    proposals: new Map(),
    sessions: new Map(),
    rangeCrawls: new Map(),
    random: options.seed >>> 0,
  }
}

/** A copy of `map` with `key` set to `value`, or removed when `value` is undefined. */
export function withMap<K, V>(map: ReadonlyMap<K, V>, key: K, value: V | undefined): ReadonlyMap<K, V> {
  const copy = new Map(map)
  if (value === undefined) copy.delete(key)
  else copy.set(key, value)
  return copy
}
