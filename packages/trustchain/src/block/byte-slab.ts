/**
 * Small byte arrays carved out of shared slabs, as Node's `Buffer` pool does.
 *
 * Every decoded or built block keeps its wire bytes (a few hundred bytes). A fresh `Uint8Array` of that size costs
 * a backing-store allocation that the garbage collector then tracks — about as much as reading the whole block —
 * while a view into a 4 KiB slab costs a small object. The price is that a view keeps its slab alive: at worst
 * 4 KiB per block when a few blocks outlive all their neighbours. Larger arrays get their own buffer.
 */

const SLAB_BYTES = 4096
/** Arrays above this size are allocated on their own. */
const MAX_SLAB_ITEM = 1024

let slab = new ArrayBuffer(SLAB_BYTES)
let used = 0

/** A zero-filled array of `length` bytes that the caller owns (other arrays may share its underlying buffer). */
export function allocateBytes(length: number): Uint8Array {
  if (length > MAX_SLAB_ITEM) return new Uint8Array(length)
  if (used + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    used = 0
  }
  const bytes = new Uint8Array(slab, used, length)
  // Keep views 8-byte aligned, so that a DataView or a wider typed array over one never straddles oddly.
  used += (length + 7) & ~7
  return bytes
}

/** A private copy of `bytes`. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = allocateBytes(bytes.length)
  copy.set(bytes)
  return copy
}
