/**
 * @constellation/trustchain/engine — the pure protocol engine, for those who drive it themselves (a simulator, a
 * shell of their own); `createTrustChainNode` in the package root drives it for you.
 *
 * `step(config, state, event)` takes one event (a proposal, checkpoint or crawl asked for; a peer's request, broadcast
 * or response; the outcome of an ingest or of the signing policy; the time) and returns the next state with the
 * effects its driver performs (ingest, request, reply, serve a range, broadcast, decide, wake, settle), whose outcomes
 * come back as events. It never touches a clock, a socket, a store or a random source: time comes in the events and
 * the retry jitter's generator is seeded state (`initialEngineState`). Blocks travel decoded; on the network they go
 * in `@constellation/trustchain/wire`'s messages.
 */
export type { EngineConfig } from './protocol/engine/engine-config.js'
export { type EngineState, initialEngineState } from './protocol/engine/engine-state.js'
export type {
  CheckpointSettlement,
  Correlation,
  CrawlSettlement,
  DecodedResponse,
  EngineEffect,
  EngineEvent,
  IngestPurpose,
  OutgoingRequest,
  Settlement,
  StepResult,
} from './protocol/engine/engine-events.js'
export { step } from './protocol/engine/step.js'
