/**
 * The simulator's agenda: a binary min-heap of events ordered by (time, insertion order). Breaking ties by
 * insertion order is what makes a run reproducible: two events at the same virtual instant always run in the
 * order they were scheduled.
 */
export interface ScheduledEvent {
  readonly time: number
  readonly order: number
  readonly run: () => void
  /** Position in the heap, -1 once popped or removed: lets a cancelled timer leave the agenda at once. */
  position: number
  /** Maintenance (e.g. periodic anti-entropy) that alone does not keep a run going. */
  readonly background: boolean
}

export class EventQueue {
  readonly #heap: ScheduledEvent[] = []
  #order = 0
  #foreground = 0

  get size(): number {
    return this.#heap.length
  }

  /** Events on the agenda that are not background maintenance. */
  get foreground(): number {
    return this.#foreground
  }

  push(time: number, run: () => void, background = false): ScheduledEvent {
    const event: ScheduledEvent = { time, order: this.#order++, run, position: this.#heap.length, background }
    if (!background) this.#foreground++
    this.#heap.push(event)
    this.#up(event.position)
    return event
  }

  peek(): ScheduledEvent | undefined {
    return this.#heap[0]
  }

  pop(): ScheduledEvent | undefined {
    const top = this.#heap[0]
    if (top !== undefined) this.remove(top)
    return top
  }

  /** Takes an event off the agenda; a no-op when it already ran or was removed. */
  remove(event: ScheduledEvent): void {
    const heap = this.#heap
    const i = event.position
    if (i < 0 || heap[i] !== event) return
    event.position = -1
    if (!event.background) this.#foreground--
    const last = heap.pop() as ScheduledEvent
    if (i === heap.length) return
    heap[i] = last
    last.position = i
    this.#down(i)
    this.#up(last.position)
  }

  #up(start: number): void {
    const heap = this.#heap
    const event = heap[start] as ScheduledEvent
    let i = start
    while (i > 0) {
      const parent = (i - 1) >> 1
      const above = heap[parent] as ScheduledEvent
      if (!before(event, above)) break
      heap[i] = above
      above.position = i
      i = parent
    }
    heap[i] = event
    event.position = i
  }

  #down(start: number): void {
    const heap = this.#heap
    const event = heap[start] as ScheduledEvent
    const n = heap.length
    let i = start
    while (true) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && before(heap[right] as ScheduledEvent, heap[left] as ScheduledEvent) ? right : left
      const below = heap[child] as ScheduledEvent
      if (!before(below, event)) break
      heap[i] = below
      below.position = i
      i = child
    }
    heap[i] = event
    event.position = i
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.order < b.order)
}
