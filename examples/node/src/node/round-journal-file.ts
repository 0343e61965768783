/**
 * The facilitator's round journal on disk (see @constellation/consensus `RoundJournal`): one append-only file in the
 * data dir, each batch of records written with one `write` and made durable with `fdatasync` before `append`
 * resolves — so before any message that depends on it leaves the node. When the node moves on, the rounds no restart
 * can need are dropped by writing the kept records to a new file, syncing it and renaming it over the old one, once
 * the dropped part is as large as the kept part (so the file stays within twice the last rounds' records).
 *
 * Layout: the 8-byte magic `CNRJ\0\0\0\1`, then entries `[length: u32 BE][check: first 8 bytes of SHA-256 of the
 * record][record: encodeRoundRecord]`. Loading checks every entry's size and checksum and decodes it with the record
 * codec. An entry cut short or failing its checksum at the very end is the torn tail of a write that was never
 * reported durable: it is cut off (`truncatedBytes`). Anything else that does not read — a bad magic, a bad entry
 * followed by more data, a record that does not decode, a file over the size bound — is refused with INVALID_JOURNAL:
 * resuming from a part of it could send messages that conflict with those sent before.
 */
import { createHash } from 'node:crypto'
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import {
  ConsensusError,
  ConsensusErrorCode,
  decodeRoundRecord,
  encodeRoundRecord,
  keptRecords,
  MAX_ROUND_RECORD_BYTES,
  type RoundJournal,
  type RoundRecord,
} from '@constellation/consensus'

const MAGIC = Uint8Array.of(0x43, 0x4e, 0x52, 0x4a, 0, 0, 0, 1)
const ENTRY_HEADER_BYTES = 12
/** A journal holds a few rounds' frames; a file far larger than that is not one this node wrote. */
export const MAX_ROUND_JOURNAL_BYTES = 512 << 20

export interface RoundJournalFile extends RoundJournal {
  readonly path: string
  /** Whether the file was created by this open (there was no journal before). */
  readonly created: boolean
  /** Bytes of a torn last entry cut off when the file was opened (0 when it ended cleanly). */
  readonly truncatedBytes: number
  /** Records kept, and the file's size now. */
  readonly size: { readonly records: number; readonly bytes: number }
  close(): Promise<void>
}

interface Entry {
  readonly record: RoundRecord
  readonly bytes: Uint8Array
}

function checksum(record: Uint8Array): Uint8Array {
  return createHash('sha256').update(record).digest().subarray(0, 8)
}

function entryOf(record: RoundRecord): Entry {
  const encoded = encodeRoundRecord(record)
  const bytes = new Uint8Array(ENTRY_HEADER_BYTES + encoded.length)
  new DataView(bytes.buffer).setUint32(0, encoded.length)
  bytes.set(checksum(encoded), 4)
  bytes.set(encoded, ENTRY_HEADER_BYTES)
  return { record, bytes }
}

function refused(path: string, why: string, detail: Record<string, unknown> = {}, cause?: unknown): ConsensusError {
  return new ConsensusError(
    ConsensusErrorCode.INVALID_JOURNAL,
    `the round journal ${path} cannot be resumed from: ${why}. Move it away to start the node; it will then sit out the rounds it may have facilitated`,
    { path, ...detail },
    cause === undefined ? undefined : { cause },
  )
}

/** Reads the entries of a journal file: those that read, and where the clean part ends. */
function readEntries(path: string, file: Uint8Array): { entries: Entry[]; end: number } {
  if (file.length < MAGIC.length || !MAGIC.every((byte, i) => file[i] === byte)) throw refused(path, 'it does not start as a round journal')
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const entries: Entry[] = []
  let offset = MAGIC.length
  while (offset < file.length) {
    if (file.length - offset < ENTRY_HEADER_BYTES) break // a header cut short: the torn tail
    const length = view.getUint32(offset)
    if (length === 0 || length > MAX_ROUND_RECORD_BYTES + 256) throw refused(path, `an entry at byte ${offset} states ${length} bytes`, { offset })
    const end = offset + ENTRY_HEADER_BYTES + length
    if (end > file.length) break // a record cut short: the torn tail
    const encoded = file.subarray(offset + ENTRY_HEADER_BYTES, end)
    const check = checksum(encoded)
    if (!check.every((byte, i) => file[offset + 4 + i] === byte)) {
      if (end === file.length) break // the last entry, partly written: the torn tail
      throw refused(path, `the entry at byte ${offset} fails its checksum, and more follows it`, { offset })
    }
    let record: RoundRecord
    try {
      record = decodeRoundRecord(encoded)
    } catch (cause) {
      throw refused(path, `the entry at byte ${offset} is not a round record`, { offset }, cause)
    }
    entries.push({ record, bytes: file.slice(offset, end) })
    offset = end
  }
  return { entries, end: offset }
}

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(dirname(path), 'r')
  try {
    await directory.sync()
  } finally {
    await directory.close()
  }
}

/** Opens (or creates) the journal at `path`; throws INVALID_JOURNAL when it holds something that does not read. */
export async function openRoundJournalFile(path: string): Promise<RoundJournalFile> {
  await rm(`${path}.new`, { force: true })
  let entries: Entry[] = []
  let truncatedBytes = 0
  let handle: FileHandle
  const size = await stat(path).then(
    (stats) => stats.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined
      throw error
    },
  )
  if (size === undefined) {
    handle = await open(path, 'w+', 0o600)
    await handle.write(MAGIC, 0, MAGIC.length, 0)
    await handle.datasync()
    await syncDirectory(path)
  } else {
    if (size > MAX_ROUND_JOURNAL_BYTES) throw refused(path, `it is ${size} bytes, over the bound of ${MAX_ROUND_JOURNAL_BYTES}`, { size })
    handle = await open(path, 'r+')
    try {
      const file = new Uint8Array(size)
      const { bytesRead } = await handle.read(file, 0, size, 0)
      if (bytesRead !== size) throw refused(path, `${bytesRead} of its ${size} bytes could be read`)
      const read = readEntries(path, file)
      entries = read.entries
      truncatedBytes = size - read.end
      if (truncatedBytes > 0) {
        await handle.truncate(read.end)
        await handle.datasync()
      }
    } catch (error) {
      await handle.close()
      throw error
    }
  }
  let bytes = MAGIC.length + entries.reduce((sum, entry) => sum + entry.bytes.length, 0)
  // One operation at a time, in order: a prune's rewrite must not interleave with an append.
  let queue: Promise<void> = Promise.resolve()
  let failed: unknown
  let closed = false
  const serial = (operation: () => Promise<void>): Promise<void> => {
    const next = queue.then(() => {
      if (closed) throw new ConsensusError(ConsensusErrorCode.STOPPED, 'the round journal is closed')
      // After a failed write the file may end in a part of it: nothing more is appended behind that.
      if (failed !== undefined) throw refused(path, 'an earlier write failed', {}, failed)
      return operation()
    })
    queue = next.catch(() => undefined)
    return next
  }

  const rewrite = async (kept: Entry[]): Promise<void> => {
    const fresh = `${path}.new`
    const out = await open(fresh, 'w', 0o600)
    let written = 0
    try {
      const buffer = Buffer.concat([MAGIC, ...kept.map((entry) => entry.bytes)])
      await out.write(buffer, 0, buffer.length, 0)
      await out.datasync()
      written = buffer.length
    } finally {
      await out.close()
    }
    await rename(fresh, path)
    await syncDirectory(path)
    await handle.close()
    handle = await open(path, 'r+')
    entries = kept
    bytes = written
  }

  return {
    path,
    created: size === undefined,
    truncatedBytes,
    get size() {
      return { records: entries.length, bytes }
    },
    load: () => entries.map((entry) => entry.record),
    append(records) {
      const added = records.map(entryOf)
      return serial(async () => {
        const buffer = Buffer.concat(added.map((entry) => entry.bytes))
        try {
          await handle.write(buffer, 0, buffer.length, bytes)
          await handle.datasync()
        } catch (error) {
          failed = error
          throw error
        }
        bytes += buffer.length
        entries.push(...added)
      })
    },
    prune(round) {
      return serial(async () => {
        const kept = keptRecords(
          entries.map((entry) => entry.record),
          round,
        )
        if (kept.length === entries.length) return
        const keep = new Set(kept)
        const keptEntries = entries.filter((entry) => keep.has(entry.record))
        const keptBytes = keptEntries.reduce((sum, entry) => sum + entry.bytes.length, 0)
        // Rewriting costs a file and two syncs: done once the dropped part is at least the kept part.
        if (bytes - MAGIC.length - keptBytes < keptBytes) return
        try {
          await rewrite(keptEntries)
        } catch (error) {
          failed = error
          throw error
        }
      })
    },
    async close() {
      await queue
      closed = true
      await handle.close()
    },
  }
}
