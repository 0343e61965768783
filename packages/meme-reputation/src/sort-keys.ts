/**
 * Prepared sort keys. The fourth step sorts by `H(h_{r-1} || memeId)`, which depends only on ids and on the
 * previous round's hash, both public one whole round before the election that uses them. Hashing a million ids
 * takes about two seconds of SHA-256 in JavaScript, so a node prepares the keys while round r runs and the
 * election, once `h_r` arrives, only compares numbers. The election refuses keys prepared for another
 * `h_{r-1}` or another id list, so a stale table can never change a committee.
 */
import { assertArray, assertHash, assertMemeId } from './check.js'
import { MemeReputationError, MemeReputationErrorCode } from './errors.js'
import { keyHigh, keyLow, sortKeyUnchecked, toHex } from './hash.js'

export interface SortKeys {
  /** `h_{r-1}` the keys were prepared for, in hex. */
  readonly previousHash: string
  /**
   * A frozen copy of the ids the keys were computed for, in order. Passing this very array as the election's
   * `ids` skips the id-by-id comparison; a copy is kept so that later changes to the caller's array cannot
   * separate ids from their keys.
   */
  readonly ids: readonly string[]
}

/**
 * What the election reads from a prepared table, kept out of the caller's reach: typed arrays cannot be frozen,
 * and a table the caller could edit would let it choose who is elected while the record shows the true keys.
 */
export interface PreparedPrefixes {
  readonly previousHash: Uint8Array
  /** Bytes 0..3 and 4..7 of each key, big-endian: the order of these pairs is the order of the keys. */
  readonly high: Uint32Array
  readonly low: Uint32Array
}

const preparedTables = new WeakMap<object, PreparedPrefixes>()

/** The prepared key prefixes of a table (package-internal: the election and its tests). */
export function prefixesOf(table: SortKeys): PreparedPrefixes {
  const prefixes = preparedTables.get(table)
  if (prefixes === undefined) {
    throw new MemeReputationError(MemeReputationErrorCode.SORT_KEYS_MISMATCH, 'sortKeys must come from prepareSortKeys')
  }
  return prefixes
}

/** Throws DUPLICATE_MEME if two ids are equal. */
export function assertDistinctIds(ids: readonly string[]): void {
  const seen = new Set<string>()
  for (const id of ids) {
    if (seen.has(id)) {
      throw new MemeReputationError(MemeReputationErrorCode.DUPLICATE_MEME, `meme '${id}' appears twice`, { memeId: id })
    }
    seen.add(id)
  }
}

/** Computes every id's sort key prefix for the election that will use `previousHash` as `h_{r-1}`. */
export function prepareSortKeys(previousHash: Uint8Array, ids: readonly string[]): SortKeys {
  assertHash(previousHash, 'previousHash')
  assertArray(ids, 'ids')
  const list = Object.freeze(ids.slice())
  const high = new Uint32Array(list.length)
  const low = new Uint32Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const id = list[i]
    assertMemeId(id, `ids[${i}]`)
    const key = sortKeyUnchecked(previousHash, id)
    high[i] = keyHigh(key)
    low[i] = keyLow(key)
  }
  assertDistinctIds(list)
  const table: SortKeys = Object.freeze({ previousHash: toHex(previousHash), ids: list })
  preparedTables.set(table, Object.freeze({ previousHash: previousHash.slice(), high, low }))
  return table
}

/**
 * How many leading ids `keys` covers, after checking that the table came from prepareSortKeys for this
 * `previousHash` and that its ids are exactly the first ids of the election (compared one by one unless the
 * list is the very same array). Ids beyond the prefix (memes admitted since) are hashed by the election.
 */
export function coveredPrefix(keys: unknown, previousHash: Uint8Array, ids: readonly string[]): number {
  if (typeof keys !== 'object' || keys === null || !preparedTables.has(keys)) {
    throw new MemeReputationError(MemeReputationErrorCode.SORT_KEYS_MISMATCH, 'sortKeys must come from prepareSortKeys')
  }
  const table = keys as SortKeys
  const prepared = prefixesOf(table)
  for (let i = 0; i < previousHash.length; i++) {
    if (prepared.previousHash[i] !== previousHash[i]) {
      throw new MemeReputationError(MemeReputationErrorCode.SORT_KEYS_MISMATCH, 'sortKeys were prepared for another previousHash')
    }
  }
  const covered = table.ids.length
  if (covered > ids.length) {
    throw new MemeReputationError(MemeReputationErrorCode.SORT_KEYS_MISMATCH, 'sortKeys cover more ids than the election has', {
      covered,
      ids: ids.length,
    })
  }
  if (table.ids !== ids) {
    for (let i = 0; i < covered; i++) {
      if (table.ids[i] !== ids[i]) {
        throw new MemeReputationError(MemeReputationErrorCode.SORT_KEYS_MISMATCH, `sortKeys were prepared for another id at index ${i}`, {
          index: i,
        })
      }
    }
  }
  return covered
}
