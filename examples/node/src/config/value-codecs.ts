/**
 * The io-ts codecs of single values the node's boundaries share (ids, hashes, counts, ports). Pure, so the
 * explorer's browser app decodes with them too; codecs.ts re-exports them beside the file reading.
 */
import * as t from 'io-ts'

export type Hex32 = string
/** A 32-byte value in lower-case hex: public keys (node ids) and hashes. */
export const Hex32Codec = t.refinement(t.string, (s): s is Hex32 => /^[0-9a-f]{64}$/.test(s), 'Hex32')

export const SafeNonNegativeInteger = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'SafeNonNegativeInteger')
export const SafePositiveInteger = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1, 'SafePositiveInteger')
export const PortCodec = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'Port')
