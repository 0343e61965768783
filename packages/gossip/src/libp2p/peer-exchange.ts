/**
 * Peer discovery on libp2p's signed peer records. Identify leaves each neighbour's signed peer record in the peer
 * store: its listen addresses, sealed with its key, with a sequence number. That record is what two nodes exchange
 * here, over the network's request protocol (`PEER_EXCHANGE_PROTOCOL`):
 *   - when two nodes meet, each asks the other for the records of the peers it is connected to, so a node given one
 *     bootstrap address learns how to reach the others its neighbour knows;
 *   - when a node must reach a peer whose addresses it lacks, it asks its neighbours for that peer's record (the
 *     network registers this as a libp2p peer router, which libp2p consults when it dials a peer id it has no
 *     addresses for).
 * A record enters the peer store only through `consumePeerRecord`, which checks the seal and keeps only a newer
 * sequence number than the one it holds: a neighbour can withhold records, never forge or roll one back, and a
 * record names addresses only (Noise still proves the key of whoever answers at them).
 *
 * Wire form — request: empty (the records of your peers), or a 32-byte public key (that peer's record). Answer: a
 * count byte, then per record a big-endian u16 length and the record's envelope bytes.
 */
import { GossipError, GossipErrorCode } from '../errors.js'

export const PEER_EXCHANGE_PROTOCOL = '/constellation/peers/1'
/** Records in one answer: a node describes at most this many of its peers (a neighbour asks several nodes). */
export const MAX_EXCHANGED_RECORDS = 64
/** One signed peer record: a key, a sequence number and a few addresses take a few hundred bytes. */
export const MAX_PEER_RECORD_BYTES = 2_048

/** What a peer-exchange request asks for. */
export type PeerExchangeQuery = { readonly kind: 'neighbours' } | { readonly kind: 'peer'; readonly publicKey: Uint8Array }

export function encodePeerExchangeQuery(query: PeerExchangeQuery): Uint8Array {
  return query.kind === 'neighbours' ? new Uint8Array(0) : Uint8Array.from(query.publicKey)
}

export function decodePeerExchangeQuery(bytes: Uint8Array): PeerExchangeQuery {
  if (bytes.length === 0) return { kind: 'neighbours' }
  if (bytes.length === 32) return { kind: 'peer', publicKey: bytes.slice() }
  throw new GossipError(GossipErrorCode.INVALID_INPUT, `a peer-exchange request is empty or a 32-byte key, got ${bytes.length} bytes`)
}

export function encodePeerRecords(records: readonly Uint8Array[]): Uint8Array {
  if (records.length > MAX_EXCHANGED_RECORDS) {
    throw new GossipError(GossipErrorCode.INVALID_INPUT, `at most ${MAX_EXCHANGED_RECORDS} peer records per answer, got ${records.length}`)
  }
  let size = 1
  for (const record of records) {
    if (record.length === 0 || record.length > MAX_PEER_RECORD_BYTES) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `a peer record is 1–${MAX_PEER_RECORD_BYTES} bytes, got ${record.length}`)
    }
    size += 2 + record.length
  }
  const out = new Uint8Array(size)
  out[0] = records.length
  let at = 1
  for (const record of records) {
    out[at] = record.length >> 8
    out[at + 1] = record.length & 0xff
    out.set(record, at + 2)
    at += 2 + record.length
  }
  return out
}

/** The records of an answer, each within its bounds and the answer exactly consumed; INVALID_INPUT otherwise. */
export function decodePeerRecords(bytes: Uint8Array): Uint8Array[] {
  const malformed = (why: string) => new GossipError(GossipErrorCode.INVALID_INPUT, `malformed peer-exchange answer: ${why}`)
  if (bytes.length === 0) throw malformed('empty')
  const count = bytes[0] as number
  if (count > MAX_EXCHANGED_RECORDS) throw malformed(`${count} records, at most ${MAX_EXCHANGED_RECORDS}`)
  const records: Uint8Array[] = []
  let at = 1
  for (let index = 0; index < count; index++) {
    if (at + 2 > bytes.length) throw malformed(`record ${index} has no length`)
    const length = ((bytes[at] as number) << 8) | (bytes[at + 1] as number)
    if (length === 0 || length > MAX_PEER_RECORD_BYTES) throw malformed(`record ${index} is ${length} bytes`)
    if (at + 2 + length > bytes.length) throw malformed(`record ${index} runs past the end`)
    records.push(bytes.slice(at + 2, at + 2 + length))
    at += 2 + length
  }
  if (at !== bytes.length) throw malformed(`${bytes.length - at} bytes after the last record`)
  return records
}
