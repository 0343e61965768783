/**
 * The committee election (steps 3 and 4 of the Proof of Meme round), from scores that step 2 produced:
 *
 *   3. every meme goes to a pool: newcomers to the newcomer pool, the others to the bracket of their score,
 *      a score exactly on a boundary going up or down by `h_r`; seats are divided between the pools by the
 *      configured distribution, the fractional seats by an `h_r`-derived systematic sample;
 *   4. inside each pool the memes are ordered by `H(h_{r-1} || memeId)` and the first `filled` of each are
 *      elected.
 *
 * Cost. Bracketing is one pass with counters. Selection keeps, per pool, a bounded max-heap of the best
 * `filled` keys seen so far: a meme whose key is not below the heap's worst costs one comparison, so the pass is
 * O(n + S log S) rather than a sort of n hashes. Sort keys are computed only for memes of pools that fill at
 * least one seat; the top `filled` of a pool depend only on the keys of that pool's members, so skipping the
 * pools that elect nobody cannot change the result. With prepared keys (sort-keys.ts) no meme is hashed in the
 * election except the elected (to put their full key in the record), boundary ties (for the `h_r` bit) and ids
 * the prepared table does not cover.
 *
 * Order. Keys are compared by their first 8 bytes, then on equality by all 32, then by id: a total order that
 * does not depend on input positions, which is why permuting the memes changes nothing.
 */
import { allocateSeats, bracketOrTie } from './bracket.js'
import { assertArray, assertHash, assertMemeId, assertObject, assertRound } from './check.js'
import { assertElectionConfig, type ElectionConfig } from './election-config.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import { compareBytes, keyHigh, keyLow, seatOffset, sortKeyUnchecked, tieGoesUp, toHex } from './hash.js'
import { assertDistinctIds, coveredPrefix, prefixesOf, type SortKeys } from './sort-keys.js'

export type PoolName = number | 'newcomers'

export interface CommitteeInput {
  readonly config: ElectionConfig
  /** The round r whose result hash `h_r` drives this election; the committee serves round r + 1. */
  readonly round: number
  readonly ids: readonly string[]
  /** Scores in [0, 1], aligned with `ids` (docking already applied). */
  readonly scores: Float64Array
  /** 1 for a newcomer (younger than `config.newcomerAgeRounds`), 0 otherwise; aligned with `ids`. */
  readonly newcomers: Uint8Array
  /** `h_r`. */
  readonly resultHash: Uint8Array
  /** `h_{r-1}`. */
  readonly previousHash: Uint8Array
  /** Keys from prepareSortKeys(previousHash, ids'), where ids' is `ids` or a prefix of it. */
  readonly sortKeys?: SortKeys
}

/** Why a meme holds its seat: its pool, its rank there by sort key (0 = smallest key), the key and score. */
export interface ElectedSeat {
  readonly memeId: string
  readonly bracket: PoolName
  readonly rank: number
  /** `H(h_{r-1} || memeId)` in hex. */
  readonly sortKey: string
  readonly score: number
}

export interface PoolRecord {
  readonly bracket: PoolName
  /** Score interval of a bracket, [lower, upper) (the top one closed); absent for the newcomer pool. */
  readonly lowerScore?: number
  readonly upperScore?: number
  readonly population: number
  /** Seats the distribution (or the newcomer floor) assigned. */
  readonly allocatedSeats: number
  /** Seats actually filled, after vacant seats moved to other pools. */
  readonly filledSeats: number
}

/** A plain, JSON-serialisable record from which anyone holding the same memes can re-check the committee. */
export interface Election {
  readonly round: number
  readonly servesRound: number
  readonly resultHash: string
  readonly previousHash: string
  /** The systematic sample's offset in [0, 1), drawn from `h_r`. */
  readonly seatOffset: number
  /** Elected ids: top bracket first, newcomers last, by rank within each pool. */
  readonly elected: readonly string[]
  readonly seats: readonly ElectedSeat[]
  /** Brackets lowest first, then the newcomer pool. */
  readonly pools: readonly PoolRecord[]
}

const NO_PREFIXES = new Uint32Array(0)

/** Distinct ids, cheaply when the prepared table already proved its prefix distinct. */
function checkDistinct(ids: readonly string[], covered: number): void {
  if (covered === 0) return assertDistinctIds(ids)
  if (covered === ids.length) return
  const tail = ids.slice(covered)
  assertDistinctIds(tail)
  const tailSet = new Set(tail)
  for (let i = 0; i < covered; i++) {
    if (tailSet.has(ids[i] as string)) {
      throw new MemeReputationError(MemeReputationErrorCode.DUPLICATE_MEME, `meme '${ids[i]}' appears twice`, { memeId: ids[i] })
    }
  }
}

/** Elects the committee for round `round + 1` (steps 3 and 4). */
export function electCommittee(input: CommitteeInput): Election {
  assertObject(input, 'input')
  const { config, ids, scores, newcomers, resultHash, previousHash, round } = input
  assertElectionConfig(config)
  assertRound(round, 'round')
  assertArray(ids, 'ids')
  assertHash(resultHash, 'resultHash')
  assertHash(previousHash, 'previousHash')
  const n = ids.length
  if (!(scores instanceof Float64Array) || scores.length !== n) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `scores must be a Float64Array of ${n} values, aligned with ids`)
  }
  if (!(newcomers instanceof Uint8Array) || newcomers.length !== n) {
    throw new MemeReputationError(MemeReputationErrorCode.INVALID_INPUT, `newcomers must be a Uint8Array of ${n} flags, aligned with ids`)
  }
  const covered = input.sortKeys === undefined ? 0 : coveredPrefix(input.sortKeys, previousHash, ids)
  const prepared = input.sortKeys === undefined ? undefined : prefixesOf(input.sortKeys)
  // Without prepared keys nothing is covered (covered = 0), so the empty stand-ins are never read.
  const keyHighs = prepared?.high ?? NO_PREFIXES
  const keyLows = prepared?.low ?? NO_PREFIXES
  // Ids the prepared table covers were checked when it was made; the rest are checked here.
  for (let i = covered; i < n; i++) assertMemeId(ids[i], `ids[${i}]`)
  checkDistinct(ids, covered)

  // Step 3: pools by score, boundary ties by h_r, seats by the distribution.
  const B = config.bracketShares.length
  const NEWCOMERS = B
  const pool = new Uint16Array(n)
  const populations = new Array<number>(B + 1).fill(0)
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number
    if (!(s >= 0 && s <= 1)) {
      throw new MemeReputationError(MemeReputationErrorCode.SCORE_OUT_OF_RANGE, `scores[${i}] must be in [0, 1], got ${s}`, {
        index: i,
        memeId: ids[i],
        score: s,
      })
    }
    let p: number
    if (newcomers[i] !== 0) p = NEWCOMERS
    else {
      p = bracketOrTie(s, B)
      if (p < 0) {
        const upper = -p - 1
        p = tieGoesUp(resultHash, ids[i] as string) ? upper : upper - 1
      }
    }
    pool[i] = p
    // p is NEWCOMERS (= B) or a bracket in 0..B-1 (a tie goes to `upper` or `upper - 1`, both brackets), and
    // populations has B + 1 entries: the entry exists.
    populations[p] = (populations[p] as number) + 1
  }
  const offset = seatOffset(resultHash)
  const allocation = allocateSeats(config, populations.slice(0, B), populations[B] as number, offset)
  const capacity = [...allocation.filled, allocation.newcomersFilled]

  // Step 4: per pool, a bounded max-heap of the smallest keys (root = the worst one kept).
  const starts = new Int32Array(B + 2)
  for (let p = 0; p <= B; p++) starts[p + 1] = (starts[p] as number) + (capacity[p] as number)
  const total = starts[B + 1] as number
  const heapIndex = new Int32Array(total)
  const heapHigh = new Uint32Array(total)
  const heapLow = new Uint32Array(total)
  const sizes = new Int32Array(B + 1)
  const capacities = Int32Array.from(capacity)

  // a before b in the election order: smaller key first; on a 64-bit tie, the full keys, then the ids.
  const before = (ha: number, la: number, ia: number, hb: number, lb: number, ib: number): boolean => {
    if (ha !== hb) return ha < hb
    if (la !== lb) return la < lb
    const a = ids[ia] as string
    const b = ids[ib] as string
    const c = compareBytes(sortKeyUnchecked(previousHash, a), sortKeyUnchecked(previousHash, b))
    return c !== 0 ? c < 0 : a < b
  }

  for (let i = 0; i < n; i++) {
    const p = pool[i] as number
    const cap = capacities[p] as number
    if (cap === 0) continue
    let h: number
    let l: number
    if (i < covered) {
      // covered is the prepared table's length, so i < covered is in bounds of both prefix arrays.
      h = keyHighs[i] as number
      l = keyLows[i] as number
    } else {
      const key = sortKeyUnchecked(previousHash, ids[i] as string)
      h = keyHigh(key)
      l = keyLow(key)
    }
    const base = starts[p] as number
    let size = sizes[p] as number
    if (size < cap) {
      // Sift up from the new leaf.
      let c = size
      while (c > 0) {
        const parent = (c - 1) >> 1
        const at = base + parent
        if (!before(heapHigh[at] as number, heapLow[at] as number, heapIndex[at] as number, h, l, i)) break
        heapIndex[base + c] = heapIndex[at] as number
        heapHigh[base + c] = heapHigh[at] as number
        heapLow[base + c] = heapLow[at] as number
        c = parent
      }
      heapIndex[base + c] = i
      heapHigh[base + c] = h
      heapLow[base + c] = l
      sizes[p] = ++size
    } else if (before(h, l, i, heapHigh[base] as number, heapLow[base] as number, heapIndex[base] as number)) {
      // Replace the worst kept key and sift it down.
      let c = 0
      for (;;) {
        const left = 2 * c + 1
        if (left >= size) break
        let child = left
        const right = left + 1
        if (
          right < size &&
          before(
            heapHigh[base + left] as number,
            heapLow[base + left] as number,
            heapIndex[base + left] as number,
            heapHigh[base + right] as number,
            heapLow[base + right] as number,
            heapIndex[base + right] as number,
          )
        ) {
          child = right
        }
        const at = base + child
        if (!before(h, l, i, heapHigh[at] as number, heapLow[at] as number, heapIndex[at] as number)) break
        heapIndex[base + c] = heapIndex[at] as number
        heapHigh[base + c] = heapHigh[at] as number
        heapLow[base + c] = heapLow[at] as number
        c = child
      }
      heapIndex[base + c] = i
      heapHigh[base + c] = h
      heapLow[base + c] = l
    }
  }

  const seats: ElectedSeat[] = []
  const order = [...Array.from({ length: B }, (_, k) => B - 1 - k), NEWCOMERS]
  for (const p of order) {
    const base = starts[p] as number
    const kept = Array.from({ length: sizes[p] as number }, (_, k) => base + k)
    kept.sort((x, y) =>
      before(heapHigh[x] as number, heapLow[x] as number, heapIndex[x] as number, heapHigh[y] as number, heapLow[y] as number, heapIndex[y] as number) ? -1 : 1,
    )
    kept.forEach((slot, rank) => {
      const i = heapIndex[slot] as number
      const memeId = ids[i] as string
      seats.push({
        memeId,
        bracket: p === NEWCOMERS ? 'newcomers' : p,
        rank,
        sortKey: toHex(sortKeyUnchecked(previousHash, memeId)),
        score: scores[i] as number,
      })
    })
  }

  const pools: PoolRecord[] = []
  for (let b = 0; b < B; b++) {
    pools.push({
      bracket: b,
      lowerScore: b / B,
      upperScore: (b + 1) / B,
      population: populations[b] as number,
      allocatedSeats: allocation.allocated[b] as number,
      filledSeats: allocation.filled[b] as number,
    })
  }
  pools.push({
    bracket: 'newcomers',
    population: populations[B] as number,
    allocatedSeats: allocation.newcomersAllocated,
    filledSeats: allocation.newcomersFilled,
  })

  return {
    round,
    servesRound: round + 1,
    resultHash: toHex(resultHash),
    previousHash: toHex(previousHash),
    seatOffset: offset,
    elected: seats.map((s) => s.memeId),
    seats,
    pools,
  }
}
