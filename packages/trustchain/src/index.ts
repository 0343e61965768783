/**
 * @constellation/trustchain — personal hash chains, half-block transactions, validation, fraud proofs, storage.
 *
 * Data flow: blocks are built and signed with the block builders (or arrive as bytes and go through `decodeBlock`,
 * sizes first); the ledger validates them against a `BlockStore` (memory or LevelDB) and stores the accepted ones
 * with any fraud proofs in one atomic batch; the protocol engine (pure) and its shell, `createTrustChainNode`,
 * run propose -> validate -> `shouldSign` -> agree -> broadcast and crawling over a `TrustChainMessenger`; the
 * anchored node (`createAnchoredNode`) makes transfers checked against certified checkpoints over a `MessageNetwork`;
 * agreement fragments between checkpoints are the basis of finality proofs.
 */
export { isTrustChainError, TrustChainError, TrustChainErrorCode } from './errors.js'
export {
  type BlockKey,
  type BlockType,
  BlockTypeCodec,
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
  agreementPayload,
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
  type Answer,
  decodeExchangeRequest,
  decodeExchangeResponse,
  encodeExchangeRequest,
  encodeExchangeResponse,
  type ExchangeRequest,
  ExchangeRequestCodec,
  type ExchangeResponse,
  ExchangeResponseCodec,
  MAX_FRAME_BLOCKS,
  MAX_FRAME_BYTES,
  TRANSFER_PROTOCOL,
} from './exchange/exchange-messages.js'
export { type FrameReading, type ReadProposal, readFrame } from './exchange/frame-reading.js'
export {
  type AgreementFragment,
  checkFragment,
  containsExactlyOnce,
  extractFragment,
} from './fragment/agreement-fragment.js'
export { type Clock, type PeerId, systemClock } from '@constellation/interface'
export type { BroadcastHandler, RequestHandler, TrustChainMessenger } from './protocol/messenger.js'
export {
  createNetworkMessenger,
  type NetworkMessenger,
  type NetworkMessengerOptions,
  TRUSTCHAIN_PROTOCOL,
  TRUSTCHAIN_TOPIC,
} from './protocol/network-messenger.js'
export {
  type BlocksMessage,
  BlocksMessageCodec,
  decodeMessage,
  encodeMessage,
  MAX_BLOCKS_PER_MESSAGE,
  type Request,
  RequestCodec,
  resolveRange,
  type Response,
  ResponseCodec,
} from './protocol/messages.js'
export { DEFAULT_RETRY_POLICY, type EngineConfig, type RetryPolicy } from './protocol/engine/engine-config.js'
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
  ProposalContent,
  Settlement,
  StepResult,
} from './protocol/engine/engine-events.js'
export { step } from './protocol/engine/step.js'
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
