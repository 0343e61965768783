/**
 * The round driver's writes to its round journal (see round/round-journal.ts): nothing a step makes the machine send
 * leaves, and no frame is acknowledged, before the step's records are durable. The steps taken while a write is under
 * way go into the next write, so a busy round costs a few writes, not one per message. Without a journal the
 * effects are performed, and frames answered, at once.
 */
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { FacilitatorRoundState, RoundEffect } from '../round/facilitator-round.js'
import type { RoundJournal, RoundRecord } from '../round/round-journal.js'

/** The (empty) answer to a round frame: its acknowledgement. */
export const NO_ANSWER = new Uint8Array(0)

/** An effect of a step, with the machine that made it. */
export interface MachineEffect<I> {
  readonly machine: FacilitatorRoundState<I>
  readonly effect: RoundEffect
}

/** The answer to a round frame, given once the records it led to are durable (at once without a journal). */
class FrameAnswer {
  #outcome: { readonly error?: unknown } | undefined
  #waiting: { resolve: (bytes: Uint8Array) => void; reject: (error: unknown) => void } | undefined

  settle(error?: unknown): void {
    if (this.#outcome !== undefined) return
    this.#outcome = error === undefined ? {} : { error }
    if (error === undefined) this.#waiting?.resolve(NO_ANSWER)
    else this.#waiting?.reject(error)
  }

  /** The bytes at once when settled already (a synchronous journal), else a promise of them. */
  answer(): Uint8Array | Promise<Uint8Array> {
    const outcome = this.#outcome
    if (outcome !== undefined) {
      if ('error' in outcome) throw outcome.error
      return NO_ANSWER
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting = { resolve, reject }
    })
  }
}

/** Records waiting for a journal write, with the effects and frame answers that must wait for them. */
interface JournalBatch<I> {
  readonly records: RoundRecord[]
  readonly effects: MachineEffect<I>[]
  readonly answers: FrameAnswer[]
}

export class JournalWriter<I> {
  readonly #journal: RoundJournal | undefined
  readonly #perform: (effect: MachineEffect<I>) => void
  readonly #abandoned: (error: unknown) => void
  /** Records (and what waits on them) gathered while a journal write is under way. */
  #batch: JournalBatch<I> | undefined
  #writing = false
  /** Counts the driver's lives (`stop` ends one): a write that completes in a later life releases nothing. */
  #life = 0

  /**
   * `perform` carries out an effect once it may leave; `abandoned` is told of a failed write, after which nothing
   * that waited on it leaves (the driver gives the round up).
   */
  constructor(journal: RoundJournal | undefined, perform: (effect: MachineEffect<I>) => void, abandoned: (error: unknown) => void) {
    this.#journal = journal
    this.#perform = perform
    this.#abandoned = abandoned
  }

  /** Adds a record to the batch the next write takes. */
  record(record: RoundRecord): void {
    this.#batch ??= { records: [], effects: [], answers: [] }
    this.#batch.records.push(record)
  }

  /** Performs `effects` once the records gathered so far are durable (at once without a journal). */
  commit(effects: readonly MachineEffect<I>[]): void {
    this.#commit(effects)
  }

  /** The answer to a frame just taken: given once the records gathered so far are durable (at once without a journal). */
  answer(): Uint8Array | Promise<Uint8Array> {
    const answer = new FrameAnswer()
    this.#commit([], answer)
    return answer.answer()
  }

  /** The node stopped: what was journalled stays journalled; what waited on a write leaves in no life (a restart sends it again). */
  stop(): void {
    this.#life++
    this.#writing = false
    const batch = this.#batch
    this.#batch = undefined
    for (const answer of batch?.answers ?? []) answer.settle(stoppedError())
  }

  #commit(effects: readonly MachineEffect<I>[], answer?: FrameAnswer): void {
    if (this.#journal === undefined) {
      for (const effect of effects) this.#perform(effect)
      answer?.settle()
      return
    }
    if (effects.length === 0 && answer === undefined && this.#batch === undefined) return
    this.#batch ??= { records: [], effects: [], answers: [] }
    this.#batch.effects.push(...effects)
    if (answer !== undefined) this.#batch.answers.push(answer)
    this.#write()
  }

  /** Writes the gathered batch unless a write is under way (its completion writes the next one). */
  #write(): void {
    const journal = this.#journal
    const batch = this.#batch
    if (journal === undefined || batch === undefined || this.#writing) return
    this.#batch = undefined
    if (batch.records.length === 0) return this.#release(batch)
    const life = this.#life
    let written: void | Promise<void>
    try {
      written = journal.append(batch.records)
    } catch (error) {
      return this.#abandon(batch, error)
    }
    // Stopped during the write (the process died, as far as this life goes): what it held never leaves.
    if (life !== this.#life) return batch.answers.forEach((answer) => answer.settle(stoppedError()))
    if (written === undefined) return this.#release(batch)
    this.#writing = true
    written.then(
      () => {
        if (life !== this.#life) return batch.answers.forEach((answer) => answer.settle(stoppedError()))
        this.#writing = false
        this.#release(batch)
        this.#write()
      },
      (error: unknown) => {
        if (life !== this.#life) return batch.answers.forEach((answer) => answer.settle(stoppedError()))
        this.#writing = false
        this.#abandon(batch, error)
      },
    )
  }

  #release(batch: JournalBatch<I>): void {
    for (const effect of batch.effects) this.#perform(effect)
    for (const answer of batch.answers) answer.settle()
  }

  /**
   * A journal write failed: what waited on it must never leave (a restart would not know it), nor what the machine
   * did since. The driver gives the round up (it counts as one of the t faults); the next one starts afresh.
   */
  #abandon(batch: JournalBatch<I>, error: unknown): void {
    this.#abandoned(error)
    const later = this.#batch
    this.#batch = undefined
    for (const answer of [...batch.answers, ...(later?.answers ?? [])]) answer.settle(error)
  }
}

function stoppedError(): ConsensusError {
  return new ConsensusError(ConsensusErrorCode.STOPPED, 'the node stopped before the frame was journalled')
}
