/**
 * @constellation/trustchain — personal hash chains, half-block transactions, validation, fraud proofs, storage.
 *
 * Data flow: blocks are built and signed with the block builders (or arrive as bytes and go through `decodeBlock`,
 * sizes first); the ledger validates them against a `BlockStore` (memory or LevelDB) and stores the accepted ones
 * with any fraud proofs in one atomic batch; `createTrustChainNode` runs propose -> validate -> `shouldSign` ->
 * agree -> broadcast and crawling over a `TrustChainMessenger`; the anchored node (`createAnchoredNode`) makes
 * transfers checked against certified checkpoints over a `MessageNetwork`; agreement fragments between checkpoints
 * are the basis of finality proofs.
 *
 * This root is what a user of personal chains needs (README, "Interface"). Two documented subpaths hold the
 * machinery: `@constellation/trustchain/engine`, the pure protocol engine `createTrustChainNode` drives, for those
 * who drive it themselves; `@constellation/trustchain/wire`, the protocols' message codecs, the anchored exchange's
 * frames and the counterparty's pure frame check.
 */
export { isTrustChainError, TrustChainError, TrustChainErrorCode } from './errors.js'
export {
  type BlockKey,
  type BlockType,
  type HalfBlock,
  HalfBlockCodec,
  isAgreement,
  isProposal,
  isVoid,
  NO_LINK,
  type UnsignedHalfBlock,
  UnsignedHalfBlockCodec,
  ZERO_HASH,
} from './block/half-block.js'
export { bytesOfLength, bytesUpTo, CborValueCodec, closedRecord, integerIn, recordWithOptional } from './block/field-codecs.js'
export {
  type BlockLimits,
  blockHash,
  decodeBlock,
  DEFAULT_BLOCK_LIMITS,
  encodeBlock,
  encodeUnsigned,
  signBlock,
} from './block/block-encoding.js'
export {
  type CarriedValue,
  CarriedValueCodec,
  carriesValue,
  type CheckpointPayload,
  CheckpointPayloadCodec,
  type GenesisPayload,
  GenesisPayloadCodec,
  MAX_REFERENCE_BYTES,
  type PayloadCheck,
  PayloadRegistry,
  statedBalance,
  type PayloadType,
  TRANSFER,
  type TransferPayload,
  TransferPayloadCodec,
  transferOf,
  type ValueTransfer,
  type VoidPayload,
  VoidPayloadCodec,
} from './block/payloads.js'
export { checkRefusal, refusalDigest, signRefusal } from './block/refusal.js'
export {
  advanceHead,
  type BlockAuthor,
  type ChainHead,
  createAgreement,
  createCheckpoint,
  createGenesisBlock,
  createProposal,
  createVoid,
  EMPTY_CHAIN_HEAD,
  transferPayload,
  withValue,
} from './block/block-builder.js'
export {
  INFORMATIONAL_REASONS,
  ValidationLevel,
  ValidationReason,
  type ValidationResult,
} from './validation/validation-result.js'
export { sameContent, type ValidationContext, type ValidationOptions, validateBlock } from './validation/validate-block.js'
export {
  checkFraudProof,
  createFraudProof,
  decodeFraudProof,
  encodeFraudProof,
  type FraudKind,
  type FraudProof,
  fraudProofId,
  verifyFraudProof,
} from './validation/fraud-proof.js'
export type { BlockBatch, BlockStore } from './store/block-store.js'
export { createMemoryBlockStore, type MemoryBlockStoreOptions } from './store/memory-store.js'
export { type LevelBlockStoreOptions, openLevelBlockStore } from './store/level-store.js'
export { readChainHead } from './store/chain-head.js'
export type { BatchVerifier, IngestOutcome, Ledger, LedgerOptions } from './ledger/ledger.js'
export { createLedger } from './ledger/block-ledger.js'
export { type CertifiedAnchor, type CertifiedAnchors, type ChainAnchor, openingAnchor } from './anchor/chain-anchor.js'
export {
  checkStretch,
  extendStretch,
  rebaseStretch,
  type StretchCheck,
  type StretchCredit,
  type StretchDebit,
  type StretchOptions,
  type StretchSummary,
  type StretchTail,
  type StretchVoid,
  stretchFrom,
} from './anchor/stretch.js'
export type {
  AnchoredNode,
  AnchoredNodeOptions,
  AnchoredNodeStats,
  AnchoredSigningPolicy,
  ExchangeNetwork,
  SettledTransfer,
  TransferOrder,
  TransferOutcome,
} from './exchange/anchored-node.js'
export { createAnchoredNode } from './exchange/anchored-node-shell.js'
export {
  type AgreementFragment,
  checkFragment,
  containsExactlyOnce,
  extractFragment,
} from './fragment/agreement-fragment.js'
export { type Clock, type PeerId, systemClock } from '@constellation/interface'
export type { BroadcastHandler, RequestHandler, TrustChainMessenger } from './protocol/messenger.js'
export { createNetworkMessenger, type NetworkMessenger, type NetworkMessengerOptions } from './protocol/network-messenger.js'
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './protocol/engine/engine-config.js'
export type { ProposalContent } from './protocol/engine/engine-events.js'
export {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type SigningPolicy,
  signFullyValid,
  type Transaction,
  type TrustChainNode,
  type TrustChainNodeOptions,
} from './protocol/trustchain-node.js'
export { createTrustChainNode } from './protocol/trustchain-node-shell.js'
