/**
 * The asynchronous common subset: Bracha reliable broadcast + MMR binary agreement per proposer, composed as in
 * HoneyBadgerBFT, as one pure state machine per facilitator. See common-subset.ts for the composition.
 */
export type {
  AcsConfig,
  AcsDropReason,
  AcsEvent,
  AcsOutgoing,
  AcsOutput,
  AcsProgress,
  AgreementProgress,
  CommonCoin,
} from './acs-api.js'
export {
  type AcsMessage,
  type AcsMessageKind,
  AcsMessageCodec,
  acsMessageCodec,
  acsMessageFromCbor,
  acsMessageToCbor,
  type AcsWireMessage,
  type BinValues,
  DEFAULT_MAX_ACS_VALUE_BYTES,
  isAcsMessage,
  MAX_ACS_INSTANCE,
  MAX_AGREEMENT_ROUND,
  MAX_DIGEST_BYTES,
} from './acs-messages.js'
export { AGREEMENT_ROUND_WINDOW } from './binary-agreement.js'
export { type AcsState, type AcsStepResult, acsProgress, acsStep, initialAcsState } from './common-subset.js'
