/**
 * The LevelDB store's key layout, all keys binary, big-endian sequence numbers so that LevelDB's byte order is chain
 * order:
 *   'b' pk seq                  -> the block's wire bytes
 *   'h' hash                    -> pk seq (the position of the block with that hash)
 *   'l' linkPk linkSeq          -> pk seq, pk seq, ... (the link index: positions of the agreements to a proposal,
 *                                  one key per proposal so that a batch of lookups is one `getMany`)
 *   'f' pk proofId              -> the fraud proof's bytes
 */
import { concatBytes } from '@constellation/crypto'
import type { BlockKey } from '../block/half-block.js'

export const BLOCK = 0x62 // 'b'
export const HASH = 0x68 // 'h'
export const LINK = 0x6c // 'l'
export const FRAUD = 0x66 // 'f'
export const POSITION_LENGTH = 40

/** Writes a position (public key, big-endian 64-bit sequence number) into `out` at `offset`. */
function writePosition(out: Uint8Array, offset: number, publicKey: Uint8Array, sequenceNumber: number): void {
  out.set(publicKey, offset)
  const high = Math.floor(sequenceNumber / 0x100000000)
  const low = sequenceNumber >>> 0
  out[offset + 32] = high >>> 24
  out[offset + 33] = (high >>> 16) & 0xff
  out[offset + 34] = (high >>> 8) & 0xff
  out[offset + 35] = high & 0xff
  out[offset + 36] = low >>> 24
  out[offset + 37] = (low >>> 16) & 0xff
  out[offset + 38] = (low >>> 8) & 0xff
  out[offset + 39] = low & 0xff
}

export function position(publicKey: Uint8Array, sequenceNumber: number): Uint8Array {
  const out = new Uint8Array(POSITION_LENGTH)
  writePosition(out, 0, publicKey, sequenceNumber)
  return out
}

/** A key of one of the position-keyed kinds: the prefix byte, then the position. */
export function positionedKey(prefix: number, publicKey: Uint8Array, sequenceNumber: number): Uint8Array {
  const out = new Uint8Array(1 + POSITION_LENGTH)
  out[0] = prefix
  writePosition(out, 1, publicKey, sequenceNumber)
  return out
}

export function hashKey(hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + hash.length)
  out[0] = HASH
  out.set(hash, 1)
  return out
}

/** The sequence number of a position starting at `offset` of `at`. */
export function sequenceAt(at: Uint8Array, offset = 0): number {
  const high =
    (at[offset + 32] as number) * 0x1000000 + (((at[offset + 33] as number) << 16) | ((at[offset + 34] as number) << 8) | (at[offset + 35] as number))
  const low = (at[offset + 36] as number) * 0x1000000 + (((at[offset + 37] as number) << 16) | ((at[offset + 38] as number) << 8) | (at[offset + 39] as number))
  return high * 0x100000000 + low
}

export const prefixed = (prefix: number, ...parts: Uint8Array[]): Uint8Array => concatBytes(Uint8Array.of(prefix), ...parts)

/** The positions of a stored link list, as block keys. */
export function positionsIn(list: Uint8Array | undefined): BlockKey[] {
  if (list === undefined) return []
  const out: BlockKey[] = []
  for (let offset = 0; offset + POSITION_LENGTH <= list.length; offset += POSITION_LENGTH) {
    out.push({ publicKey: list.subarray(offset, offset + 32), sequenceNumber: sequenceAt(list, offset) })
  }
  return out
}

export function encodeLinkList(list: readonly BlockKey[]): Uint8Array {
  const out = new Uint8Array(list.length * POSITION_LENGTH)
  list.forEach((key, i) => writePosition(out, i * POSITION_LENGTH, key.publicKey, key.sequenceNumber))
  return out
}

/** The key range of the positions `from..to` of a chain under `prefix`. */
export function chainBounds(prefix: number, publicKey: Uint8Array, from: number, to: number): { gte: Uint8Array; lte: Uint8Array } {
  return {
    gte: positionedKey(prefix, publicKey, Math.max(from, 0)),
    lte: positionedKey(prefix, publicKey, Math.min(to, Number.MAX_SAFE_INTEGER)),
  }
}
