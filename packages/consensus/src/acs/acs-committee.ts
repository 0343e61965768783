/**
 * The facilitator committee one ACS runs over, checked once: who takes part, which index this facilitator has,
 * and the quorum sizes every sub-protocol counts against.
 */
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { AcsConfig } from './acs-api.js'
import { MAX_ACS_INSTANCE } from './acs-messages.js'

export interface AcsCommittee {
  readonly config: AcsConfig
  readonly n: number
  readonly t: number
  readonly selfIndex: number
  readonly indexOf: ReadonlyMap<string, number>
  /**
   * ECHOs that make a READY: ceil((n + t + 1) / 2), 2t + 1 when n = 3t + 1. Two such quorums share an honest
   * facilitator for any n >= 3t + 1, which 2t + 1 alone would not guarantee once n > 3t + 1.
   */
  readonly echoQuorum: number
  /** t + 1: at least one honest sender among them. */
  readonly weak: number
  /** 2t + 1: a majority of the honest facilitators among them. */
  readonly strong: number
  /** n - t: what a facilitator can wait for without waiting on a Byzantine one. */
  readonly live: number
}

function invalid(code: typeof ConsensusErrorCode.INVALID_INPUT | typeof ConsensusErrorCode.INVALID_COMMITTEE, message: string, detail = {}): never {
  throw new ConsensusError(code, message, detail)
}

export function acsCommittee(config: AcsConfig): AcsCommittee {
  if (typeof config !== 'object' || config === null) invalid(ConsensusErrorCode.INVALID_INPUT, 'the ACS config must be an object')
  const { participants, self, faults, coin, digest, maxProposalBytes } = config
  if (!Array.isArray(participants) || participants.some((id) => typeof id !== 'string' || id.length === 0)) {
    invalid(ConsensusErrorCode.INVALID_COMMITTEE, 'participants must be an array of non-empty id strings')
  }
  if (participants.length === 0 || participants.length > MAX_ACS_INSTANCE + 1) {
    invalid(ConsensusErrorCode.INVALID_COMMITTEE, `an ACS needs 1 to ${MAX_ACS_INSTANCE + 1} participants, got ${participants.length}`)
  }
  const indexOf = new Map<string, number>()
  participants.forEach((id, index) => indexOf.set(id, index))
  if (indexOf.size !== participants.length) invalid(ConsensusErrorCode.INVALID_COMMITTEE, 'participants holds duplicate ids')
  if (!Number.isSafeInteger(faults) || faults < 0) {
    invalid(ConsensusErrorCode.INVALID_COMMITTEE, `faults must be a non-negative integer, got ${String(faults)}`)
  }
  const n = participants.length
  if (n < 3 * faults + 1) {
    invalid(ConsensusErrorCode.INVALID_COMMITTEE, `${n} participants cannot tolerate ${faults} Byzantine ones (needs n >= 3t + 1)`, { n, faults })
  }
  const selfIndex = indexOf.get(self)
  if (selfIndex === undefined) invalid(ConsensusErrorCode.INVALID_COMMITTEE, 'self is not one of the participants', { self })
  if (typeof coin !== 'function' || typeof digest !== 'function') {
    invalid(ConsensusErrorCode.INVALID_INPUT, 'coin and digest must be functions')
  }
  if (!Number.isSafeInteger(maxProposalBytes) || maxProposalBytes < 0) {
    invalid(ConsensusErrorCode.INVALID_INPUT, `maxProposalBytes must be a non-negative integer, got ${String(maxProposalBytes)}`)
  }
  return {
    config,
    n,
    t: faults,
    selfIndex,
    indexOf,
    echoQuorum: Math.ceil((n + faults + 1) / 2),
    weak: faults + 1,
    strong: 2 * faults + 1,
    live: n - faults,
  }
}
