/**
 * Small byte arrays carved out of shared slabs, as Node's `Buffer` pool does.
 *
 * Every decoded or built block keeps its wire bytes (a few hundred bytes). A fresh `Uint8Array` of that size costs
 * a backing-store allocation that the garbage collector then tracks — about as much as reading the whole block —
 * while a place in a 4 KiB slab costs nothing but the copy. A block keeps the slab's one view and its offsets
 * (`reserve`), or a view of its own (`allocateBytes`). The price is that a block keeps its slab alive: at worst
 * 4 KiB per block when a few blocks outlive all their neighbours. Larger arrays get their own buffer.
 */

const SLAB_BYTES = 4096
/** Arrays above this size are allocated on their own. */
const MAX_SLAB_ITEM = 1024

let slab = new Uint8Array(SLAB_BYTES)
let used = 0

let reserved = slab

/**
 * Room for `length` bytes: returns where they go in `reservedIn()`, which is the current slab, shared with other
 * callers' bytes (write only within [offset, offset + length)), or for a large length an array of its own.
 */
export function reserve(length: number): number {
  if (length > MAX_SLAB_ITEM) {
    reserved = new Uint8Array(length)
    return 0
  }
  if (used + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES)
    used = 0
  }
  reserved = slab
  const offset = used
  // Keep places 8-byte aligned, so that a DataView or a wider typed array over one never straddles oddly.
  used += (length + 7) & ~7
  return offset
}

/** Gives back the room the last `reserve` made at `offset`, when nothing was reserved since. */
export function unreserve(offset: number): void {
  if (reserved === slab && offset < used) used = offset
}

/** The array the last `reserve` made room in. */
export function reservedIn(): Uint8Array {
  return reserved
}

/** A zero-filled array of `length` bytes that the caller owns (other arrays may share its underlying buffer). */
export function allocateBytes(length: number): Uint8Array {
  const offset = reserve(length)
  return reserved.length === length ? reserved : reserved.subarray(offset, offset + length)
}

/** A private copy of `bytes`. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = allocateBytes(bytes.length)
  copy.set(bytes)
  return copy
}
