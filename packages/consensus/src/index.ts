/**
 * @constellation/consensus — Byzantine checkpoint consensus for a Constellation solar system.
 *
 * Data flow: members append checkpoint blocks to their chains (through trustchain) and submit them to the round's
 * facilitators; each facilitator runs the pure round machine (`startRound`/`stepRound`): it proposes the checkpoints
 * it holds, the asynchronous common subset (Bracha reliable broadcast + MMR binary agreement per proposer) agrees on
 * the proposals, `foldAgreement` turns them into the result body, Proof of Meme elects the next facilitators, and
 * 2t + 1 signature shares make the `CheckpointCertificate`. `SolarSystemNode` is the shell that runs all of this over
 * a gossip `Network` and a `Clock`; `CertificateHistory` and agreement proofs answer finality questions.
 *
 * Above level 0 the same round machine certifies the certificates of the level below (`levelInputs`): star clusters,
 * galaxies and the universe commit to their children with a Merkle root, so `HierarchyIndex` can prove a certificate
 * — and a transaction — final up to the root. `LevelNode` is the validators' shell for those levels: it follows the
 * children's certificates, facilitates its level's rounds and serves histories and finality paths to syncing nodes
 * (`fetchCertifiedHistory`, `fetchRootedAgreementProof`). Membership (`applyMembershipRound`) assigns sleepy nodes
 * to solar systems from the join and leave requests the root certified; `scheduleMembers` switches a running solar
 * system to a new member set at a certified boundary.
 */
export { ConsensusError, ConsensusErrorCode, isConsensusError } from './errors.js'
export * from './acs/index.js'
export { type Committee, createCommittee, isFacilitator } from './round/committee.js'
export { type CoinSeed, commonCoin } from './round/common-coin.js'
export {
  certificateDigest,
  type CheckpointEntry,
  CheckpointEntryCodec,
  type CheckpointResult,
  CheckpointResultCodec,
  type FaultRecord,
  FaultRecordCodec,
  MAX_CHECKPOINTS_PER_RESULT,
  MAX_FACILITATORS,
  MAX_FAULTS_PER_RESULT,
  type ObservationRecord,
  type ResultBody,
  ResultBodyCodec,
  resultHash,
} from './round/checkpoint-result.js'
export {
  assembleCertificate,
  type BatchVerifier,
  type CertificateSignature,
  type CheckpointCertificate,
  CheckpointCertificateCodec,
  checkCertificate,
  checkCertificateNow,
  checkFinalisedLeaves,
  decodeCertificate,
  encodeCertificate,
  MAX_CERTIFICATE_BYTES,
  signResult,
  withoutLeaves,
  verifyCertificate,
} from './round/certificate.js'
export {
  applyResult,
  type CertifiedCheckpoint,
  genesisHashOf,
  genesisState,
  nextResult,
  scheduleMembers,
  anchorOf,
  scoreOf,
  type SolarSystemGenesis,
  type SolarSystemRules,
  type SolarSystemState,
  waitedRounds,
} from './round/solar-system.js'
export { type DefaultRulesOptions, defaultSolarSystemRules } from './round/default-rules.js'
export {
  addToPool,
  type AnchoredCheckpoint,
  anchorCheckpoint,
  checkCheckpointBlock,
  type CheckpointPool,
  checkSubmission,
  finishSubmission,
  planSubmission,
  type SubmissionCheck,
  type SubmissionPlan,
  decodeProposal,
  encodeProposal,
  type PoolEntry,
  prunePool,
  selectCheckpoints,
} from './round/checkpoint-pool.js'
export { type FoldInput, foldAgreement, type FoldOutcome } from './round/result-fold.js'
export { addInput, checkpointInputs, type InputEntry, type InputPool, type RoundInputKind } from './round/round-inputs.js'
export {
  collectionTarget,
  type FacilitatorRoundState,
  type RoundConfig,
  type RoundEffect,
  type RoundEvent,
  type RoundMessage,
  type RoundPhase,
  type RoundStep,
  proposeJournalled,
  startRound,
  stepRound,
} from './round/facilitator-round.js'
export {
  decodeRoundRecord,
  encodeRoundRecord,
  JOURNAL_ROUNDS_BEHIND,
  journalFloor,
  keptRecords,
  MAX_ROUND_RECORD_BYTES,
  type ResumedRound,
  resumeRound,
  type RoundJournal,
  type RoundRecord,
} from './round/round-journal.js'
export { createMemoryRoundJournal, type MemoryRoundJournal, type MemoryRoundJournalOptions } from './shell/memory-round-journal.js'
export {
  CertificateHistory,
  type CertifiedCheckpointRef,
  type EnclosingCheckpoints,
  verifyCertificateChain,
} from './finality/certificate-history.js'
export {
  type AgreementProof,
  buildAgreementProof,
  checkAgreementProof,
  type CommitteeLookup,
  committeesOf,
  decodeAgreementProof,
  encodeAgreementProof,
  MAX_AGREEMENT_PROOF_BYTES,
  type TransactionHalves,
  transactionLeaf,
  verifyAgreementProof,
} from './finality/agreement-proof.js'
export {
  applyLedgerDelta,
  AWAITING_ROUNDS,
  type AwaitingAgreement,
  EMPTY_LEDGER_DELTA,
  finalisedLeaf,
  genesisLedger,
  type LedgerDelta,
  LedgerDeltaCodec,
  ledgerDigest,
  MAX_LEDGER_ENTRIES_PER_ROUND,
  type OpenProposal,
  proposalKey,
  type SettleInput,
  type Settlement,
  settleLedger,
  type TransferLedger,
} from './ledger/transfer-ledger.js'
export { decodeStretchSummary, encodeStretchSummary, MAX_STRETCH_ENTRIES, MAX_SUMMARY_BYTES, summaryEntries } from './ledger/stretch-summary-codec.js'
export {
  EMPTY_MERKLE_ROOT,
  MAX_MERKLE_LEAVES,
  type MerkleProof,
  MerkleProofCodec,
  merkleProof,
  merkleRoot,
  verifyMerkleProof,
} from './hierarchy/merkle.js'
export {
  type ChildCertificates,
  type ChildGroup,
  childGroups,
  type LevelConfig,
  DEFAULT_MAX_CERTIFICATES_PER_INPUT,
  type LevelInput,
  type LevelInputKind,
  levelInputs,
  type MembershipInput,
} from './hierarchy/level-inputs.js'
export {
  checkFinalityPath,
  checkRootedAgreementProof,
  decodeFinalityPath,
  encodeFinalityPath,
  type FinalityPath,
  FinalityPathCodec,
  type FinalityStep,
  HierarchyIndex,
  MAX_FINALITY_PATH_BYTES,
  type RootedAgreementProof,
} from './hierarchy/finality-path.js'
export {
  certifiedRequests,
  checkMembershipRequest,
  decodeMembershipRequest,
  encodeMembershipRequest,
  indexMembershipRequests,
  MAX_MEMBERSHIP_REQUEST_BYTES,
  type MembershipRequest,
  MembershipRequestCodec,
  type MembershipRequestKind,
  membershipRequestDigest,
  signMembershipRequest,
} from './membership/membership-request.js'
export {
  applyMembershipRound,
  type Assignment,
  assignmentDigest,
  checkMembershipRules,
  emptyAssignment,
  type MemberRecord,
  type MembershipRound,
  type MembershipRules,
  membersOf,
  type PendingJoin,
  solarSystemName,
  solarSystemThreshold,
} from './membership/assignment.js'
export { EpochSchedule, type MemberSchedule } from './membership/member-schedule.js'
export {
  checkpointAuthors,
  deriveEpoch,
  type Epoch,
  type EpochDerivation,
  type EpochRules,
  type RootResult,
  settledThrough,
  startEpochDerivation,
} from './membership/epoch-derivation.js'
export {
  CERTIFICATES_PROTOCOL,
  certificateTopic,
  CHECKPOINT_PROTOCOL,
  levelProtocols,
  membershipTopic,
  ROUND_PROTOCOL,
} from './shell/wire.js'
export { createEpochFollower, EpochFollower, type EpochFollowerOptions, type EpochFollowerStats } from './shell/epoch-follower.js'
export { createSolarSystemNode, SolarSystemNode } from './shell/solar-system-node.js'
export { createLevelNode, LevelNode } from './shell/level-node.js'
export { type ConsensusNetwork, DEFAULT_LEVEL_TIMING, DEFAULT_TIMING, type LevelTiming, type SolarSystemTiming } from './shell/shell-timing.js'
export type {
  CheckpointWriter,
  FinalisedRound,
  LevelNodeOptions,
  LevelStats,
  RoundDriverStats,
  SolarSystemNodeOptions,
  SolarSystemStats,
} from './shell/shell-types.js'
export {
  fetchCertifiedHistory,
  fetchFinalityPath,
  fetchRootedAgreementProof,
  submitMembershipRequest,
  type ValidatorClientNetwork,
  type ValidatorRequestOptions,
} from './shell/validator-client.js'
export { childRun, childRunBytes } from './hierarchy/child-run.js'
