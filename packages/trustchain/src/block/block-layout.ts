/**
 * The canonical CBOR layout of a block's unsigned part, as the fast writer (block-writer.ts) emits it and the fast
 * reader (wire-reader.ts) expects it: a map of eight entries whose keys, sorted as canonical CBOR sorts them (shorter
 * first), are these text strings. One definition, so the two cannot drift apart.
 */

/** A short ASCII text string's canonical encoding (under 24 bytes: the length is in the head byte). */
export const textBytes = (text: string): Uint8Array => Uint8Array.from([0x60 + text.length, ...[...text].map((char) => char.charCodeAt(0))])

/** The head byte of a map of eight entries. */
export const MAP_OF_EIGHT = 0xa8
export const KEY_TYPE = textBytes('type')
export const KEY_PAYLOAD = textBytes('payload')
export const KEY_PUBLIC_KEY = textBytes('publicKey')
export const KEY_TIMESTAMP = textBytes('timestamp')
export const KEY_PREVIOUS_HASH = textBytes('previousHash')
export const KEY_LINK_PUBLIC_KEY = textBytes('linkPublicKey')
export const KEY_SEQUENCE_NUMBER = textBytes('sequenceNumber')
export const KEY_LINK_SEQUENCE_NUMBER = textBytes('linkSequenceNumber')
