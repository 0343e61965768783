/**
 * A round journal in memory: for the simulator and tests, where the journal object stands for a disk that outlives
 * the node (a new node built on it resumes as a restarted process would), and the default of a `SolarSystemNode`
 * given none, where it carries the round over a `stop()` and `start()` of the same node. It survives no process.
 */
import { keptRecords, type RoundJournal, type RoundRecord } from '../round/round-journal.js'

export interface MemoryRoundJournalOptions {
  /**
   * Whether appends complete a moment later (a resolved promise) rather than at once, as a disk's do: the shell then
   * batches what arrives meanwhile, and a node stopped in between has records kept whose messages never left.
   */
  readonly deferred?: boolean
}

export interface MemoryRoundJournal extends RoundJournal {
  /** The records kept now, oldest first. */
  readonly records: readonly RoundRecord[]
  /** Appends so far (each a batch of records). */
  readonly appends: number
}

export function createMemoryRoundJournal(options: MemoryRoundJournalOptions = {}): MemoryRoundJournal {
  let records: RoundRecord[] = []
  let appends = 0
  return {
    get records() {
      return records
    },
    get appends() {
      return appends
    },
    load: () => [...records],
    append(batch) {
      records.push(...batch)
      appends++
      return options.deferred === true ? Promise.resolve() : undefined
    },
    prune(round) {
      records = keptRecords(records, round)
    },
  }
}
