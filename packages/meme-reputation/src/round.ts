/**
 * One Proof of Meme round, the four steps together, from public inputs only:
 *   1. consensus round r produced `h_r` (given);
 *   2. the round's observations and proven faults update the memes of the participants they concern;
 *   3. the memes are scored at round r and re-bracketed, boundary ties and fractional seats decided by `h_r`;
 *   4. inside each pool the memes are ordered by `H(h_{r-1} || memeId)` and the top seats elected.
 * The result is the updated memes (to store for the next round), their scores and the election record.
 */
import { assertObject } from './check.js'
import type { DockingPolicy, ProvenFault } from './docking.js'
import { type Election, electCommittee } from './election.js'
import { assertElectionConfig, type ElectionConfig } from './election-config.js'
import type { Meme } from './meme.js'
import { type Observation, updateMemes } from './observation.js'
import { scoreMemes } from './score.js'
import { assertScorer, type Scorer } from './scorer.js'
import type { SortKeys } from './sort-keys.js'

export interface ElectionRound {
  readonly scorer: Scorer
  readonly docking: DockingPolicy
  readonly config: ElectionConfig
  /** r: the consensus round that just ended. */
  readonly round: number
  /** The memes as stored after round r - 1. */
  readonly memes: readonly Meme[]
  readonly observations?: readonly Observation[]
  readonly faults?: readonly ProvenFault[]
  /** `h_r`, the result hash of round r. */
  readonly resultHash: Uint8Array
  /** `h_{r-1}`, the result hash of round r - 1. */
  readonly previousHash: Uint8Array
  /** Optional keys prepared for `previousHash` and the ids of `memes` (in order) while round r ran. */
  readonly sortKeys?: SortKeys
  /** Optional id -> position in `memes`, so step 2 looks only at observed memes (see `updateMemes`). */
  readonly index?: ReadonlyMap<string, number>
}

export interface ElectionRoundResult {
  /** `memes` after step 2, in the same order, memes admitted this round appended. */
  readonly memes: readonly Meme[]
  /** Docked scores at round r, aligned with `memes`. */
  readonly scores: Float64Array
  readonly election: Election
}

export function runElection(input: ElectionRound): ElectionRoundResult {
  assertObject(input, 'input')
  const { scorer, docking, config, round } = input
  assertScorer(scorer)
  assertElectionConfig(config)
  const update = updateMemes({
    schema: scorer.schema,
    docking,
    memes: input.memes,
    round,
    ...(input.observations === undefined ? {} : { observations: input.observations }),
    ...(input.faults === undefined ? {} : { faults: input.faults }),
    ...(input.index === undefined ? {} : { index: input.index }),
  })
  const memes = update.memes
  const scores = scoreMemes(scorer, memes, round)
  const n = memes.length
  const ids = new Array<string>(n)
  const newcomers = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const meme = memes[i] as Meme
    ids[i] = meme.id
    newcomers[i] = round - meme.firstSeenRound < config.newcomerAgeRounds ? 1 : 0
  }
  const election = electCommittee({
    config,
    round,
    ids,
    scores,
    newcomers,
    resultHash: input.resultHash,
    previousHash: input.previousHash,
    ...(input.sortKeys === undefined ? {} : { sortKeys: input.sortKeys }),
  })
  return { memes, scores, election }
}
