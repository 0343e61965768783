/**
 * @constellation/consensus — Byzantine checkpoint consensus for a Constellation solar system.
 */
export { ConsensusError, ConsensusErrorCode, isConsensusError } from './errors.js'
export type { AcsConfig, CommonCoin } from './acs/acs-api.js'
