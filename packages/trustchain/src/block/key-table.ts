/**
 * The public keys seen lately, each kept once.
 *
 * A node meets the same few thousand public keys over and over: every block names its own chain, and a transaction
 * names another. Decoding gives the blocks of one chain one shared `Uint8Array` for their key — as the block
 * builders do with an author's key — instead of a new view per block (fewer objects for the garbage collector to
 * copy, in a store that keeps every block), and each key's map key for in-memory indexes is spelled once. Keys
 * are found by their first four bytes, which are uniformly random; a second key with the same four bytes is simply
 * not kept (correct, just not shared). The table starts afresh when it is full: it is a cache, and inventing keys
 * only slows it down.
 */

export interface KnownKey {
  /** The key's bytes: a private copy, shared by the blocks decoded with this key (never change it). */
  readonly bytes: Uint8Array
  /** The key as a 32-character string, one character per byte, for in-memory maps (spelled when first asked for). */
  chain: string | undefined
}

const known = new Map<number, KnownKey>()
const MAX_KNOWN = 16_384

const tagAt = (bytes: Uint8Array, offset: number): number =>
  (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8) | ((bytes[offset + 2] as number) << 16) | ((bytes[offset + 3] as number) << 24)

function sameAt(key: Uint8Array, bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 32; i++) if (key[i] !== bytes[offset + i]) return false
  return true
}

/** The entry of the 32-byte key at `offset` of `bytes`: the table's own, or a fresh one that the table did not keep. */
export function keyAt(bytes: Uint8Array, offset: number): KnownKey {
  const tag = tagAt(bytes, offset)
  const entry = known.get(tag)
  if (entry !== undefined && sameAt(entry.bytes, bytes, offset)) return entry
  const fresh: KnownKey = { bytes: bytes.slice(offset, offset + 32), chain: undefined }
  if (entry === undefined) {
    if (known.size >= MAX_KNOWN) known.clear()
    known.set(tag, fresh)
  }
  return fresh
}

/** The table's entry for a 32-byte key, if it holds one (the shared array itself is recognised without comparing). */
export function knownKey(publicKey: Uint8Array): KnownKey | undefined {
  const entry = known.get(tagAt(publicKey, 0))
  return entry !== undefined && (entry.bytes === publicKey || sameAt(entry.bytes, publicKey, 0)) ? entry : undefined
}
