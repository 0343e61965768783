/**
 * @constellation/consensus/hierarchy — the machinery of the levels above the solar systems, as pure functions: what
 * a level's round agrees on (`levelInputs`, each child's run of certificates, `childRun` bounded by `childRunBytes`),
 * the Merkle commitment of a parent's result to its children's certificate digests, the deterministic assignment of
 * nodes to solar systems from the join and leave requests the root certified (`applyMembershipRound`), and a solar
 * system's epochs derived from the root's certified results (`deriveEpoch`).
 *
 * The shells that run them — `LevelNode`, `EpochFollower` — and what a node needs to prove finality up to the root
 * (`HierarchyIndex`, `checkFinalityPath`, `checkRootedAgreementProof`) or to join (`signMembershipRequest`,
 * `submitMembershipRequest`) are in the package root.
 */
export {
  type Assignment,
  applyMembershipRound,
  assignmentDigest,
  emptyAssignment,
  type MemberRecord,
  type MembershipRound,
  membersOf,
  type PendingJoin,
  solarSystemThreshold,
} from './membership/assignment.js'
export { deriveEpoch, type Epoch, type EpochDerivation, type RootResult, settledThrough, startEpochDerivation } from './membership/epoch-derivation.js'
export { certifiedRequests, indexMembershipRequests, membershipRequestDigest } from './membership/membership-request.js'
export { childRun, childRunBytes } from './hierarchy/child-run.js'
export {
  type ChildCertificates,
  type ChildGroup,
  DEFAULT_MAX_CERTIFICATES_PER_INPUT,
  type LevelConfig,
  type LevelInput,
  type LevelInputKind,
  levelInputs,
  type MembershipInput,
} from './hierarchy/level-inputs.js'
export { EMPTY_MERKLE_ROOT, MAX_MERKLE_LEAVES, type MerkleProof, merkleProof, merkleRoot, verifyMerkleProof } from './hierarchy/merkle.js'
