/**
 * Compact in-memory map keys for chains and positions. A public key becomes a 32-character string (one char per
 * byte), which is several times cheaper to build than hex and just as unambiguous; a position appends the decimal
 * sequence number after the fixed-length chain part.
 */
export function chainKey(publicKey: Uint8Array): string {
  return String.fromCharCode.apply(null, publicKey as unknown as number[])
}

export function positionKey(publicKey: Uint8Array, sequenceNumber: number): string {
  return chainKey(publicKey) + sequenceNumber
}
