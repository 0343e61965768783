/**
 * @constellation/consensus/acs — the asynchronous common subset as one pure state machine per facilitator: Bracha
 * reliable broadcast + MMR binary agreement per proposer, composed as in HoneyBadgerBFT (see acs/common-subset.ts).
 * The round machine (`@constellation/consensus/round`) runs it inside each round; it is here for those who want the
 * agreement alone: `initialAcsState(config)`, `acsStep(state, event)`, `acsProgress(state)`, and the messages' wire
 * form (`acsMessageToCbor`, `acsMessageFromCbor`, `AcsMessageCodec`).
 */
export type { AcsConfig, AcsDropReason, AcsEvent, AcsOutgoing, AcsOutput, AcsProgress, AgreementProgress, CommonCoin } from './acs/acs-api.js'
export {
  type AcsMessage,
  AcsMessageCodec,
  type AcsMessageKind,
  type AcsWireMessage,
  acsMessageCodec,
  acsMessageFromCbor,
  acsMessageToCbor,
  type BinValues,
  DEFAULT_MAX_ACS_VALUE_BYTES,
  isAcsMessage,
  MAX_ACS_INSTANCE,
  MAX_AGREEMENT_ROUND,
  MAX_DIGEST_BYTES,
} from './acs/acs-messages.js'
export { AGREEMENT_ROUND_WINDOW } from './acs/binary-agreement.js'
export { type AcsState, type AcsStepResult, acsProgress, acsStep, initialAcsState } from './acs/common-subset.js'
