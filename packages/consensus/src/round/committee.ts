/**
 * The facilitators of one round: who runs the agreement, how many faults it tolerates, how many signatures make a
 * certificate. Facilitators are kept in ascending id order so that every node numbers the agreement instances the
 * same way, whatever order the election listed them in.
 */
import { ConsensusError, ConsensusErrorCode } from '../errors.js'

export interface Committee {
  /** Facilitator ids (lowercase hex public keys), ascending. */
  readonly facilitators: readonly string[]
  /** t: the Byzantine facilitators tolerated, the largest with n >= 3t + 1. */
  readonly faults: number
  /** 2t + 1: signatures that make a certificate. */
  readonly quorum: number
}

const PEER_ID = /^[0-9a-f]{64}$/

export function createCommittee(ids: readonly string[]): Committee {
  if (!Array.isArray(ids) || ids.length === 0) throw new ConsensusError(ConsensusErrorCode.INVALID_COMMITTEE, 'a committee needs at least one facilitator')
  for (const id of ids) {
    if (typeof id !== 'string' || !PEER_ID.test(id)) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_COMMITTEE, 'facilitator ids are lowercase hex 32-byte public keys', { id })
    }
  }
  const facilitators = [...ids].sort()
  for (let i = 1; i < facilitators.length; i++) {
    if (facilitators[i] === facilitators[i - 1]) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_COMMITTEE, `facilitator ${facilitators[i]} is listed twice`, { id: facilitators[i] })
    }
  }
  const faults = Math.floor((facilitators.length - 1) / 3)
  return Object.freeze({ facilitators: Object.freeze(facilitators), faults, quorum: 2 * faults + 1 })
}

export function isFacilitator(committee: Committee, id: string): boolean {
  return committee.facilitators.includes(id)
}
