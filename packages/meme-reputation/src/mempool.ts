/**
 * Mempool priority: reputation decides when a transaction is served, never whether. A sender's score sets its
 * starting priority; every round a transaction waits adds `agingPerRound`, so even a score of 0 overtakes a
 * perfect score after `1 / agingPerRound` rounds of waiting and nothing starves. There is no fee and no
 * refusal path.
 */
import { assertArray, assertObject, assertPositive, assertRange, assertRound } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'

export interface MempoolPolicy {
  /** Priority gained per round of waiting, > 0. */
  readonly agingPerRound: number
}

export interface MempoolEntry<K> {
  readonly key: K
  /** The sender's meme score in [0, 1]; 0 for an unknown sender. */
  readonly score: number
  /** Rounds the entry has waited. */
  readonly waitedRounds: number
  /** Arrival sequence: breaks ties first come, first served. */
  readonly arrival: number
}

/** `score + waitedRounds * agingPerRound`: higher is served first. */
export function mempoolPriority(policy: MempoolPolicy, score: number, waitedRounds: number): number {
  assertObject(policy, 'policy')
  assertPositive(policy.agingPerRound, 'policy.agingPerRound')
  assertRange(score, 'score', 0, 1)
  assertRound(waitedRounds, 'waitedRounds')
  return score + waitedRounds * policy.agingPerRound
}

/** Rounds a sender with `score` waits at most before it outranks any newly arrived entry. */
export function maxWaitRounds(policy: MempoolPolicy, score: number): number {
  assertPositive(policy.agingPerRound, 'policy.agingPerRound')
  assertRange(score, 'score', 0, 1)
  return Math.ceil((1 - score) / policy.agingPerRound)
}

/** The entries in service order (every entry is kept): highest priority, then earliest arrival. */
export function orderMempool<K>(policy: MempoolPolicy, entries: readonly MempoolEntry<K>[]): K[] {
  assertArray(entries, 'entries')
  const ranked = entries.map((entry, i) => {
    assertObject(entry, `entries[${i}]`)
    if (typeof entry.arrival !== 'number' || !Number.isFinite(entry.arrival)) {
      throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `entries[${i}].arrival must be a finite number`)
    }
    return { key: entry.key, arrival: entry.arrival, priority: mempoolPriority(policy, entry.score, entry.waitedRounds) }
  })
  ranked.sort((a, b) => b.priority - a.priority || a.arrival - b.arrival)
  return ranked.map((r) => r.key)
}
