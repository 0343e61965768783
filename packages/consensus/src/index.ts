/**
 * @constellation/consensus — Byzantine checkpoint consensus for a Constellation solar system.
 *
 * Data flow: members append checkpoint blocks to their chains (through trustchain) and submit them to the round's
 * facilitators; each facilitator runs the pure round machine: it proposes the checkpoints it holds, the asynchronous
 * common subset (Bracha reliable broadcast + MMR binary agreement per proposer) agrees on the proposals, the agreed
 * proposals fold into the result body, Proof of Meme elects the next facilitators, and 2t + 1 signature shares make
 * the `CheckpointCertificate`. `SolarSystemNode` is the shell that runs all of this over a gossip `Network` and a
 * `Clock`; `CertificateHistory` and agreement proofs answer finality questions.
 *
 * Above level 0 the same round machine certifies the certificates of the level below: star clusters, galaxies and
 * the universe commit to their children with a Merkle root, so `HierarchyIndex` can prove a certificate — and a
 * transaction — final up to the root. `LevelNode` is the validators' shell for those levels: it follows the
 * children's certificates, facilitates its level's rounds and serves histories and finality paths to syncing nodes
 * (`fetchCertifiedHistory`, `fetchRootedAgreementProof`). `EpochFollower` derives a solar system's member changes
 * from the root's certified results; `signMembershipRequest` / `submitMembershipRequest` ask the root to join or leave.
 *
 * This root is what a node or a simulation is built from. The machinery underneath has its own entry points:
 * `@constellation/consensus/round` (the pure round machine and its algebra, for those who drive it themselves),
 * `@constellation/consensus/hierarchy` (level inputs, Merkle commitments, the membership assignment, epoch
 * derivation) and `@constellation/consensus/acs` (the asynchronous common subset alone).
 */
export { ConsensusError, ConsensusErrorCode, isConsensusError } from './errors.js'

// The shells and what they take and report.
export { createSolarSystemNode, SolarSystemNode } from './shell/solar-system-node.js'
export { createLevelNode, LevelNode } from './shell/level-node.js'
export { createEpochFollower, EpochFollower, type EpochFollowerOptions, type EpochFollowerStats } from './shell/epoch-follower.js'
export { EpochSchedule, type MemberSchedule } from './membership/member-schedule.js'
export { createSolarSystemFollower, SolarSystemFollower, type SolarSystemFollowerOptions } from './shell/solar-system-follower.js'
export type {
  CheckpointWriter,
  CrossSystemOptions,
  FinalisedRound,
  LevelNodeOptions,
  LevelStats,
  RoundDriverStats,
  SolarSystemNodeOptions,
  SolarSystemStats,
} from './shell/shell-types.js'
export { type ConsensusNetwork, DEFAULT_LEVEL_TIMING, DEFAULT_TIMING, type LevelTiming, type SolarSystemTiming } from './shell/shell-timing.js'
export {
  fetchCertifiedHistory,
  fetchFinalityPath,
  fetchRootedAgreementProof,
  submitMembershipRequest,
  type ValidatorClientNetwork,
  type ValidatorRequestOptions,
} from './shell/validator-client.js'
export {
  CERTIFICATES_PROTOCOL,
  CHECKPOINT_PROTOCOL,
  certificateTopic,
  levelProtocols,
  membershipTopic,
  ROUND_PROTOCOL,
} from './shell/wire.js'

// Genesis, rules and the replicated state.
export {
  anchorOf,
  type CertifiedCheckpoint,
  type SolarSystemGenesis,
  type SolarSystemRules,
  type SolarSystemState,
  scoreOf,
} from './round/solar-system.js'
export { type DefaultRulesOptions, defaultSolarSystemRules } from './round/default-rules.js'
export { type Committee, createCommittee } from './round/committee.js'
export type { AwaitingAgreement, ForeignSettlement, LedgerDelta, OpenProposal, TransferLedger } from './ledger/transfer-ledger.js'
export type { MembershipRules } from './membership/assignment.js'
export type { EpochRules } from './membership/epoch-derivation.js'

// Certificates.
export {
  certificateDigest,
  type CheckpointEntry,
  type CheckpointResult,
  type FaultRecord,
  type ObservationRecord,
  type ResultBody,
  resultHash,
} from './round/checkpoint-result.js'
export {
  type BatchVerifier,
  type CertificateSignature,
  type CheckpointCertificate,
  checkCertificate,
  checkCertificateNow,
  decodeCertificate,
  encodeCertificate,
  MAX_CERTIFICATE_BYTES,
  verifyCertificate,
} from './round/certificate.js'

// Finality: certified histories and agreement proofs, in a solar system and up to the root.
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
export { finalisedLeaf } from './ledger/transfer-ledger.js'
export {
  checkFinalityPath,
  checkRootedAgreementProof,
  decodeFinalityPath,
  encodeFinalityPath,
  type FinalityPath,
  type FinalityStep,
  HierarchyIndex,
  MAX_FINALITY_PATH_BYTES,
  type RootedAgreementProof,
} from './hierarchy/finality-path.js'

// Membership requests: a node's signed join or leave.
export {
  checkMembershipRequest,
  decodeMembershipRequest,
  encodeMembershipRequest,
  MAX_MEMBERSHIP_REQUEST_BYTES,
  type MembershipRequest,
  type MembershipRequestKind,
  signMembershipRequest,
} from './membership/membership-request.js'

// The round journal: a facilitator's durable round state.
export {
  decodeRoundRecord,
  encodeRoundRecord,
  JOURNAL_ROUNDS_BEHIND,
  keptRecords,
  MAX_ROUND_RECORD_BYTES,
  type RoundJournal,
  type RoundRecord,
} from './round/round-journal.js'
export { createMemoryRoundJournal, type MemoryRoundJournal, type MemoryRoundJournalOptions } from './shell/memory-round-journal.js'
