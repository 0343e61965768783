/**
 * The explorer's live connection to the node: an EventSource on /v1/events whose events (`hello`, `round`,
 * `transaction`, `chain`, `consensus`) are handed to the views that listen. A lost stream is closed and opened again after a
 * backoff (model/reconnect.ts) rather than left to the browser, whose EventSource gives up for good on an HTTP
 * error — a node restarting answers 503 or nothing for a moment, and the page should come back by itself.
 */
import { reconnectDelay } from '../model/reconnect.js'
import type { ExplorerEvent } from './api-types.js'

export type LiveState = 'connecting' | 'live' | 'reconnecting'

const EVENT_KINDS: readonly ExplorerEvent['kind'][] = ['hello', 'round', 'transaction', 'chain', 'consensus']

function parseEvent(kind: ExplorerEvent['kind'], data: string): ExplorerEvent | undefined {
  try {
    const value: unknown = JSON.parse(data)
    if (typeof value !== 'object' || value === null) return undefined
    // The payload's own `kind` is the SSE event name; one that disagrees is not trusted.
    const named = (value as { kind?: unknown }).kind
    return named === undefined || named === kind ? ({ ...value, kind } as ExplorerEvent) : undefined
  } catch {
    return undefined
  }
}

export class LiveStream {
  readonly #url: string
  readonly #listeners = new Set<(event: ExplorerEvent) => void>()
  readonly #stateListeners = new Set<(state: LiveState) => void>()
  #source: EventSource | undefined
  #retry: ReturnType<typeof setTimeout> | undefined
  #attempt = 0
  #state: LiveState = 'connecting'
  #closed = false

  constructor(url = '/v1/events') {
    this.#url = url
  }

  get state(): LiveState {
    return this.#state
  }

  start(): void {
    this.#closed = false
    this.#open()
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#retry)
    this.#source?.close()
    this.#source = undefined
  }

  /** Calls `listener` with every event until the returned function is called. */
  subscribe(listener: (event: ExplorerEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  onState(listener: (state: LiveState) => void): () => void {
    this.#stateListeners.add(listener)
    return () => this.#stateListeners.delete(listener)
  }

  #setState(state: LiveState): void {
    if (state === this.#state) return
    this.#state = state
    for (const listener of this.#stateListeners) listener(state)
  }

  #open(): void {
    const source = new EventSource(this.#url)
    this.#source = source
    source.onopen = () => {
      this.#attempt = 0
      this.#setState('live')
    }
    source.onerror = () => {
      source.close()
      if (this.#source !== source || this.#closed) return
      this.#source = undefined
      this.#setState('reconnecting')
      this.#attempt += 1
      this.#retry = setTimeout(() => this.#open(), reconnectDelay(this.#attempt, Math.random()))
    }
    for (const kind of EVENT_KINDS) {
      source.addEventListener(kind, (message: MessageEvent<string>) => {
        const event = parseEvent(kind, message.data)
        if (event !== undefined) for (const listener of this.#listeners) listener(event)
      })
    }
  }
}
