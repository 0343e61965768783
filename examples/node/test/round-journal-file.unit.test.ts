/**
 * The round journal on disk: what was appended is read back after a reopen; a torn last entry (a write cut short,
 * never reported durable) is cut off and the journal goes on; a bad entry with more after it, a file that is not a
 * journal and an entry stating an absurd size are refused with INVALID_JOURNAL rather than read in part; pruning
 * rewrites the file to the rounds a restart can need.
 */
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConsensusErrorCode, type RoundRecord } from '@constellation/consensus'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openRoundJournalFile } from '../src/node/round-journal-file.js'

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'round-journal-'))
  path = join(dir, 'round-journal')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const FROM = 'ab'.repeat(32)
const seed = (round: number): RoundRecord => ({ type: 'seed', round, resultHash: new Uint8Array(32).fill(round) })
const frame = (round: number, size = 100): RoundRecord => ({ type: 'frame', round, from: FROM, bytes: new Uint8Array(size).fill(round) })

async function refusal(): Promise<string | undefined> {
  try {
    const journal = await openRoundJournalFile(path)
    await journal.close()
    return undefined
  } catch (error) {
    return (error as { code?: string }).code
  }
}

describe('the round journal file', () => {
  it('reads back what was appended, across reopens', async () => {
    const journal = await openRoundJournalFile(path)
    expect(journal.created).toBe(true)
    const records = [seed(1), { type: 'proposal', round: 1, value: new Uint8Array([1, 2]) } as RoundRecord, frame(1), frame(2)]
    await journal.append(records.slice(0, 2))
    await journal.append(records.slice(2))
    await journal.close()
    const again = await openRoundJournalFile(path)
    expect(again.created).toBe(false)
    expect(again.truncatedBytes).toBe(0)
    expect(await again.load()).toEqual(records)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    await again.close()
  })

  it('cuts off a torn last entry and goes on appending', async () => {
    const journal = await openRoundJournalFile(path)
    await journal.append([seed(1), frame(1)])
    await journal.append([frame(1, 300)])
    await journal.close()
    const full = (await stat(path)).size
    await truncate(path, full - 17)
    const torn = await openRoundJournalFile(path)
    expect(torn.truncatedBytes).toBeGreaterThan(0)
    expect(await torn.load()).toEqual([seed(1), frame(1)])
    await torn.append([frame(1, 5)])
    await torn.close()
    const after = await openRoundJournalFile(path)
    expect(await after.load()).toEqual([seed(1), frame(1), frame(1, 5)])
    await after.close()
    // A last entry whose bytes are all there but wrong (a partly written page) is a torn tail too.
    const bytes = await readFile(path)
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1)
    await writeFile(path, bytes)
    const flipped = await openRoundJournalFile(path)
    expect(await flipped.load()).toEqual([seed(1), frame(1)])
    await flipped.close()
  })

  it('refuses a bad entry with more after it, a file that is not a journal, and an absurd size (INVALID_JOURNAL)', async () => {
    const journal = await openRoundJournalFile(path)
    await journal.append([seed(1), frame(1), frame(2)])
    await journal.close()
    const good = await readFile(path)
    // A byte of the first record's payload flipped: its checksum fails and entries follow it.
    const corrupt = Buffer.from(good)
    corrupt.writeUInt8(corrupt.readUInt8(8 + 12 + 5) ^ 0x01, 8 + 12 + 5)
    await writeFile(path, corrupt)
    expect(await refusal()).toBe(ConsensusErrorCode.INVALID_JOURNAL)
    const notJournal = Buffer.from(good)
    notJournal[0] = 0x58
    await writeFile(path, notJournal)
    expect(await refusal()).toBe(ConsensusErrorCode.INVALID_JOURNAL)
    const absurd = Buffer.from(good)
    absurd.writeUInt32BE(0xfffffff0, 8)
    await writeFile(path, absurd)
    expect(await refusal()).toBe(ConsensusErrorCode.INVALID_JOURNAL)
    await writeFile(path, good)
    expect(await refusal()).toBeUndefined()
  })

  it('keeps only the rounds a restart can need once it moves on', async () => {
    const journal = await openRoundJournalFile(path)
    for (let round = 1; round <= 8; round++) {
      await journal.append([seed(round), frame(round, 1_000)])
      await journal.prune(round)
    }
    await journal.close()
    const again = await openRoundJournalFile(path)
    const rounds = new Set((await again.load()).map((record) => record.round))
    // The current round and the two before it are always there; a few older ones at most, until the next rewrite.
    for (const round of [6, 7, 8]) expect(rounds.has(round)).toBe(true)
    expect(rounds.size).toBeLessThanOrEqual(6)
    expect((await stat(path)).size).toBeLessThan(6 * 1_200)
    await again.close()
  })
})
