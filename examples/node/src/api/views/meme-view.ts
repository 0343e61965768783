/**
 * How Proof of Meme's state appears in the API's JSON: each member's meme (its score, the bracket that score puts it
 * in, whether it is still a newcomer, its features and history) as of the last certified round, in the state every
 * honest member holds alike (see SolarSystemState in @constellation/consensus).
 */
import type { SolarSystemRules, SolarSystemState } from '@constellation/consensus'
import { explainScore, type Meme, memeAge, type PoolName } from '@constellation/meme-reputation'

export interface MemeView {
  readonly id: string
  /** Score in [0, 1] used by the election: `undockedScore * (1 - penalty)`. */
  readonly score: number
  readonly undockedScore: number
  /** Docking penalty in [0, 1] from proven faults. */
  readonly penalty: number
  /**
   * The pool the meme stood in at the last election: a bracket index (0 = lowest scores) or `newcomers`. An elected
   * meme's is the election's own; for the others it is read from the score (a score exactly on a boundary between
   * two brackets is placed by `h_r` in the election; the upper one is shown).
   */
  readonly bracket: PoolName
  readonly newcomer: boolean
  /** Elected to facilitate the next round. */
  readonly facilitator: boolean
  readonly ageRounds: number
  readonly firstSeenRound: number
  readonly updatedRound: number
  readonly history: Meme['history']
  /** Raw feature values at the round (after idle decay), by feature name. */
  readonly features: Readonly<Record<string, number>>
}

/** Bracket b of B holds scores in [b/B, (b+1)/B), the top one also 1 (meme-reputation's definition). */
function bracketOfScore(score: number, brackets: number): number {
  if (score >= 1) return brackets - 1
  let b = Math.max(0, Math.floor(score * brackets))
  // The product can round across a boundary; compare with the boundaries themselves.
  if (b > 0 && score < b / brackets) b--
  else if (b < brackets - 1 && score >= (b + 1) / brackets) b++
  return b
}

export function memeViews(state: SolarSystemState, rules: SolarSystemRules): MemeView[] {
  const { election } = rules
  const seated = new Map((state.election?.seats ?? []).map((seat) => [seat.memeId, seat.bracket]))
  const facilitators = new Set(state.committee.facilitators)
  return state.memes.map((meme) => {
    const explained = explainScore(rules.scorer, meme, state.round)
    const score = state.scores[state.memeIndex.get(meme.id) ?? -1] ?? explained.score
    const newcomer = memeAge(meme, state.round) < election.newcomerAgeRounds
    return {
      id: meme.id,
      score,
      undockedScore: explained.undocked,
      penalty: meme.penalty,
      bracket: seated.get(meme.id) ?? (newcomer ? 'newcomers' : bracketOfScore(score, election.bracketShares.length)),
      newcomer,
      facilitator: facilitators.has(meme.id),
      ageRounds: memeAge(meme, state.round),
      firstSeenRound: meme.firstSeenRound,
      updatedRound: meme.updatedRound,
      history: meme.history,
      features: Object.fromEntries(explained.contributions.map((contribution) => [contribution.feature, contribution.value])),
    }
  })
}
