/**
 * Listeners of one kind of node event (the own chain grew, the consensus stalled). A listener's failure is logged and
 * goes no further: it must not fail the checkpoint, the trustchain effect or the timer that reported the event.
 */
import { errorFields, type Logger } from '../log/logger.js'

export class ListenerSet<T> {
  readonly #listeners = new Set<(value: T) => void>()
  readonly #log: Logger
  readonly #what: string

  constructor(log: Logger, what: string) {
    this.#log = log
    this.#what = what
  }

  /** Adds `listener`; returns the function that removes it. */
  add(listener: (value: T) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  emit(value: T): void {
    for (const listener of this.#listeners) {
      try {
        listener(value)
      } catch (error) {
        this.#log.error(errorFields(error), `a ${this.#what} listener failed`)
      }
    }
  }
}
