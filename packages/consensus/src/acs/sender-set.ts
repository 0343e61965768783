/**
 * Immutable sets of facilitator indices (who sent an ECHO, a READY, a BVAL(b), ...), as 32-bit words.
 *
 * A protocol step copies only what it touches; a sender set of n facilitators is ceil(n / 32) numbers, so adding a
 * sender copies one or a few words rather than a `Set`, and the quorum counts the protocol asks for are popcounts.
 */

export type SenderSet = readonly number[]

export function emptySenderSet(participants: number): SenderSet {
  return new Array<number>(Math.max(1, Math.ceil(participants / 32))).fill(0)
}

export function hasSender(set: SenderSet, index: number): boolean {
  return (((set[index >>> 5] ?? 0) >>> (index & 31)) & 1) === 1
}

/** The set with `index` added (the same set when it is already there). */
export function withSender(set: SenderSet, index: number): SenderSet {
  if (hasSender(set, index)) return set
  const copy = set.slice()
  copy[index >>> 5] = ((copy[index >>> 5] ?? 0) | (1 << (index & 31))) >>> 0
  return copy
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff
}

export function senderCount(set: SenderSet): number {
  let count = 0
  for (const word of set) count += popcount(word)
  return count
}

/** |a ∪ b|: senders counted once even when they appear in both (a TERM also counts as a BVAL, an AUX...). */
export function unionCount(a: SenderSet, b: SenderSet): number {
  let count = 0
  for (let i = 0; i < a.length; i++) count += popcount((a[i] ?? 0) | (b[i] ?? 0))
  return count
}

/** |a ∪ b ∪ c|. */
export function unionCount3(a: SenderSet, b: SenderSet, c: SenderSet): number {
  let count = 0
  for (let i = 0; i < a.length; i++) count += popcount((a[i] ?? 0) | (b[i] ?? 0) | (c[i] ?? 0))
  return count
}

/** The indices in the set, ascending. */
export function senderIndices(set: SenderSet): number[] {
  const indices: number[] = []
  for (let w = 0; w < set.length; w++) {
    let word = set[w] ?? 0
    while (word !== 0) {
      const bit = 31 - Math.clz32(word & -word)
      indices.push(w * 32 + bit)
      word = (word & (word - 1)) >>> 0
    }
  }
  return indices
}
