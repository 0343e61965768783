/**
 * The TrustChain protocol engine: a pure state machine, `step(config, state, event) -> { state, effects }`.
 *
 * It never touches the clock, randomness, the store or the network: time arrives in events, randomness is a
 * seeded generator held in the state, and everything else is an effect for the shell (`TrustChainNode`) to perform,
 * whose outcome comes back as a later event. So the same engine runs under a real network and under the seeded
 * simulator, and a run replays exactly. Each kind of event has its step in a file of its own (`step-*.ts`).
 *
 * Initiator: `propose` appends a proposal to the own chain (persisted before it is sent), requests an agreement
 *   from the counterparty and retries with exponential backoff and jitter until an agreement, a rejection or the
 *   deadline. An agreement from any path (response or broadcast) completes the proposal once.
 * Counterparty: a proposal request is validated (ingested); if blocks before it are missing, the proposer's chain
 *   is crawled; then the `shouldSign` policy decides; on yes the agreement is appended, persisted, returned to every
 *   copy of the request, and both halves are broadcast. Duplicates of a proposal in progress join its session;
 *   duplicates of an answered one get the stored agreement again, so a proposal is never countersigned twice.
 * Checkpoint: `checkpoint` appends a checkpoint block (a consensus result's hash and round) at the head, like a
 *   proposal: one event at a time, so it never shares a sequence number with a proposal or an agreement; it is
 *   broadcast once the ledger has stored it.
 * Crawl: `crawl` fetches a range of a chain from a peer and, by the same crawl rounds as the counterparty's, what
 *   its blocks depend on.
 */
import type { EngineConfig } from './engine-config.js'
import type { EngineEvent, StepResult } from './engine-events.js'
import type { EngineState } from './engine-state.js'
import { checkpoint } from './step-checkpoint.js'
import { onDecided } from './step-decided.js'
import { onIngested } from './step-ingested.js'
import { propose } from './step-propose.js'
import { onProposalRequest } from './step-proposal-request.js'
import { beginRangeCrawl } from './step-range-crawl.js'
import { onResponse } from './step-response.js'
import { tick } from './step-tick.js'

/** One step of the engine. Pure: the same config, state and event always give the same result. */
export function step(config: EngineConfig, state: EngineState, event: EngineEvent): StepResult {
  switch (event.type) {
    case 'propose':
      return propose(config, state, event)
    case 'checkpoint':
      return checkpoint(config, state, event)
    case 'crawl':
      return beginRangeCrawl(state, event)
    case 'tick':
      return tick(config, state, event.now)
    case 'proposal-request':
      return onProposalRequest(config, state, event)
    case 'crawl-request':
      return {
        state,
        effects: [{ type: 'serve-range', replyId: event.replyId, publicKey: event.request.publicKey, from: event.request.from, to: event.request.to }],
      }
    case 'broadcast':
      return { state, effects: event.blocks.length === 0 ? [] : [{ type: 'ingest', blocks: event.blocks, purpose: { kind: 'gossip' } }] }
    case 'response':
      return onResponse(state, event)
    case 'ingested':
      return onIngested(config, state, event)
    case 'decided':
      return onDecided(config, state, event)
  }
}
