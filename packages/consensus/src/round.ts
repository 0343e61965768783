/**
 * @constellation/consensus/round — the pure round machine and the algebra around it, for those who drive a round
 * themselves (a simulator, a shell of their own); `SolarSystemNode` and `LevelNode` in the package root run all of
 * this for you.
 *
 * `startRound(config)` seeds one facilitator's round from the group's state after the round before; `stepRound(state,
 * event)` takes one event (`checkpoint`, `proposal-timeout`, `message`) and returns the next state with its effects
 * (`send`, `certified`), never touching a clock, a socket or a random source. What a round agrees on is a
 * `RoundInputKind`: members' checkpoint blocks (`checkpointInputs`, the default) or, above level 0, the children's
 * certificate runs (`levelInputs` in `@constellation/consensus/hierarchy`). The asynchronous common subset inside
 * is `@constellation/consensus/acs`.
 */
export {
  type AnchoredCheckpoint,
  addToPool,
  type CheckpointPool,
  checkSubmission,
  finishSubmission,
  type PoolEntry,
  planSubmission,
  prunePool,
  type SubmissionCheck,
  type SubmissionPlan,
} from './round/checkpoint-pool.js'
export { MAX_CHECKPOINTS_PER_RESULT, MAX_FACILITATORS, MAX_FAULTS_PER_RESULT } from './round/checkpoint-result.js'
export {
  collectionTarget,
  type FacilitatorRoundState,
  proposeJournalled,
  type RoundConfig,
  type RoundEffect,
  type RoundEvent,
  type RoundMessage,
  type RoundPhase,
  type RoundStep,
  startRound,
  stepRound,
} from './round/facilitator-round.js'
export { type FoldInput, type FoldOutcome, foldAgreement } from './round/result-fold.js'
export { addInput, checkpointInputs, type InputEntry, type InputPool, type RoundInputKind } from './round/round-inputs.js'
export { journalFloor, type ResumedRound, resumeRound } from './round/round-journal.js'
export { applyResult, genesisHashOf, genesisState, nextResult, scheduleMembers, waitedRounds } from './round/solar-system.js'
export {
  applyLedgerDelta,
  AWAITING_ROUNDS,
  FOREIGN_AWAITING_ROUNDS,
  EMPTY_LEDGER_DELTA,
  genesisLedger,
  MAX_LEDGER_ENTRIES_PER_ROUND,
  type SettleInput,
  type Settlement,
  settleLedger,
} from './ledger/transfer-ledger.js'
