/**
 * @constellation/meme-reputation — Proof of Meme: reputation as feature vectors, scores, brackets and a
 * deterministic election; usable on its own to rank servers, peers, workers or sellers.
 *
 * Data flow: a `FeatureSchema` says what describes a participant; each participant is a `Meme` (id + features +
 * history). Observations and proven faults update memes (`updateMemes`); a `Scorer` maps a meme to a score in
 * [0, 1] with an explanation (`explainScore`, `scoreMemes`); `electCommittee` groups scores into brackets and
 * elects seats from public hashes, and `runElection` runs the four steps of a round at once. State is stored
 * with `encodeMemeState` / `decodeMemeState`. Nothing here performs I/O or reads a clock or a random source.
 */
export { isMemeReputationError, MemeReputationError, MemeReputationErrorCode } from './errors.js'
export { MAX_MEME_ID_LENGTH } from './check.js'
export {
  defineFeatureSchema,
  type FeatureAggregate,
  type FeatureDirection,
  featureIndex,
  type FeatureSchema,
  type FeatureSchemaSpec,
  type FeatureSpec,
  goodnessOf,
  type Normalisation,
} from './feature-schema.js'
export { consensusFeatureSchema } from './presets.js'
export { createMeme, decayFactor, featuresAt, type Meme, memeAge, type MemeHistory } from './meme.js'
export { defineDockingPolicy, type DockingPolicy, type DockingPolicySpec, dockMeme, type ProvenFault } from './docking.js'
export {
  type MemeUpdate,
  type MemeUpdateResult,
  type Observation,
  type ObservationOutcome,
  observeMeme,
  updateMemes,
} from './observation.js'
export {
  type ContributionUnit,
  customScorer,
  logisticScorer,
  type LogisticScorerOptions,
  type ScoreFunction,
  type Scorer,
  type ScorerKind,
  weightedLinearScorer,
} from './scorer.js'
export { explainScore, type FeatureContribution, type MemeScore, scoreMeme, scoreMemes } from './score.js'
export { defineElectionConfig, type ElectionConfig, type ElectionConfigSpec, MAX_BRACKETS, MAX_SEATS } from './election-config.js'
export { HASH_LENGTH, sortKeyOf } from './hash.js'
export { prepareSortKeys, type SortKeys } from './sort-keys.js'
export {
  type CommitteeInput,
  type Election,
  electCommittee,
  type ElectedSeat,
  type PoolName,
  type PoolRecord,
} from './election.js'
export { type ElectionRound, type ElectionRoundResult, runElection } from './round.js'
export { maxWaitRounds, type MempoolEntry, mempoolPriority, type MempoolPolicy, orderMempool } from './mempool.js'
export {
  decodeMemeState,
  encodeMemeState,
  type MemeRecord,
  type MemeState,
  MemeStateCodec,
} from './state-codec.js'
