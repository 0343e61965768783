/**
 * The soak's load: single transfers (`POST /v1/transactions`) between random pairs of nodes, each under its own
 * `Idempotency-Key`, and a record of every one — what was asked and what the node answered. The node writes a digest
 * of the key into the proposal it signs (its `reference`, node/idempotency.ts), so after the run the invariant
 * checker finds in the chains exactly which transfers were signed, whatever their answer said, and can hold every
 * answer to what happened.
 *
 * Transfers go only from nodes that are up (the runner marks a node down while it is killed or restarting); any node
 * can be the counterparty, so transfers to a node that is down or paused are part of the load.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { type Crypto, toHex } from '@constellation/crypto'
import type { Random } from '@constellation/gossip'
import { referenceOf } from '../node/idempotency.js'
import type { SoakLoad } from './soak-manifest.js'

/** What the node answered, in the terms the checker holds it to. */
export type TransferAnswer =
  /** 201: the counterparty agreed. Must be final on both sides after the run. */
  | 'agreed'
  /** 202: signed, no answer yet. May end agreed or refused; never an error. */
  | 'pending'
  /** 200: a replay of an earlier request with the key (not expected: each key is sent once). */
  | 'replayed'
  /** 422 REFUSED: the counterparty refused and the proposal was voided. Nothing may move. */
  | 'refused'
  /** Any other error answer (BUSY, INSUFFICIENT_FUNDS, UNAVAILABLE…): nothing was signed. Nothing may move. */
  | 'rejected'
  /** The connection was refused: the request never reached a node. Nothing may move. */
  | 'not-sent'
  /** The request reached the node (or may have) and no answer came: the checker finds out from the chains. */
  | 'no-answer'

export interface TransferRecord {
  /** The Idempotency-Key. */
  readonly key: string
  /** The reference the node writes into the proposal it signs for this key (hex). */
  readonly reference: string
  readonly from: number
  readonly to: number
  readonly amount: number
  /** Since the load started. */
  readonly sentAtMs: number
  answer?: TransferAnswer
  /** The HTTP status (0 without an answer). */
  status?: number
  /** The error code of an error answer, or the socket error's code. */
  code?: string
  /** The error answer's message (its start). */
  message?: string
  /** The transaction id (the proposal's hash) when the answer named one. */
  id?: string
}

/** What the load needs of a node at the moment it sends: where its API is and its current token, or undefined when down. */
export interface LoadEndpoint {
  readonly url: string
  readonly token: string
}

export interface SoakLoadOptions {
  readonly load: SoakLoad
  readonly durationMs: number
  /** Hex public keys of the nodes, by index. */
  readonly ids: readonly string[]
  /** Node `i`'s API now, or undefined while it is down. */
  readonly endpoint: (index: number) => LoadEndpoint | undefined
  readonly random: Random
  readonly crypto: Crypto
  /** Names the keys, so two runs never share one. */
  readonly runId: string
  readonly signal?: AbortSignal
}

/** An answer that does not come in this long is recorded as `no-answer` (a paused node holds requests). */
const REQUEST_TIMEOUT_MS = 30_000
const OPEN_LOOP_TICK_MS = 50
/** Open loop: transfers in flight at most; those due beyond it are shed (counted, not sent). */
const MAX_IN_FLIGHT = 512
/** A closed-loop worker with no node up waits this long before looking again. */
const IDLE_MS = 100
/** Characters kept of an error answer's message. */
const MESSAGE_KEPT = 160

export class SoakLoadRun {
  readonly records: TransferRecord[] = []
  shed = 0
  startedAt = 0
  endedAt = 0
  #inFlight = 0
  readonly #options: SoakLoadOptions

  constructor(options: SoakLoadOptions) {
    if (options.ids.length < 2) throw new RangeError('a load of transfers needs at least two nodes')
    this.#options = options
  }

  async run(): Promise<void> {
    const { load, signal } = this.#options
    this.startedAt = performance.now()
    const deadline = this.startedAt + this.#options.durationMs
    const running = () => performance.now() < deadline && signal?.aborted !== true
    const sleep = (ms: number) =>
      delay(Math.max(0, Math.min(ms, deadline - performance.now())), undefined, signal === undefined ? {} : { signal }).catch(() => {})
    if (load.kind === 'closed') {
      await Promise.all(
        Array.from({ length: load.concurrency }, async () => {
          while (running()) {
            if (!(await this.#sendOne())) await sleep(IDLE_MS)
          }
        }),
      )
    } else {
      const outstanding = new Set<Promise<unknown>>()
      let due = 0
      while (running()) {
        const target = Math.floor(((performance.now() - this.startedAt) * load.transfersPerSecond) / 1_000)
        for (; due < target; due++) {
          if (this.#inFlight >= MAX_IN_FLIGHT) {
            this.shed++
            continue
          }
          const sending = this.#sendOne()
          outstanding.add(sending)
          void sending.finally(() => outstanding.delete(sending))
        }
        await sleep(OPEN_LOOP_TICK_MS)
      }
      await Promise.all(outstanding)
    }
    this.endedAt = performance.now()
  }

  /** One transfer from a random node that is up to a random other node; false when no node is up to send from. */
  async #sendOne(): Promise<boolean> {
    const { ids, random, endpoint, crypto, runId } = this.#options
    const from = random.int(ids.length)
    const to = (from + 1 + random.int(ids.length - 1)) % ids.length
    const amount = 1 + random.int(3)
    const api = endpoint(from)
    if (api === undefined) return false
    const key = `${runId}-${this.records.length}`
    const record: TransferRecord = {
      key,
      reference: toHex(referenceOf(crypto, key)),
      from,
      to,
      amount,
      sentAtMs: Math.round(performance.now() - this.startedAt),
    }
    this.records.push(record)
    this.#inFlight++
    try {
      Object.assign(record, await submit(api, key, ids[to] as string, amount))
    } finally {
      this.#inFlight--
    }
    return true
  }
}

/** One `POST /v1/transactions`; its outcome as a record's answer fields. Never throws. */
async function submit(
  api: LoadEndpoint,
  key: string,
  to: string,
  amount: number,
): Promise<Pick<TransferRecord, 'answer' | 'status' | 'code' | 'message' | 'id'>> {
  let response: Response
  try {
    response = await fetch(`${api.url}/v1/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ to, amount }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (error) {
    const code = socketErrorCode(error)
    return { answer: code === 'ECONNREFUSED' ? 'not-sent' : 'no-answer', status: 0, code }
  }
  let body: unknown
  try {
    body = await response.json()
  } catch (error) {
    // The answer was cut off (the node died while answering): what it said is unknown.
    return { answer: 'no-answer', status: response.status, code: socketErrorCode(error) }
  }
  const status = response.status
  if (status === 201 || status === 202 || status === 200) {
    const id = idOf(body)
    return { answer: status === 201 ? 'agreed' : status === 202 ? 'pending' : 'replayed', status, ...(id === undefined ? {} : { id }) }
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; transaction?: unknown } } | undefined)?.error
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`
  const message = typeof error?.message === 'string' ? error.message.slice(0, MESSAGE_KEPT) : undefined
  const id = idOf(error?.transaction)
  return {
    answer: code === 'REFUSED' ? 'refused' : 'rejected',
    status,
    code,
    ...(message === undefined ? {} : { message }),
    ...(id === undefined ? {} : { id }),
  }
}

function idOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | undefined)?.id
  return typeof id === 'string' && /^[0-9a-f]{64}$/.test(id) ? id : undefined
}

/** ECONNREFUSED, ECONNRESET, TimeoutError…: what fetch's error (or its cause) says. */
function socketErrorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause
  if (typeof cause?.code === 'string') return cause.code
  const code = (error as { code?: unknown } | undefined)?.code
  if (typeof code === 'string') return code
  return (error as Error | undefined)?.name ?? 'ERROR'
}

/** Counts of the records by answer. */
export function answerCounts(records: readonly TransferRecord[]): Record<TransferAnswer, number> {
  const counts: Record<TransferAnswer, number> = { agreed: 0, pending: 0, replayed: 0, refused: 0, rejected: 0, 'not-sent': 0, 'no-answer': 0 }
  for (const record of records) if (record.answer !== undefined) counts[record.answer]++
  return counts
}
