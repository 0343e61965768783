/** A minimal typed listener list; a throwing listener does not stop the others. */
export class Listeners<E> {
  readonly #listeners = new Set<(event: E) => void>()

  add(listener: (event: E) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  emit(event: E): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }
}
