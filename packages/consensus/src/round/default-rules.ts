/**
 * Sensible rules for a solar system, so a node can be assembled without first designing a reputation policy:
 * the consensus feature schema of meme-reputation, a weighted linear scorer that favours served rounds and
 * uptime and punishes faults, four equal brackets, a newcomer floor, and aging fast enough that a zero-score
 * member's checkpoint overtakes a perfect one after four rounds of waiting.
 */
import { consensusFeatureSchema, defineDockingPolicy, defineElectionConfig, weightedLinearScorer } from '@constellation/meme-reputation'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { SolarSystemRules } from './solar-system.js'

export interface DefaultRulesOptions {
  /** Facilitators per round, n >= 4 to tolerate one Byzantine facilitator. */
  readonly facilitators: number
  /** Checkpoints one facilitator proposes per round at most (default 1,024). */
  readonly maxCheckpointsPerProposal?: number
  /** Oldest round a checkpoint may record (default 8 rounds back). */
  readonly maxCheckpointAgeRounds?: number
  /** Bytes of one proposal at most (default 512 KiB, room for ~1,500 checkpoints in a 1 MiB network message). */
  readonly maxProposalBytes?: number
}

export function defaultSolarSystemRules(options: DefaultRulesOptions): SolarSystemRules {
  const seats = options.facilitators
  if (!(Number.isSafeInteger(seats) && seats >= 1)) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'facilitators must be a positive integer')
  const schema = consensusFeatureSchema()
  return {
    scorer: weightedLinearScorer(schema, { roundsServed: 3, roundsFaulty: 3, provenFrauds: 4, checkpointBytes: 0, latencyMs: 1, uptime: 2, slaMet: 0 }),
    docking: defineDockingPolicy({ penalty: 0.5, recoveryHalfLife: 20 }),
    election: defineElectionConfig({ seats, bracketShares: [1, 1, 2, 4], newcomerShare: seats >= 8 ? 0.125 : 0, newcomerAgeRounds: 2 }),
    mempool: { agingPerRound: 0.25 },
    maxCheckpointsPerProposal: options.maxCheckpointsPerProposal ?? 1_024,
    maxCheckpointAgeRounds: options.maxCheckpointAgeRounds ?? 8,
    maxProposalBytes: options.maxProposalBytes ?? 512 * 1_024,
  }
}
