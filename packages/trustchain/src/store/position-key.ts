/**
 * Compact in-memory map keys for chains and positions. A public key becomes a 32-character string (one char per
 * byte), which is several times cheaper to build than hex and just as unambiguous; a position appends the decimal
 * sequence number after the fixed-length chain part.
 *
 * A node sees the same few thousand public keys over and over (every block names its own chain, and most name
 * another), so chain keys are spelled once per key in the key table (`block/key-table.ts`): looking one up costs a
 * map lookup (and, for a key that is not the table's own array, a 32-byte comparison) instead of building and
 * hashing a new string. Hot paths key positions by chain and then by sequence number (`PositionMap`), so they build
 * no position strings at all.
 */
import { keyAt, knownKey } from '../block/key-table.js'

/** The key of arbitrary bytes (hashes, for instance): not remembered. */
export function bytesKey(bytes: Uint8Array): string {
  if (bytes.length !== 32) return String.fromCharCode.apply(null, bytes as unknown as number[])
  const b = bytes
  // Explicit arguments: several times faster than `apply` on a typed array.
  return String.fromCharCode(
    b[0] as number,
    b[1] as number,
    b[2] as number,
    b[3] as number,
    b[4] as number,
    b[5] as number,
    b[6] as number,
    b[7] as number,
    b[8] as number,
    b[9] as number,
    b[10] as number,
    b[11] as number,
    b[12] as number,
    b[13] as number,
    b[14] as number,
    b[15] as number,
    b[16] as number,
    b[17] as number,
    b[18] as number,
    b[19] as number,
    b[20] as number,
    b[21] as number,
    b[22] as number,
    b[23] as number,
    b[24] as number,
    b[25] as number,
    b[26] as number,
    b[27] as number,
    b[28] as number,
    b[29] as number,
    b[30] as number,
    b[31] as number,
  )
}

/** A public key's chain key: spelled once per key while the key table holds it. */
export function chainKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) return bytesKey(publicKey)
  const entry = knownKey(publicKey) ?? keyAt(publicKey, 0)
  entry.chain ??= bytesKey(entry.bytes)
  return entry.chain
}

export function positionKey(publicKey: Uint8Array, sequenceNumber: number): string {
  return chainKey(publicKey) + sequenceNumber
}

/** A map keyed by position: by chain, then by sequence number. */
export class PositionMap<V> {
  readonly #chains = new Map<string, Map<number, V>>()
  #size = 0

  /** How many positions are held. */
  get size(): number {
    return this.#size
  }

  /** The positions held of one chain, by sequence number (a live view: do not change it). */
  chain(publicKey: Uint8Array): ReadonlyMap<number, V> | undefined {
    return this.#chains.get(chainKey(publicKey))
  }

  get(publicKey: Uint8Array, sequenceNumber: number): V | undefined {
    return this.#chains.get(chainKey(publicKey))?.get(sequenceNumber)
  }

  has(publicKey: Uint8Array, sequenceNumber: number): boolean {
    return this.#chains.get(chainKey(publicKey))?.has(sequenceNumber) ?? false
  }

  set(publicKey: Uint8Array, sequenceNumber: number, value: V): void {
    const chain = chainKey(publicKey)
    let positions = this.#chains.get(chain)
    if (positions === undefined) {
      positions = new Map()
      this.#chains.set(chain, positions)
    }
    const before = positions.size
    positions.set(sequenceNumber, value)
    this.#size += positions.size - before
  }

  delete(publicKey: Uint8Array, sequenceNumber: number): boolean {
    const chain = chainKey(publicKey)
    const positions = this.#chains.get(chain)
    if (positions === undefined || !positions.delete(sequenceNumber)) return false
    this.#size--
    if (positions.size === 0) this.#chains.delete(chain)
    return true
  }

  clear(): void {
    this.#chains.clear()
    this.#size = 0
  }
}
