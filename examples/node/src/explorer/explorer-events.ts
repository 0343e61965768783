/**
 * The explorer's live events: what happens on the node, fanned out to every open `GET /v1/events` stream.
 *   round        each certificate the node applies (consensus `onCertificate`), as the API's certificate view;
 *   transaction  each change of status of a transaction this node is party to (the tracker's `onChange`): its own
 *                proposals as they go pending (signed and sent), then agreed or refused (voided), then final; and
 *                another node's proposal to it once this node has agreed, then final;
 *   chain        this node's own chain grew (a proposal, an agreement or a checkpoint: `onChainGrowth`);
 *   consensus    the consensus stalled (no certified round for `consensus.stallReportAfterMs`) or certifies again.
 * A stream opens with `hello` (the node, its round and height, and since when it is stalled if it is) and gets a keep-alive comment every `keepAliveMs`.
 * Streams are capped (`maxStreams`; one more is refused with 503 until a slot frees) and each one's backlog is
 * bounded (see event-stream.ts). A stream ends when its request's signal aborts — the client went away, or the API
 * or the node is closing — so closing the node never waits on an open stream.
 */
import type { Readable } from 'node:stream'
import { toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock, transferOf } from '@constellation/trustchain'
import { ApiError, ApiErrorCode } from '../api/api-error.js'
import { certificateView } from '../api/views/certificate-view.js'
import type { TransactionState } from '../api/views/transaction-view.js'
import { errorFields } from '../log/logger.js'
import type { FullNode } from '../node/full-node.js'
import { EventStream, eventFrame, KEEP_ALIVE_COMMENT } from './event-stream.js'
import type { ExplorerEvent } from './explorer-views.js'

export interface ExplorerEventsOptions {
  /** Streams open at once, at most (default 32: a few browser tabs per person on a devnet). */
  readonly maxStreams?: number
  /** Between keep-alive comments (default 15 s). */
  readonly keepAliveMs?: number
  /** Bytes a stream may fall behind before its client is dropped (default 1 MiB: thousands of events). */
  readonly maxBufferedBytes?: number
}

export const DEFAULT_MAX_STREAMS = 32
export const DEFAULT_KEEP_ALIVE_MS = 15_000
export const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20

export class ExplorerEvents {
  readonly #node: FullNode
  readonly #log: FullNode['logger']
  readonly #maxStreams: number
  readonly #keepAliveMs: number
  readonly #maxBufferedBytes: number
  readonly #streams = new Set<EventStream>()
  readonly #unsubscribe: (() => void)[]
  #keepAlive: NodeJS.Timeout | undefined
  #closed = false

  constructor(node: FullNode, options: ExplorerEventsOptions = {}) {
    this.#node = node
    this.#log = node.logger.child({ module: 'explorer' })
    this.#maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS
    this.#keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES
    const self = node.id
    this.#unsubscribe = [
      node.consensus.onCertificate((certificate) => this.#publish(() => ({ kind: 'round', certificate: certificateView(node.crypto, certificate) }))),
      // The tracker follows both the node's own proposals and the ones it agreed to as counterparty.
      node.transactions.onChange((tracked) => this.#publish(() => transactionEvent(node, tracked.proposal, tracked.status))),
      node.onChainGrowth((height) => this.#publish(() => ({ kind: 'chain', publicKey: self, height }))),
      node.onStall((status) =>
        this.#publish(() => ({
          kind: 'consensus',
          stalled: status.stalled,
          ...(status.stalledSince === undefined ? {} : { stalledSince: status.stalledSince }),
        })),
      ),
    ]
  }

  /** Streams open now. */
  get streams(): number {
    return this.#streams.size
  }

  /**
   * A new stream that starts with `hello` and ends when `signal` aborts; 503 when the cap is reached or the explorer
   * has closed.
   */
  open(signal: AbortSignal): Readable {
    if (this.#closed || signal.aborted) throw new ApiError(ApiErrorCode.UNAVAILABLE, 'the node is closing')
    if (this.#streams.size >= this.#maxStreams)
      throw new ApiError(ApiErrorCode.UNAVAILABLE, `${this.#maxStreams} event streams are open already; try again later`)
    const stream = new EventStream(this.#maxBufferedBytes)
    this.#streams.add(stream)
    const end = () => stream.end()
    signal.addEventListener('abort', end, { once: true })
    stream.readable.once('close', () => {
      signal.removeEventListener('abort', end)
      this.#streams.delete(stream)
      if (this.#streams.size === 0) this.#stopKeepAlive()
    })
    const node = this.#node
    const { stalledSince } = node.status().consensus
    stream.send(
      eventFrame({
        kind: 'hello',
        nodeId: node.id,
        round: node.consensus.history.round,
        height: node.chain.head().sequenceNumber,
        ...(stalledSince === undefined ? {} : { stalledSince }),
      }),
    )
    this.#startKeepAlive()
    return stream.readable
  }

  /** Ends every stream and stops listening to the node. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const off of this.#unsubscribe) off()
    for (const stream of this.#streams) stream.end()
    this.#stopKeepAlive()
  }

  /** The event is built only when someone listens (a certificate's view encodes it). */
  #publish(event: () => ExplorerEvent): void {
    if (this.#streams.size === 0) return
    // Called from the node's listeners (certificates, transactions, chain growth): a failure to build an event is
    // logged here rather than thrown into the consensus or trustchain code that notified us.
    let frame: string
    try {
      frame = eventFrame(event())
    } catch (error) {
      this.#log.error(errorFields(error), 'an explorer event could not be built')
      return
    }
    for (const stream of this.#streams) stream.send(frame)
  }

  #startKeepAlive(): void {
    if (this.#keepAlive !== undefined) return
    this.#keepAlive = setInterval(() => {
      for (const stream of this.#streams) stream.send(KEEP_ALIVE_COMMENT)
    }, this.#keepAliveMs)
    this.#keepAlive.unref()
  }

  #stopKeepAlive(): void {
    clearInterval(this.#keepAlive)
    this.#keepAlive = undefined
  }
}

function transactionEvent(node: FullNode, proposal: HalfBlock, status: TransactionState): ExplorerEvent {
  return {
    kind: 'transaction',
    id: toHex(blockHash(node.crypto, proposal)),
    status,
    from: toHex(proposal.publicKey),
    to: toHex(proposal.linkPublicKey),
    amount: transferOf(proposal.type, proposal.payload)?.amount ?? 0,
  }
}
